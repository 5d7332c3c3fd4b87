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

/** Whether file `i` of a snapshot has exactly this stamp. */
export function snapshotMatches(snap: DirectorySnapshot, i: number, stamp: FileStamp): boolean {
  const k = 3 * i;
  return snap.numbers[k + 2] === stamp.size && snap.numbers[k + 1] === stamp.ino && snap.numbers[k] === stamp.dev && snap.mtimes[i] === stamp.mtimeNs;
}

