import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import yargsFactory from 'yargs/yargs';
import { commands } from '../commands/index.js';
import type { GlobalArgs } from '../commands/types.js';
import { DvsError } from '../errors.js';
import { execute, reportError } from './execute.js';
import { EXIT } from './exit-codes.js';


/** Options every command takes; each command's help lists them after its own. */
const GLOBAL_OPTIONS = ['json', 'quiet', 'verbose', 'wait-for-lock', 'help', 'version'];
const GLOBAL_GROUP = 'Global options:';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * yargs lists the options of the parent (the global ones) before a command's own, which are what its
 * --help is read for: naming the command's own group puts it first.
 */
function ownOptionsFirst(y: Argv): Argv {
  const options = (y as unknown as { getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]> } }).getOptions();
  const groups = (y as unknown as { getGroups(): Record<string, string[]> }).getGroups();
  const listed = new Set([...GLOBAL_OPTIONS, ...Object.values(groups).flat(), ...Object.values(options.alias).flat()]);
  const own = Object.keys(options.key).filter((k) => !listed.has(k));
  return own.length ? y.group(own, 'Options:') : y;
}

/**
 * yargs renders a command's whole --help text each time the command runs, to keep it in case the
 * command fails later; dvs's failures never show help (see .fail below), so that rendering (cliui, a
 * noticeable share of a quick command's start-up) is skipped. --help itself renders on demand.
 */
function skipHelpCache(y: Argv): void {
  const usage = (y as unknown as { getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/**
 * Parse argv with yargs and run the command it names (see execute.ts for running, printing and exit
 * codes). Git hooks skip this file: bin/dvs.js sends `dvs hook …` straight to hook-main.ts.
 */
export async function main(argv: string[], cwd = process.cwd()): Promise<number> {
  let exitCode: number | undefined;
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
    .group(GLOBAL_OPTIONS, GLOBAL_GROUP)
    .example('dvs track data/', 'hash data/ into the cache; write and stage data.dvs for Git')
    .example('dvs diff HEAD~1 HEAD', 'what changed in the data in the last commit')
    .example('dvs push', 'send what the pointers need to the default remote')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilog('dvs <command> --help: its options and examples.\nExit codes: 0 ok, 1 differences found, 2 usage, 3 bad input, 4 not found, 5 conflict, 6 environment, 7 remote, 8 partial failure, 70 internal error.')
    .fail((msg, err) => {
      // Throwing stops yargs here: a command must never run after its flags were refused. yargs' own
      // errors (a flag without its value) are usage errors; anything else came from a command.
      if (err && err.name !== 'YError') throw err;
      const text = msg.startsWith('Did you mean') ? `Unknown command "${own[0]}". ${msg}` : msg;
      throw new DvsError('USAGE', text, { hint: 'dvs --help lists commands; dvs <command> --help lists its options.' });
    });

  skipHelpCache(y);
  for (const def of commands) {
    y.command({
      command: def.command,
      aliases: def.aliases,
      describe: def.describe,
      builder: (b: Argv) => ownOptionsFirst(def.builder ? def.builder(b) : b),
      handler: async (args: Record<string, unknown>) => {
        exitCode = await execute(def, args as unknown as GlobalArgs & Record<string, unknown>, cwd);
      },
    });
  }

  try {
    await y.parseAsync();
  } catch (err) {
    return reportError(err, wantsJson, verbose);
  }
  return exitCode ?? EXIT.ok; // undefined: --help, --version
}
