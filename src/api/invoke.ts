import { resolve } from 'node:path';
import { toJsonValue } from '../base/json.js';
import type { CommandDef, CommandEnv, GlobalArgs } from '../commands/types.js';
import { fromSystemError, isDvsError } from '../errors.js';
import type { ProgressListener, Warning } from '../events.js';
import type { OpContext } from '../ops/context.js';
import type { Repo } from '../repo/repo.js';

/** What every function of the library API takes besides its own options. */
export interface CommonOptions {
  /** Where the repository is found from, and what relative paths are relative to (default: process.cwd()). */
  cwd?: string;
  /** Progress as it happens: the events the CLI turns into a spinner. */
  onProgress?: ProgressListener;
  /**
   * Warnings about the repository itself (parts of .dvs/ that came from Git), which the CLI prints on
   * stderr. Warnings about the operation are in its result (`warnings`).
   */
  onWarning?: (warning: Warning) => void;
  /** Wait while another dvs process holds the repository lock, instead of failing with REPO_LOCKED. */
  waitForLock?: boolean;
}

/**
 * Run a verb exactly as the CLI does (the same CommandDef.run, so the two cannot drift) and return what
 * `--json` would print. Errors are thrown as DvsError (system errors naming a path are turned into one,
 * as the CLI does); nothing is printed and the process is never exited.
 */
export function invoke<A, R>(def: CommandDef<A, R>, args: A, options: CommonOptions = {}): Promise<R> {
  return inRepo((env, globals) => def.run({ ...args, ...globals }, env), options);
}

/**
 * Run `work` with the environment a command gets (the repository found from `cwd`, opened once and
 * closed after; the repository's warnings to `onWarning`), as `invoke` does for a whole command. For the
 * few verbs whose command does more than the library should (a terminal, a flag check that only yargs
 * can feed), the API calls the same operation through this.
 */
export async function inRepo<R>(work: (env: CommandEnv, globals: GlobalArgs) => Promise<R>, options: CommonOptions = {}): Promise<R> {
  const cwd = resolve(options.cwd ?? process.cwd());
  let repo: Repo | undefined;
  const env: CommandEnv = {
    cwd,
    repo: async () => (repo ??= (await import('../repo/repo.js')).Repo.find(cwd)),
    context: async (): Promise<OpContext> => ({ repo: await env.repo(), cwd, onProgress: options.onProgress, lock: { wait: options.waitForLock ?? false } }),
  };
  const globals: GlobalArgs = { json: true, quiet: true, verbose: false, waitForLock: options.waitForLock ?? false };
  try {
    return toJsonValue(await work(env, globals));
  } catch (err) {
    throw asDvsError(err);
  } finally {
    for (const w of repo?.warnings ?? []) options.onWarning?.(w);
    repo?.close();
  }
}

/** A system error naming a path becomes the DvsError the CLI would report; anything else passes. */
export function asDvsError(err: unknown): unknown {
  if (isDvsError(err)) return err;
  const path = (err as { path?: unknown })?.path;
  return typeof path === 'string' ? fromSystemError(err, path, 'accessing') : err;
}
