import { chmodSync, constants, copyFileSync, linkSync, lstatSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { ProgressCounter, type ProgressListener } from '../events.js';
import { errnoCode } from '../errors.js';
import type { ObjectCache } from './cache.js';
import { CHUNK_SIZE, hashFileInSlices, hashFileSync, sameStamp, stampOf, type FileStamp, type HashResult } from './hash.js';
import { HashPool, defaultPoolSize, type HashOutcome } from './hash-pool.js';
import type { Oid } from './oid.js';
import type { StateCache } from './state.js';

/**
 * Find the oids of many workspace files, reading only those whose stat the state cache does not vouch
 * for, and (when storing) put their bytes into the cache. Files are hashed on worker threads when there
 * are several; one big file is hashed on this thread with overlapped I/O.
 */
export interface FileToHash {
  abs: string;
  stamp: FileStamp;
}

/** How bytes enter the cache when storing: copied in one pass, or hashed and then cloned/linked in. */
export type StoreMode = 'copy' | 'hardlink' | 'reflink';

export interface HashFilesOptions {
  state: StateCache;
  /** Store into this cache (track); omit to only hash (status). */
  cache?: ObjectCache;
  storeMode?: StoreMode;
  onProgress?: ProgressListener;
  /** Reuse a pool across calls (closed by the caller). */
  pool?: () => HashPool;
}

export interface HashFilesResult {
  /** Oid per input file, in input order; undefined where the file could not be read. */
  oids: Array<Oid | undefined>;
  errors: Array<{ index: number; code?: string; message: string }>;
  hashedFiles: number;
  hashedBytes: number;
}

const POOL_MIN_FILES = 2;
const POOL_MIN_BYTES = 1 << 20;

export async function hashFiles(files: FileToHash[], options: HashFilesOptions): Promise<HashFilesResult> {
  const { state, cache } = options;
  const storeMode = options.storeMode ?? 'copy';
  const oids: Array<Oid | undefined> = new Array(files.length);
  const errors: HashFilesResult['errors'] = [];
  const misses: number[] = [];
  if (files.length > 64) state.preload();
  for (let i = 0; i < files.length; i++) {
    const known = state.get(files[i].stamp);
    if (known !== undefined && (!cache || cache.has(known))) oids[i] = known;
    else misses.push(i);
  }
  let missBytes = 0;
  for (const i of misses) missBytes += files[i].stamp.size;
  const progress = new ProgressCounter('hash', options.onProgress, misses.length, missBytes);
  // In hardlink and reflink modes the workers only hash; the link into the cache is made here afterwards.
  const copyIntoCache = cache !== undefined && storeMode === 'copy';

  const accept = (i: number, result: HashResult, placed: boolean) => {
    try {
      if (cache && storeMode !== 'copy' && !cache.has(result.oid)) {
        placed = (result.stable && linkIntoCache(cache, files[i].abs, result, storeMode)) || copyIntoCacheSync(cache, files[i].abs, result.oid);
      }
    } catch (err) {
      reject(i, errnoCode(err), (err as Error).message);
      return;
    }
    oids[i] = result.oid;
    if (result.stable) state.set(result.stat, result.oid);
    if (cache && placed) recordObject(cache, state, result.oid);
    progress.add(1, result.size, files[i].abs);
  };
  const reject = (i: number, code: string | undefined, message: string) => {
    errors.push({ index: i, code, message });
    progress.add(1, 0, files[i].abs);
  };

  if (misses.length >= POOL_MIN_FILES && (missBytes >= POOL_MIN_BYTES || misses.length >= 32)) {
    const ownPool = options.pool ? undefined : new HashPool(Math.min(misses.length, defaultPoolSize()));
    const pool = options.pool ? options.pool() : ownPool!;
    try {
      // Largest first, so that one big file does not start last and run alone at the end.
      const order = [...misses].sort((a, b) => files[b].stamp.size - files[a].stamp.size);
      await pool.run(
        { count: order.length, at: (k) => ({ id: order[k], path: files[order[k]].abs, size: files[order[k]].stamp.size, cacheRoot: copyIntoCache ? cache.root : undefined }) },
        (o: HashOutcome) => (o.ok ? accept(o.id, o.result, o.result.placed === true) : reject(o.id, o.error.code, o.error.message)),
      );
    } finally {
      await ownPool?.close();
    }
  } else {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    for (const i of misses) {
      try {
        if (copyIntoCache) {
          const r = await cache.addFile(files[i].abs);
          accept(i, r, r.placed);
        } else if (files[i].stamp.size > 8 * CHUNK_SIZE) {
          accept(i, await hashFileInSlices(files[i].abs), false);
        } else {
          accept(i, hashFileSync(files[i].abs, buffer), false);
        }
      } catch (err) {
        reject(i, errnoCode(err), (err as Error).message);
      }
    }
  }
  progress.emit();
  return { oids, errors, hashedFiles: misses.length - errors.length, hashedBytes: progress.bytes };
}

/**
 * Put a workspace file into the cache without copying its bytes: a hard link (the shared inode becomes
 * read-only, so the workspace file is protected as a hardlink checkout would be) or a reflink clone.
 * Returns false when that is not possible here (another device, no reflink), leaving the copy to the
 * caller.
 */
function linkIntoCache(cache: ObjectCache, abs: string, hashed: HashResult, mode: 'hardlink' | 'reflink'): boolean {
  const tmp = cache.tempPath();
  try {
    if (mode === 'hardlink') {
      linkSync(abs, tmp);
      // The file must still be the one that was hashed, or its bytes would enter under the wrong name.
      if (!sameStamp(stampOf(lstatSync(tmp, { bigint: true })), hashed.stat)) {
        rmSync(tmp, { force: true });
        return false;
      }
    } else {
      copyFileSync(abs, tmp, constants.COPYFILE_FICLONE_FORCE);
      if (!sameStamp(stampOf(statSync(abs, { bigint: true })), hashed.stat)) {
        rmSync(tmp, { force: true });
        return false;
      }
    }
    chmodSync(tmp, 0o444);
    return cache.commit(tmp, hashed.oid);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = errnoCode(err);
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EINVAL' || code === 'ENOSYS') return false;
    throw err;
  }
}

/** Whether this cache's file system can clone files (reflink), found by trying once with a tiny file. */
export function cacheSupportsReflink(cache: ObjectCache): boolean {
  const a = cache.tempPath();
  const b = cache.tempPath();
  try {
    writeFileSync(a, 'x');
    copyFileSync(a, b, constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  }
}

/** The fallback when a link cannot be made: copy, verifying that the copy hashes to `oid`. */
function copyIntoCacheSync(cache: ObjectCache, abs: string, oid: Oid): boolean {
  const tmp = cache.tempPath();
  try {
    const copied = hashFileSync(abs, Buffer.allocUnsafe(CHUNK_SIZE), tmp);
    if (copied.oid !== oid) throw new Error(`${abs} changed while it was being tracked`);
    return cache.commit(tmp, oid);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Remember that a cache object dvs just wrote is good, so checkout need not re-hash it. */
export function recordObject(cache: ObjectCache, state: StateCache, oid: Oid): void {
  try {
    state.setObject(stampOf(statSync(cache.pathOf(oid), { bigint: true })), oid);
  } catch {
    // Not recording only costs a re-hash at checkout.
  }
}

/** The stamp of a path, following symbolic links (workspace files checked out as symlinks). */
export function stampPath(abs: string): FileStamp {
  return stampOf(statSync(abs, { bigint: true }));
}

export function lstampPath(abs: string): FileStamp {
  return stampOf(lstatSync(abs, { bigint: true }));
}
