import type { ProgressListener } from '../events.js';
import type { LockOptions } from '../repo/lock.js';
import type { Repo } from '../repo/repo.js';

/** What every operation receives besides its own options. */
export interface OpContext {
  repo: Repo;
  /** The directory command-line paths are relative to. */
  cwd: string;
  onProgress?: ProgressListener;
  /** How to wait for the repository lock (commands that write). */
  lock?: LockOptions;
}
