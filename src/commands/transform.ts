import { DvsError } from '../errors.js';
import type { CommandRunner, TransformResult } from '../ops/history/transform.js';
import { repeatable, single } from './options.js';
import { defineCommand } from './types.js';

export interface TransformArgs {
  name: string;
  input?: string[];
  output: string[];
  param?: string[];
  params?: string[];
  'row-id'?: string;
  'row-index': boolean;
  '--'?: Array<string | number>;
}

/** Every option name yargs knows for this command (global ones included), filled in by the builder. */
const known = new Set<string>(['_', '$0', '--']);

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The child gets the terminal: its stdout and stderr are the user's, so progress bars and prompts work.
 * With --json, dvs's stdout carries only the JSON result, so the child's stdout goes to stderr.
 */
export function terminalRunner(json: boolean): CommandRunner {
  return async (argv, { cwd }) => {
    const { spawn } = await import('node:child_process');
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ['inherit', json ? 2 : 'inherit', 'inherit'] });
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
  };
}

export const transformCommand = defineCommand<TransformArgs, TransformResult>({
  name: 'transform',
  command: 'transform',
  describe: 'Run a command that makes data from tracked data; track its outputs and record their lineage',
  builder: (y) =>
    y
      .usage('dvs transform --name <type> [-i <path>]... -o <path> [-o <path>]... [-p k=v]... -- <command> [args...]\n\nRuns the command (no shell unless you name one), then tracks the outputs and writes how they were made into their pointers.')
      // Everything after `--` is the user's command, kept exactly as typed ("007" stays "007").
      .parserConfiguration({ 'populate--': true, 'parse-positional-numbers': false })
      .option('name', single('string', 'the transform type: filter, dedup, tokenize, …', { demandOption: true }))
      .option('input', repeatable('tracked data the command reads', { alias: 'i' }))
      .option('output', repeatable('data the command writes, tracked afterwards', { alias: 'o', demandOption: true }))
      .option('param', repeatable('a parameter of the transform, key=value', { alias: 'p' }))
      .option('params', repeatable('parameters from a section of a committed YAML file, <file>:<key> (dvs repro re-reads it)'))
      .option('row-id', single('string', 'name rows by this column (which the command keeps) instead of by their content, for the row index'))
      .option('row-index', { type: 'boolean', default: true, describe: 'record which input row each output row came from (tabular outputs; --no-row-index to skip)' })
      .example('dvs transform --name filter -i raw.csv -o clean.csv -p min=0.5 -- python filter.py', 'run it, track clean.csv, record how it was made')
      .example('dvs transform --name split -i all.csv -o train.csv -o test.csv -- sh -c "python split.py"', 'two outputs; a shell only when you name one')
      .check(() => {
        // Options are all declared by now (global ones included): remember their names for run().
        const options = (y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
        for (const name of [...Object.keys(options.key), ...Object.values(options.alias).flat()]) known.add(name).add(camel(name));
        return true;
      }),
  async run(args, env) {
    // A mistyped flag must never run the user's command with parameters missing from its record.
    const unknown = Object.keys(args).filter((k) => !known.has(k));
    if (unknown.length) {
      throw new DvsError('UNKNOWN_OPTION', `Unknown option --${unknown[0]}`, { hint: 'dvs transform --help lists the options; the command goes after --.' });
    }
    const command = (args['--'] ?? []).map(String);
    const { transform } = await import('../ops/history/transform.js');
    return transform(await env.context(), {
      name: args.name,
      inputs: args.input ?? [],
      outputs: args.output,
      params: args.param,
      paramsFrom: args.params,
      rowId: args['row-id'],
      rowIndex: args['row-index'],
      command,
      run: terminalRunner(args.json),
    });
  },
});
