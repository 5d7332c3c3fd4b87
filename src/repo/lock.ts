import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import { currentOwner, isGone, type ProcessOwner } from '../base/owner.js';

/**
 * The repository lock, held by commands that write (track, checkout, gc, push, pull, …). Readers
 * (status, diff, verify) never take it. The lock file names its holder; a lock whose process is gone
 * (same host, and the pid is not running, is a zombie, or belongs to a process started later) is taken
 * over, so a killed command never blocks the next one.
 */
export interface LockOptions {
  /** Wait for another holder instead of failing at once. */
  wait?: boolean;
  /** How long to wait at most, in ms (default: forever when waiting). */
  timeoutMs?: number;
  command?: string;
}

interface LockInfo extends ProcessOwner {
  command?: string;
  since: string;
  /** Unique per acquisition: tells this holder's lock from a later one. */
  token?: string;
}

/**
 * Unique per acquisition. Not from node:crypto: loading it would cost every Git hook about 5 ms, and the
 * token is compared, never guessed at (Math.random is seeded from the system in each process).
 */
function lockToken(): string {
  return `${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** A lock file that cannot be read yet is being written; past this age, its writer died doing so. */
const UNREADABLE_GRACE_MS = 10_000;

export class RepoLock {
  private held?: string;
  constructor(readonly path: string) {}

  async acquire(options: LockOptions = {}): Promise<void> {
    const started = Date.now();
    const info: LockInfo = { ...currentOwner(), command: options.command, since: new Date().toISOString(), token: lockToken() };
    const text = JSON.stringify(info) + '\n';
    mkdirSync(dirname(this.path), { recursive: true }); // .dvs/tmp/ is not in a fresh clone
    for (;;) {
      try {
        writeFileSync(this.path, text, { flag: 'wx' });
        this.held = text;
        return;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw fromSystemError(err, this.path, 'creating the lock');
      }
      const found = this.read();
      if (found === undefined) continue; // released meanwhile
      const holder = parseHolder(found);
      if (holder === undefined) {
        // Being written by a process that has just created it, or left half-written by one killed then.
        if (this.ageMs() > UNREADABLE_GRACE_MS) this.takeOver(found);
        await sleep(20);
        continue;
      }
      if (isGone(holder)) {
        if (!this.takeOver(found)) await sleep(20);
        continue;
      }
      const waitedTooLong = options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs;
      if (!options.wait || waitedTooLong) {
        throw new DvsError('REPO_LOCKED', `The repository is locked by ${holder.command ?? 'another dvs command'} (pid ${holder.pid} on ${holder.host}, since ${holder.since})`, {
          hint: `Wait for it to finish, or pass --wait-for-lock. If no such process exists, delete ${this.path}.`,
          data: { pid: holder.pid, host: holder.host, command: holder.command, since: holder.since },
        });
      }
      await sleep(100);
    }
  }

  release(): void {
    if (this.held === undefined) return;
    try {
      // Only our own lock: never one another process holds after taking over ours (it found us gone).
      if (this.read() === this.held) rmSync(this.path, { force: true });
    } catch {
      // An unreadable lock is left to whoever comes next (it is taken over once its holder is gone).
    }
    this.held = undefined;
  }

  /**
   * Remove a dead holder's lock, unless it changed since it was read. Takeovers go one at a time, under
   * a second lock file held for a moment: two processes that both found the same dead holder must not
   * both remove "the" lock, or the second would remove the one the first has just created. Returns
   * false when another process is taking over.
   */
  private takeOver(stale: string): boolean {
    const guard = `${this.path}.takeover`;
    try {
      writeFileSync(guard, '', { flag: 'wx' });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fromSystemError(err, guard, 'creating the lock');
      // Another process is taking over right now; a guard this old belongs to one that died doing it.
      if (this.ageMs(guard) > UNREADABLE_GRACE_MS) rmSync(guard, { force: true });
      return false;
    }
    try {
      if (this.read() === stale) rmSync(this.path, { force: true });
    } finally {
      rmSync(guard, { force: true });
    }
    return true;
  }

  private read(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fromSystemError(err, this.path, 'reading the lock');
    }
  }

  private ageMs(path = this.path): number {
    try {
      return Date.now() - statSync(path).mtimeMs;
    } catch {
      return 0;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function parseHolder(text: string): LockInfo | undefined {
  try {
    const parsed = JSON.parse(text) as LockInfo;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
