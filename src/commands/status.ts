import { remoteFlag } from './push.js';
import { lastValue, variadic } from './options.js';
import { defineCommand } from './types.js';
import type { RemoteStatusResult } from '../ops/remote/status.js';
import type { StatusResult } from '../ops/data/status.js';

export interface StatusArgs {
  paths?: string[];
  granular: boolean;
  exitCode: boolean;
  remote?: string;
}

export const statusCommand = defineCommand<StatusArgs, StatusResult | RemoteStatusResult>({
  name: 'status',
  command: 'status [paths..]',
  describe: 'Compare the workspace and the cache with the pointers',
  builder: (y) =>
    y
      .positional('paths', variadic('limit to these tracked paths'))
      .option('granular', { type: 'boolean', default: false, describe: 'list the files added, deleted and modified inside directories' })
      .option('exit-code', { type: 'boolean', default: false, describe: 'exit with 1 when anything differs' })
      .option('remote', { alias: 'r', type: 'string', coerce: lastValue, describe: 'compare with a remote instead (default remote if no name): what is not pushed, what is in neither place' })
      .example('dvs status', 'is the workspace what the pointers say?')
      .example('dvs status --granular data/train', 'which files inside data/train were added, deleted or modified')
      .example('dvs status --remote', 'what is not pushed to the default remote yet'),
  async run(args, env) {
    const { remote, paths } = await remoteFlag(env, args.remote, args.paths);
    if (remote !== undefined) {
      const { remoteStatus } = await import('../ops/remote/status.js');
      return remoteStatus(await env.context(), { targets: paths, remote: remote === true ? undefined : remote });
    }
    const { status } = await import('../ops/data/status.js');
    return status(await env.context(), { targets: paths });
  },
});
