import { defineCommand } from './types.js';
import type { MoveResult } from '../ops/data/move.js';

export const moveCommand = defineCommand<{ source: string; destination: string }, MoveResult>({
  name: 'move',
  command: 'move <source> <destination>',
  aliases: ['mv'],
  describe: 'Rename tracked data and its pointer together; update .gitignore and lineage; stage it',
  builder: (y) =>
    y
      .positional('source', { type: 'string', describe: 'tracked data, or its pointer (data.dvs)' })
      .positional('destination', { type: 'string', describe: 'the new path, or a folder to move it into (an existing one, or any ending in /)' })
      .example('dvs move data/train data/train-v1', 'rename the data and data/train.dvs; stage the rename')
      .example('dvs mv model.bin models/', 'move model.bin and its pointer into the folder models/'),
  async run(args, env) {
    const { move } = await import('../ops/data/move.js');
    return move(await env.context(), { source: args.source, destination: args.destination });
  },
});
