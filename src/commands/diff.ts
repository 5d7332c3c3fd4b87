import { repeatable, single } from './options.js';
import { defineCommand } from './types.js';
import type { DiffResult } from '../ops/data/diff.js';

export interface DiffArgs {
  revA?: string;
  revB?: string;
  targets?: string[];
  content?: boolean;
  rows?: number;
  key?: string;
  normalizeNumbers?: boolean;
  md: boolean;
  html?: string;
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
      // One path per -t: DVC's --targets takes every word after it, which would swallow the revisions.
      .option('targets', repeatable('limit to this path: tracked data or a path inside it', { alias: 't' }))
      .option('content', { type: 'boolean', describe: 'compare contents of CSV/TSV/JSONL/Parquet: schema, statistics, rows (default: config diff.content)' })
      .option('rows', single('number', 'content diff: sample size of added and removed rows (default 5)'))
      .option('key', single('string', 'content diff: match rows by this column and show changed cells'))
      .option('normalize-numbers', { type: 'boolean', describe: 'content diff: compare CSV/TSV numbers by value, so 1 and 1.0 are the same cell' })
      .option('md', { type: 'boolean', default: false, describe: 'GitHub-flavoured markdown, for a pull-request comment' })
      .option('html', single('string', 'content diff: also write a self-contained HTML report (histograms, top values, rows) to this file'))
      .option('exit-code', { type: 'boolean', default: false, describe: 'exit with 1 when there is a difference' })
      .example('dvs diff', 'what changed in the workspace since HEAD')
      .example('dvs diff HEAD~1 HEAD --md -t data/train', 'the last commit\'s changes to data/train, as a pull-request table')
      .example('dvs diff main feature --key id --html report.html', 'tabular files too, rows matched by their id column; pictures in report.html'),
  async run(args, env) {
    const { diff } = await import('../ops/data/diff.js');
    const ctx = await env.context();
    const content = args.content ?? (args.rows !== undefined || args.key !== undefined || args.html !== undefined || args.normalizeNumbers === true || ctx.repo.config.bool('diff.content'));
    return diff(ctx, { revA: args.revA, revB: args.revB, targets: args.targets, content, rows: args.rows, key: args.key, normalizeNumbers: args.normalizeNumbers });
  },
});
