import { DvsError } from '../errors.js';
import type { LineageShowResult } from '../ops/history/lineage.js';
import type { TransformResult } from '../ops/history/transform.js';
import { repeatable, single } from './options.js';
import { defineCommand } from './types.js';

export interface LineageArgs {
  action: 'show' | 'record';
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
}

export type LineageCommandResult = ({ action: 'show' } & LineageShowResult) | ({ action: 'record' } & TransformResult);

export const lineageCommand = defineCommand<LineageArgs, LineageCommandResult>({
  name: 'lineage',
  command: 'lineage <action> [path]',
  describe: 'Show how a dataset version was made, or record a transform that ran elsewhere',
  builder: (y) =>
    y
      .positional('action', { choices: ['show', 'record'] as const, describe: 'show <path>: walk back to the raw sources; record: like dvs transform, without running anything' })
      .positional('path', { type: 'string', describe: 'show: the dataset (data path or pointer)' })
      .option('rev', single('string', 'show: read the pointers at this revision (no checkout)'))
      .option('mermaid', { type: 'boolean', default: false, describe: 'show: print a Mermaid graph (pull requests render it)' })
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
      .example('dvs lineage record --name tok -i clean.csv -o tokens --command "spark-submit tok.py"', 'a transform that ran on a cluster'),
  async run(args, env) {
    const ops = await import('../ops/history/lineage.js');
    if (args.action === 'show') {
      if (!args.path) throw new DvsError('NO_TARGET', 'Name the dataset: dvs lineage show <path>');
      return { action: 'show', ...(await ops.lineageShow(await env.context(), { target: args.path, rev: args.rev })) };
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
      })),
    };
  },
});
