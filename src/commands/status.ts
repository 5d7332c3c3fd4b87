import { remoteFlag } from './push.js';
import { defineCommand } from './types.js';
import type { RemoteStatusResult } from '../ops/remote-status.js';
import type { StatusResult } from '../ops/status.js';

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
      .positional('paths', { type: 'string', array: true, describe: 'limit to these tracked paths' })
      .option('granular', { type: 'boolean', default: false, describe: 'list the files added, removed and modified inside directories' })
      .option('exit-code', { type: 'boolean', default: false, describe: 'exit with 1 when anything differs' })
      .option('remote', { alias: 'r', type: 'string', describe: 'compare with a remote instead (default remote if no name): what is not pushed, what is in neither place' }),
  async run(args, env) {
    const { status } = await import('../ops/status.js');
    const { remote, paths } = await remoteFlag(env, args.remote, args.paths);
    return status(await env.context(), { targets: paths, remote });
  },
});
