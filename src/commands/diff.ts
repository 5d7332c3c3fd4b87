import { defineCommand } from './types.js';
import type { DiffResult } from '../ops/diff.js';

export interface DiffArgs {
  revA?: string;
  revB?: string;
  targets?: string[];
  content?: boolean;
  rows?: number;
  key?: string;
  md: boolean;
  exitCode: boolean;
}

export const diffCommand = defineCommand<DiffArgs, DiffResult>({
  name: 'diff',
  command: 'diff [rev-a] [rev-b]',
  describe: 'What changed in the data between two revisions (default: HEAD and the workspace)',
  builder: (y) =>
    y
      .positional('rev-a', { type: 'string', describe: 'older revision (default HEAD)' })
      .positional('rev-b', { type: 'string', describe: 'newer revision (default: the workspace)' })
      .option('targets', { alias: 't', type: 'string', array: true, describe: 'limit to these paths (tracked data or paths inside it)' })
      .option('content', { type: 'boolean', describe: 'compare contents of CSV/TSV/JSONL/Parquet: schema, statistics, rows (default: config diff.content)' })
      .option('rows', { type: 'number', describe: 'content diff: sample size of added and removed rows (default 5)' })
      .option('key', { type: 'string', describe: 'content diff: match rows by this column and show changed cells' })
      .option('md', { type: 'boolean', default: false, describe: 'GitHub-flavoured markdown, for a pull-request comment' })
      .option('exit-code', { type: 'boolean', default: false, describe: 'exit with 1 when there is a difference' }),
  async run(args, env) {
    const { diff } = await import('../ops/diff.js');
    const ctx = await env.context();
    const content = args.content ?? (args.rows !== undefined || args.key !== undefined || ctx.repo.config.bool('diff.content'));
    return diff(ctx, { revA: args.revA, revB: args.revB, targets: args.targets, content, rows: args.rows, key: args.key });
  },
});
