import { DvsError } from '../errors.js';
import { single } from './options.js';
import { defineCommand } from './types.js';
import type { CheckpointListResult, CheckpointResult } from '../ops/data/checkpoint.js';

interface CheckpointArgs {
  path?: string;
  message?: string;
  list: boolean;
}

export const checkpointCommand = defineCommand<CheckpointArgs, CheckpointResult | CheckpointListResult>({
  name: 'checkpoint',
  command: 'checkpoint [path]',
  describe: 'Track an append-only directory and mark the version as a checkpoint (with the files added since the last one)',
  builder: (y) =>
    y
      .positional('path', { type: 'string', describe: 'an append-only tracked directory (dvs track --append-only)' })
      .option('message', single('string', 'what the checkpoint marks', { alias: 'm' }))
      .option('list', { alias: 'l', type: 'boolean', default: false, describe: 'list the checkpoints (of the path, or of every directory) instead, oldest first' })
      .example('dvs checkpoint data/stream -m "September dump complete"', 'refuse changed files, hash the new ones, stage data/stream.dvs and the checkpoint event')
      .example('dvs checkpoint --list data/stream', 'every checkpoint of data/stream in the audit trail, from all merged branches'),
  async run(args, env) {
    const ops = await import('../ops/data/checkpoint.js');
    if (args.list) {
      if (args.message !== undefined) throw new DvsError('UNEXPECTED_OPTION', '-m/--message does not go with --list', { hint: 'List with: dvs checkpoint --list data/stream' });
      return ops.checkpointList(await env.context(), { target: args.path });
    }
    if (args.path === undefined) throw new DvsError('NO_TARGETS', 'Name the append-only directory to checkpoint', { hint: 'dvs checkpoint data/stream -m "what it marks"' });
    if (args.message === undefined) throw new DvsError('CHECKPOINT_MESSAGE', 'A checkpoint needs a message (-m)', { hint: `dvs checkpoint ${args.path} -m "what it marks"` });
    return ops.checkpoint(await env.context(), { target: args.path, message: args.message });
  },
});
