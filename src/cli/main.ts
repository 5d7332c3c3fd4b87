import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { commands } from '../commands/index.js';
import type { CommandDef, CommandEnv, GlobalArgs } from '../commands/types.js';
import { DvsError, fromSystemError, isDvsError } from '../errors.js';
import type { OpContext } from '../ops/context.js';
import type { Repo } from '../repo/repo.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { ProgressRenderer } from './progress.js';

// yargs's CommonJS build loads in a third of the time of its ESM build, which matters for hooks.
const require = createRequire(import.meta.url);
const yargsFactory = require('yargs/yargs') as (args: string[]) => Argv;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface Outcome {
  def: CommandDef<any, any>;
  args: GlobalArgs & Record<string, unknown>;
  result: unknown;
}

/**
 * The one place that parses argv, prints and picks the exit code. Commands return typed results; the
 * renderers turn them into text, JSON or markdown; errors are printed once, here.
 */
export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  let outcome: Outcome | undefined;
  let progress: ProgressRenderer | undefined;
  let repo: Repo | undefined;
  // Only dvs's own flags count: anything after `--` belongs to a command dvs runs (dvs transform).
  const own = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const wantsJson = own.includes('--json');
  const verbose = own.includes('-v') || own.includes('--verbose');

  const y = yargsFactory(argv)
    .scriptName('dvs')
    .usage('dvs <command> [options]\n\nVersion datasets next to code: data in a content-addressed cache and on remotes, small pointers in Git.')
    .option('json', { type: 'boolean', default: false, global: true, describe: 'print the result as one JSON document' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, global: true, describe: 'print only errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, global: true, describe: 'more detail; stack traces on errors' })
    .option('wait-for-lock', { type: 'boolean', default: false, global: true, describe: 'wait for another dvs command holding the repository lock' })
    .strict()
    .demandCommand(1, 'Name a command: dvs --help lists them.')
    .recommendCommands()
    .version(version())
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilog('Exit codes: 0 ok, 1 differences found, 2 usage, 3 bad input, 4 not found, 5 conflict, 6 environment, 7 remote, 8 partial failure.')
    .fail((msg, err) => {
      // Throwing stops yargs here: a command must never run after its flags were refused.
      if (err) throw err;
      const text = msg.startsWith('Did you mean') ? `Unknown command "${own[0]}". ${msg}` : msg;
      throw new DvsError('usage', 'USAGE', text, { hint: 'dvs --help lists commands; dvs <command> --help lists its options.' });
    });

  for (const def of commands) {
    y.command({
      command: def.command,
      aliases: def.aliases,
      describe: def.describe,
      builder: (b: Argv) => (def.builder ? def.builder(b) : b),
      handler: async (args: Record<string, unknown>) => {
        const g = args as unknown as GlobalArgs & Record<string, unknown>;
        if (ProgressRenderer.enabled(g.json, g.quiet)) progress = new ProgressRenderer();
        const env: CommandEnv = {
          cwd,
          repo: async () => (repo ??= (await import('../repo/repo.js')).Repo.find(cwd)),
          context: async (): Promise<OpContext> => ({
            repo: await env.repo(),
            cwd,
            onProgress: progress?.listener,
            lock: { wait: g.waitForLock },
          }),
        };
        const result = await def.run(g, env);
        outcome = { def, args: g, result };
      },
    });
  }

  try {
    await y.parseAsync();
  } catch (err) {
    await progress?.stop();
    repo?.close();
    return reportError(err, wantsJson, verbose);
  }
  await progress?.stop();
  repo?.close();
  if (!outcome) return EXIT.ok; // --help, --version
  const { def, args, result } = outcome;
  const { renderers } = await import('./render/index.js');
  const render = renderers[def.name];
  const rendered = render ? render(result, { args, quiet: args.quiet, verbose: args.verbose }) : { text: '' };
  if (args.json) {
    process.stdout.write(JSON.stringify(result, jsonReplacer, 2) + '\n');
  } else if (args.md === true && rendered.md !== undefined) {
    process.stdout.write(rendered.md);
  } else if (!args.quiet) {
    process.stdout.write(rendered.text);
    for (const note of rendered.notes ?? []) process.stderr.write(note + '\n');
  } else {
    for (const note of rendered.notes ?? []) if (note.startsWith('error')) process.stderr.write(note + '\n');
  }
  return rendered.exit ?? EXIT.ok;
}

/** Sets become arrays, bigints strings; keeps --json output plain. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function reportError(err: unknown, json: boolean, verbose: boolean): number {
  let e = err;
  if (!isDvsError(e)) {
    const path = (err as { path?: string })?.path;
    if (typeof path === 'string') e = fromSystemError(err, path, 'accessing');
  }
  if (isDvsError(e)) {
    if (json) {
      process.stdout.write(JSON.stringify({ error: { code: e.code, kind: e.kind, message: e.message, hint: e.hint, data: e.data } }, jsonReplacer, 2) + '\n');
    } else {
      process.stderr.write(`dvs: error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    }
    if (verbose) process.stderr.write(`${(e as Error).stack}\n${(e as Error).cause ? `caused by: ${((e as Error).cause as Error)?.stack ?? String((e as Error).cause)}\n` : ''}`);
    return exitCodeFor(e.kind);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(JSON.stringify({ error: { code: 'INTERNAL', kind: 'internal', message } }, null, 2) + '\n');
  process.stderr.write(`dvs: internal error: ${message}\n`);
  if (verbose) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
  else process.stderr.write('  hint: run again with -v for the stack trace, and report it.\n');
  return EXIT.internal;
}
