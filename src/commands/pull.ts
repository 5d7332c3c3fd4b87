import { defineCommand } from './types.js';
import type { PullResult } from '../ops/remote/pull.js';
import { transferExamples, transferOptions, transferScope, type TransferArgs } from './push.js';

export const pullCommand = defineCommand<TransferArgs & { force: boolean; allowMissing: boolean }, PullResult>({
  name: 'pull',
  command: 'pull [paths..]',
  describe: 'Fetch what the pointers need, then check it out',
  builder: (y) =>
    transferExamples('pull')(
      transferOptions(y)
        .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'checkout: overwrite workspace data that is not saved in the cache' })
        .option('allow-missing', { type: 'boolean', default: false, describe: 'objects missing on the remote do not fail the pull: the rest is pulled, the missing ones listed as warnings' }),
    ),
  async run(args, env) {
    const { pull } = await import('../ops/remote/pull.js');
    return pull(await env.context(), { ...transferScope(args), force: args.force, allowMissing: args.allowMissing });
  },
});
