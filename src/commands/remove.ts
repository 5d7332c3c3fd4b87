import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { RemoveResult } from '../ops/data/remove.js';

export const removeCommand = defineCommand<{ pointers: string[]; outs: boolean; force: boolean }, RemoveResult>({
  name: 'remove',
  command: 'remove <pointers..>',
  aliases: ['rm'],
  describe: 'Stop tracking data (or a path inside a tracked directory); keep the data unless --outs',
  builder: (y) =>
    y
      .positional('pointers', variadic('pointer files (data.dvs), data paths, or paths inside a tracked directory'))
      .option('outs', { type: 'boolean', default: false, describe: 'also delete the data from the workspace, if its content is safe in the cache' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'with --outs: delete data whose content is not in the cache too' })
      .example('dvs remove data/train.dvs', 'stop versioning data/train (staged); the data stays where it is')
      .example('dvs remove data/train/bad-part.csv', 'drop one file from data/train\'s manifest; rewrite and stage data/train.dvs')
      .example('dvs remove --outs model.bin', 'stop versioning model.bin and delete it (refused if its content is not in the cache)'),
  async run(args, env) {
    const { remove } = await import('../ops/data/remove.js');
    return remove(await env.context(), { targets: args.pointers, outs: args.outs, force: args.force });
  },
});
