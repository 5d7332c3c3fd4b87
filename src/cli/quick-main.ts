import { diffCommand } from '../commands/diff.js';
import { statusCommand } from '../commands/status.js';
import type { CommandDef, GlobalArgs } from '../commands/types.js';
import { execute, reportError } from './execute.js';

/**
 * `dvs status` and `dvs diff`, run many times a day, in their plain forms (positional arguments and
 * boolean flags) without loading yargs and every verb's definition, a good part of their start-up.
 * Anything else (a flag with a value, --help, a misspelt flag, `--`) goes to the full parser in
 * main.ts, so behaviour and messages stay those of yargs; the arguments built here are the ones yargs
 * would build for the same command line.
 */
interface QuickVerb {
  def: CommandDef<any, any>;
  /** The verb's boolean flags, spelt as on the command line, and their argument names. */
  flags: Record<string, string>;
  /** The verb's own arguments (defaults included) from its positional words; undefined: let yargs decide. */
  args(words: string[]): Record<string, unknown> | undefined;
}

const VERBS: Record<string, QuickVerb> = {
  status: {
    def: statusCommand,
    flags: { '--granular': 'granular', '--exit-code': 'exitCode' },
    args: (words) => ({ paths: words, granular: false, exitCode: false, remote: undefined }),
  },
  diff: {
    def: diffCommand,
    flags: { '--md': 'md', '--exit-code': 'exitCode', '--content': 'content' },
    args: (words) => (words.length <= 2 ? { revA: words[0], revB: words[1], md: false, exitCode: false } : undefined),
  },
};

const GLOBAL_FLAGS: Record<string, keyof GlobalArgs> = {
  '--json': 'json',
  '--quiet': 'quiet',
  '-q': 'quiet',
  '--verbose': 'verbose',
  '-v': 'verbose',
  '--wait-for-lock': 'waitForLock',
};

/** The command and its arguments when the command line is a plain one; undefined otherwise. */
export function quickArgs(argv: string[]): { def: CommandDef<any, any>; args: GlobalArgs & Record<string, unknown> } | undefined {
  const verb = Object.hasOwn(VERBS, argv[0] ?? '') ? VERBS[argv[0]] : undefined;
  if (!verb) return undefined;
  const words: string[] = [];
  const set: Record<string, true> = {};
  for (const word of argv.slice(1)) {
    if (word === '' || word.startsWith('-')) {
      const name = Object.hasOwn(GLOBAL_FLAGS, word) ? GLOBAL_FLAGS[word] : Object.hasOwn(verb.flags, word) ? verb.flags[word] : undefined;
      if (!name) return undefined;
      set[name] = true;
    } else {
      words.push(word);
    }
  }
  const own = verb.args(words);
  if (!own) return undefined;
  return { def: verb.def, args: { json: false, quiet: false, verbose: false, waitForLock: false, ...own, ...set } };
}

/** Run a plain `dvs status` / `dvs diff` here, anything else through main.ts. */
export async function quickMain(argv: string[], cwd = process.cwd()): Promise<number> {
  const quick = quickArgs(argv);
  if (!quick) return (await import('./main.js')).main(argv, cwd);
  try {
    return await execute(quick.def, quick.args, cwd);
  } catch (err) {
    return reportError(err, quick.args.json, quick.args.verbose);
  }
}
