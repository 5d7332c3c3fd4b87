import { DvsError } from '../errors.js';
import type { RunCompareResult } from '../ops/history/run-compare.js';
import type { RunListResult, RunShowResult } from '../ops/history/run-show.js';
import type { RunWriteResult } from '../ops/history/run-start.js';
import { repeatable, single, variadic } from './options.js';
import { defineCommand } from './types.js';

type Action = 'start' | 'finish' | 'list' | 'show' | 'compare';

export interface RunArgs {
  action: Action;
  runs?: string[];
  model?: string;
  dataset?: string[];
  param?: string[];
  metric?: string[];
  rev?: string;
  content: boolean;
  rows: number;
  md: boolean;
  html?: string;
}

export type RunCommandResult =
  | ({ action: 'start' | 'finish' } & RunWriteResult)
  | ({ action: 'list' } & RunListResult)
  | ({ action: 'show' } & RunShowResult)
  | ({ action: 'compare' } & RunCompareResult);

const USAGE: Record<Action, string> = {
  start: 'dvs run start <id> --model <name> [--dataset <path>]... [--param k=v]...',
  finish: 'dvs run finish <id> --metric k=v [--metric k=v]...',
  list: 'dvs run list [--rev <rev>]',
  show: 'dvs run show <id>[@<rev>]',
  compare: 'dvs run compare <a>[@<rev>] <b>[@<rev>]',
};

function expectRuns(args: RunArgs, n: number): string[] {
  const runs = (args.runs ?? []).map(String);
  if (runs.length !== n) {
    throw new DvsError('RUN_ARGUMENTS', `dvs run ${args.action} takes ${n === 0 ? 'no run' : n === 1 ? 'one run' : `${n} runs`}${runs.length ? ` (got ${runs.join(' ')})` : ''}`, { hint: `Usage: ${USAGE[args.action]}` });
  }
  return runs;
}

export const runCommand = defineCommand<RunArgs, RunCommandResult>({
  name: 'run',
  command: 'run <action> [runs..]',
  describe: 'Record training runs (datasets, code, parameters, hardware, metrics) and compare them',
  builder: (y) =>
    y
      .usage(`${Object.values(USAGE).join('\n')}\n\nA run record (.dvs/runs/<id>.yaml, committed) names the exact dataset versions a model trained on, their lineage, the code commit, hyperparameters, hardware and metrics.`)
      .parserConfiguration({ 'parse-positional-numbers': false })
      .positional('action', { choices: ['start', 'finish', 'list', 'show', 'compare'] as const, describe: 'what to do' })
      .positional('runs', variadic('run ids; <id>@<rev> reads a run from Git without a checkout'))
      .option('model', single('string', 'start: the model trained'))
      .option('dataset', repeatable('start: tracked data the run trains on', { alias: 'd' }))
      .option('param', repeatable('start: a hyperparameter, key=value', { alias: 'p' }))
      .option('metric', repeatable('finish: a metric, key=number', { alias: 'm' }))
      .option('rev', single('string', 'list: the runs committed at this revision'))
      .option('content', { type: 'boolean', default: true, describe: 'compare: diff the contents of tabular datasets (--no-content to skip)' })
      .option('rows', single('number', 'compare: sample rows shown per kind of row change', { default: 3 }))
      .option('md', { type: 'boolean', default: false, describe: 'compare, show: markdown for a pull request' })
      .option('html', single('string', 'compare: also write a self-contained HTML report to this file (metric deltas, then the changed datasets)'))
      .example('dvs run start run-41 --model tiny-lm -d data/clean.csv -p lr=0.001 -p epochs=3', 'record what run-41 trains on, before training')
      .example('dvs run finish run-41 -m accuracy=0.71 -m loss=0.42', 'add its metrics')
      .example('dvs run compare run-41@main run-42@exp --md', 'data, lineage, parameters, code and metric deltas, from two branches'),
  async run(args, env) {
    if (args.html !== undefined && args.action !== 'compare') throw new DvsError('UNEXPECTED_OPTION', `--html applies to dvs run compare only, not run ${args.action}`);
    switch (args.action) {
      case 'start': {
        const [id] = expectRuns(args, 1);
        if (!args.model) throw new DvsError('NO_MODEL', 'Name the model with --model <name>', { hint: `Usage: ${USAGE.start}` });
        const { runStart } = await import('../ops/history/run-start.js');
        return { action: 'start', ...(await runStart(await env.context(), { id, model: args.model, datasets: args.dataset, params: args.param })) };
      }
      case 'finish': {
        const [id] = expectRuns(args, 1);
        const { runFinish } = await import('../ops/history/run-finish.js');
        return { action: 'finish', ...(await runFinish(await env.context(), { id, metrics: args.metric })) };
      }
      case 'list': {
        expectRuns(args, 0);
        const { runList } = await import('../ops/history/run-show.js');
        return { action: 'list', ...(await runList(await env.context(), { rev: args.rev })) };
      }
      case 'show': {
        const [run] = expectRuns(args, 1);
        const { runShow } = await import('../ops/history/run-show.js');
        return { action: 'show', ...(await runShow(await env.context(), { run })) };
      }
      case 'compare': {
        const [a, b] = expectRuns(args, 2);
        const { runCompare } = await import('../ops/history/run-compare.js');
        return { action: 'compare', ...(await runCompare(await env.context(), { a, b, content: args.content, rows: args.rows })) };
      }
    }
  },
});
