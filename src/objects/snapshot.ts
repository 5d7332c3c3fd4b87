import type { FileStamp } from './hash.js';
import type { Oid } from './oid.js';

/**
 * A tracked directory's snapshot, as the stat cache stores it: the stamps of its files in manifest
 * order. Kept apart from state.ts so that code comparing stamps does not load SQLite.
 */
/** dev, ino, size as float64, then mtime in ns as int64: 32 bytes per file. */
export const STAMP_BYTES = 32;

export interface DirectorySnapshot {
  manifest: Oid;
  /** Hash of the sorted list of file paths and executable bits the stamps belong to. */
  listing: string;
  /** dev, ino, size per file (size -1: not vouched for). */
  numbers: Float64Array;
  mtimes: BigInt64Array;
}

const NS_PER_S = 1_000_000_000n;

/**
 * A time in ns as Node's plain stat gives it in ms: seconds × 1e3 + nanoseconds / 1e6, in floating point
 * (lib/internal/fs/utils.js, msFromTimeSpec), with the nanoseconds in [0, 1e9) as POSIX keeps them.
 */
export function msOfNs(ns: bigint): number {
  let sec = ns / NS_PER_S;
  let nsec = ns % NS_PER_S;
  if (nsec < 0n) {
    nsec += NS_PER_S;
    sec -= 1n;
  }
  return Number(sec) * 1e3 + Number(nsec) / 1e6;
}

/**
 * Whether file `i` of a snapshot has this plain stamp. The mtime is compared in Node's ms (a double:
 * about 0.24 µs apart at today's dates) rather than in ns. That is as safe: a snapshot vouches only for
 * files last modified at least the racy window (0.1 s) before it was taken (stat-cache.ts), so a later
 * write cannot land within 0.24 µs of the recorded time; only a program setting the old time back on
 * purpose could, and that one could set it to the nanosecond too.
 */
export function snapshotMatchesPlain(snap: DirectorySnapshot, i: number, dev: number, ino: number, size: number, mtimeMs: number): boolean {
  const k = 3 * i;
  return snap.numbers[k + 2] === size && snap.numbers[k + 1] === ino && snap.numbers[k] === dev && msOfNs(snap.mtimes[i]) === mtimeMs;
}

/** Whether file `i` of a snapshot has exactly this stamp. */
export function snapshotMatches(snap: DirectorySnapshot, i: number, stamp: FileStamp): boolean {
  const k = 3 * i;
  return snap.numbers[k + 2] === stamp.size && snap.numbers[k + 1] === stamp.ino && snap.numbers[k] === stamp.dev && snap.mtimes[i] === stamp.mtimeNs;
}


/**
 * A directory's snapshot built file by file, for a directory too big to hold its files as a list: 32
 * bytes per file, in two arrays that double as they fill. `racyAfter`: stamps with a later mtime (ns) are
 * not vouched for (see stat-cache.ts).
 */
export class SnapshotBuilder {
  private numbers = new Float64Array(3 * 1024);
  private mtimes = new BigInt64Array(1024);
  length = 0;

  constructor(private readonly racyAfter: bigint) {}

  /** The next file's stamp; undefined: do not vouch for it. */
  push(stamp: FileStamp | undefined): void {
    const i = this.length++;
    if (i === this.mtimes.length) this.grow();
    const k = 3 * i;
    if (!stamp || stamp.mtimeNs > this.racyAfter) {
      this.numbers[k + 2] = -1; // a size no file has: never matches
      return;
    }
    this.numbers[k] = stamp.dev;
    this.numbers[k + 1] = stamp.ino;
    this.numbers[k + 2] = stamp.size;
    this.mtimes[i] = stamp.mtimeNs;
  }

  /** The first `count` stamps of an earlier snapshot, as they were (already checked for raciness then). */
  copyFrom(snap: DirectorySnapshot, count: number): void {
    while (this.mtimes.length < this.length + count) this.grow();
    this.numbers.set(snap.numbers.subarray(0, 3 * count), 3 * this.length);
    this.mtimes.set(snap.mtimes.subarray(0, count), this.length);
    this.length += count;
  }

  /** The stored form: dev, ino, size of every file, then every mtime. */
  bytes(): Uint8Array {
    const n = this.length;
    const bytes = new Uint8Array(n * STAMP_BYTES);
    new Float64Array(bytes.buffer, 0, 3 * n).set(this.numbers.subarray(0, 3 * n));
    new BigInt64Array(bytes.buffer, 24 * n, n).set(this.mtimes.subarray(0, n));
    return bytes;
  }

  private grow(): void {
    const numbers = new Float64Array(this.numbers.length * 2);
    numbers.set(this.numbers);
    this.numbers = numbers;
    const mtimes = new BigInt64Array(this.mtimes.length * 2);
    mtimes.set(this.mtimes);
    this.mtimes = mtimes;
  }
}
