import { defineCommand } from './types.js';
import type { StatusResult } from '../ops/status.js';

export interface StatusArgs {
  paths?: string[];
  granular: boolean;
  exitCode: boolean;
  remote?: string;
}

export const statusCommand = defineCommand<StatusArgs, StatusResult>({
  name: 'status',
  command: 'status [paths..]',
  describe: 'Compare the workspace and the cache with the pointers',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'limit to these tracked paths' })
      .option('granular', { type: 'boolean', default: false, describe: 'list the files added, removed and modified inside directories' })
      .option('exit-code', { type: 'boolean', default: false, describe: 'exit with 1 when anything differs' }),
  async run(args, env) {
    const { status } = await import('../ops/status.js');
    return status(await env.context(), { targets: args.paths });
  },
});
