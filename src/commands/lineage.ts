import { DvsError } from '../errors.js';
import type { LineageShowResult, LineageTraceResult } from '../ops/history/lineage.js';
import type { TransformResult } from '../ops/history/transform.js';
import { repeatable, single } from './options.js';
import { defineCommand } from './types.js';

export interface LineageArgs {
  action: 'show' | 'record' | 'trace';
  path?: string;
  rev?: string;
  mermaid: boolean;
  md: boolean;
  name?: string;
  input?: string[];
  output?: string[];
  param?: string[];
  command?: string;
  started?: string;
  duration?: number;
  commit?: string;
  row?: number;
  key?: string;
  source?: string;
  'row-id'?: string;
  'row-index': boolean;
}

export type LineageCommandResult = ({ action: 'show' } & LineageShowResult) | ({ action: 'record' } & TransformResult) | ({ action: 'trace' } & LineageTraceResult);

export const lineageCommand = defineCommand<LineageArgs, LineageCommandResult>({
  name: 'lineage',
  command: 'lineage <action> [path]',
  describe: 'Show how a dataset version was made, or record a transform that ran elsewhere',
  builder: (y) =>
    y
      .positional('action', { choices: ['show', 'record', 'trace'] as const, describe: 'show <path>: walk back to the raw sources; record: like dvs transform, without running anything; trace <path>: one row back to its source line' })
      .positional('path', { type: 'string', describe: 'show, trace: the dataset (data path or pointer)' })
      .option('rev', single('string', 'show, trace: read the pointers at this revision (no checkout)'))
      .option('mermaid', { type: 'boolean', default: false, describe: 'show, trace: print a Mermaid graph (pull requests render it)' })
      .option('row', single('number', 'trace: the row, counted from 1 (header excluded)'))
      .option('key', single('string', 'trace: the first row whose column has this value, column=value'))
      .option('source', single('string', 'trace: follow a row of this source dataset forward, to where it ended up'))
      .option('row-id', single('string', 'record: name rows by this column instead of their content'))
      .option('row-index', { type: 'boolean', default: true, describe: 'record: record a row index for tabular outputs (--no-row-index to skip)' })
      .option('md', { type: 'boolean', default: false, describe: 'show: markdown, with the Mermaid graph and a table of the steps' })
      .option('name', single('string', 'record: the transform type'))
      .option('input', repeatable('record: tracked data it read', { alias: 'i' }))
      .option('output', repeatable('record: data it wrote, tracked now', { alias: 'o' }))
      .option('param', repeatable('record: a parameter, key=value', { alias: 'p' }))
      .option('command', single('string', 'record: the command that ran'))
      .option('started', single('string', 'record: when it started (ISO 8601)'))
      .option('duration', single('number', 'record: how long it ran, in seconds'))
      .option('commit', single('string', 'record: the code commit it ran at (default HEAD)'))
      .example('dvs lineage show data/clean.csv', 'from this version back to the raw sources, step by step')
      .example('dvs lineage show data/clean.csv --rev v1.0 --md', 'the lineage at tag v1.0, as markdown for a pull request')
      .example('dvs lineage trace data/clean.jsonl --row 12', 'which source line row 12 came from, and through which steps')
      .example('dvs lineage trace --source raw/cc.jsonl --row 18233', 'where a source row ended up, or which step dropped it')
      .example('dvs lineage record --name tok -i clean.csv -o tokens --command "spark-submit tok.py"', 'a transform that ran on a cluster'),
  async run(args, env) {
    const ops = await import('../ops/history/lineage.js');
    if (args.action === 'show') {
      if (!args.path) throw new DvsError('NO_TARGET', 'Name the dataset: dvs lineage show <path>');
      return { action: 'show', ...(await ops.lineageShow(await env.context(), { target: args.path, rev: args.rev })) };
    }
    if (args.action === 'trace') {
      return { action: 'trace', ...(await ops.lineageTrace(await env.context(), { target: args.path, source: args.source, row: args.row, key: args.key, rev: args.rev })) };
    }
    if (args.path) throw new DvsError('UNEXPECTED_ARGUMENT', `dvs lineage record takes no path (${args.path}); name data with --input and --output`);
    if (!args.name) throw new DvsError('NO_NAME', 'Name the transform type with --name', { hint: 'dvs lineage record --name filter --input raw.csv --output clean.csv --command "spark-submit filter.py"' });
    return {
      action: 'record',
      ...(await ops.recordLineage(await env.context(), {
        name: args.name,
        inputs: args.input ?? [],
        outputs: args.output ?? [],
        params: args.param,
        command: args.command,
        started: args.started,
        duration: args.duration,
        commit: args.commit,
        rowId: args['row-id'],
        rowIndex: args['row-index'],
      })),
    };
  },
});
