import type { Argv } from 'yargs';
import type { OpContext } from '../ops/context.js';
import type { Repo } from '../repo/repo.js';

/** Flags every command accepts. */
export interface GlobalArgs {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  waitForLock: boolean;
}

/** What the CLI hands a command besides its parsed flags. */
export interface CommandEnv {
  cwd: string;
  /** The repository around cwd (throws NOT_A_DVS_REPO outside one). Loaded lazily: it pulls in YAML. */
  repo(): Promise<Repo>;
  /** An operation context: repository, cwd, lock policy and the progress renderer. */
  context(): Promise<OpContext>;
}

/**
 * One CLI verb: its flags, and a run that maps them onto one operation call and returns the operation's
 * typed result. Rendering and exit codes are the CLI's (src/cli/render/).
 */
export interface CommandDef<A = Record<string, unknown>, R = unknown> {
  /** Name used to find the renderer. */
  name: string;
  command: string | string[];
  aliases?: string[];
  describe: string;
  builder?: (y: Argv) => Argv;
  /** Commands that must work outside a dvs repository (init, --version). */
  noRepo?: boolean;
  run(args: A & GlobalArgs, env: CommandEnv): Promise<R>;
}

/** Helper to keep each command's arg type while storing them in one list. */
export function defineCommand<A, R>(def: CommandDef<A, R>): CommandDef<A, R> {
  return def;
}
