import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { RemoveResult } from '../ops/data/remove.js';

export const removeCommand = defineCommand<{ pointers: string[] }, RemoveResult>({
  name: 'remove',
  command: 'remove <pointers..>',
  aliases: ['rm'],
  describe: 'Stop tracking data: delete its pointer and .gitignore entry, keep the data',
  builder: (y) =>
    y
      .positional('pointers', variadic('pointer files (data.dvs) or data paths'))
      .example('dvs remove data/train.dvs', 'stop versioning data/train (staged); the data stays where it is'),
  async run(args, env) {
    const { remove } = await import('../ops/data/remove.js');
    return remove(await env.context(), { targets: args.pointers });
  },
});
