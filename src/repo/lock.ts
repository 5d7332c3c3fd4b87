import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';

/**
 * The repository lock, held by commands that write (track, checkout, gc, push, pull, …). Readers
 * (status, diff, verify) never take it. The lock file names its holder; a lock whose process is gone
 * (same host, pid not running) is taken over, so a killed command never blocks the next one.
 */
export interface LockOptions {
  /** Wait for another holder instead of failing at once. */
  wait?: boolean;
  /** How long to wait at most, in ms (default: forever when waiting). */
  timeoutMs?: number;
  command?: string;
}

interface LockInfo {
  pid: number;
  host: string;
  command?: string;
  since: string;
}

export class RepoLock {
  private held = false;
  constructor(readonly path: string) {}

  async acquire(options: LockOptions = {}): Promise<void> {
    const started = Date.now();
    const info: LockInfo = { pid: process.pid, host: hostname(), command: options.command, since: new Date().toISOString() };
    mkdirSync(dirname(this.path), { recursive: true }); // .dvs/tmp/ is not in a fresh clone
    for (;;) {
      try {
        writeFileSync(this.path, JSON.stringify(info) + '\n', { flag: 'wx' });
        this.held = true;
        return;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw fromSystemError(err, this.path, 'creating the lock');
      }
      const holder = this.readHolder();
      if (holder === undefined || this.isStale(holder)) {
        // The holder is gone (or left an unreadable file): take the lock over.
        rmSync(this.path, { force: true });
        continue;
      }
      const waitedTooLong = options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs;
      if (!options.wait || waitedTooLong) {
        throw new DvsError('environment', 'REPO_LOCKED', `The repository is locked by ${holder.command ?? 'another dvs command'} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`, {
          hint: `Wait for it to finish, or pass --wait-for-lock. If no such process exists, delete ${this.path}.`,
          data: { ...holder },
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  release(): void {
    if (!this.held) return;
    rmSync(this.path, { force: true });
    this.held = false;
  }

  private readHolder(): LockInfo | undefined {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as LockInfo;
      return typeof parsed.pid === 'number' ? parsed : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { pid: -1, host: '', since: '' }; // released meanwhile: retry
      return undefined;
    }
  }

  private isStale(holder: LockInfo): boolean {
    if (holder.pid === -1) return false;
    if (holder.host !== hostname()) return false; // cannot tell for another machine (shared file system)
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (err) {
      return errnoCode(err) === 'ESRCH';
    }
  }
}
