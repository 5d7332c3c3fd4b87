import { single } from './options.js';
import { defineCommand } from './types.js';
import type { RecordHashResult } from '../ops/data/record-hash.js';
import { DvsError } from '../errors.js';

export interface HashArgs {
  path: string;
  records: boolean;
  ordered: boolean;
  rev?: string;
}

export const hashCommand = defineCommand<HashArgs, RecordHashResult>({
  name: 'hash',
  command: 'hash <path>',
  describe: 'A hash of the records of tabular data, the same in any files and formats (docs/record-hash.md)',
  builder: (y) =>
    y
      .positional('path', { type: 'string', describe: 'a CSV, TSV, JSON Lines or Parquet file, or a directory of them' })
      .option('records', { type: 'boolean', default: false, describe: 'hash the records, not the bytes: the same for one file or many partitions, CSV or Parquet (required)' })
      .option('ordered', { type: 'boolean', default: false, describe: 'the order of the rows counts (default: the multiset of rows; files in path order)' })
      .option('rev', single('string', 'hash the tracked version at this revision (objects come from the cache or the default remote)'))
      .example('dvs hash --records data/train', 'one digest for the rows of data/train, whatever files hold them')
      .example('dvs hash --records --rev HEAD~1 data/train.parquet', 'the same at the previous commit: compare with data/train.csv to see a conversion kept every row'),
  async run(args, env) {
    if (!args.records) {
      throw new DvsError('USAGE', 'dvs hash needs --records: it hashes the records of tabular data (byte hashes are in the pointers)', {
        hint: `dvs hash --records ${args.path}`,
      });
    }
    const { recordHash } = await import('../ops/data/record-hash.js');
    return recordHash(await env.context(), { path: args.path, ordered: args.ordered, rev: args.rev });
  },
});
