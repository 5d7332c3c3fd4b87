import { lstatSync, statSync } from 'node:fs';
import { ProgressCounter, type ProgressListener } from '../events.js';
import { errnoCode } from '../errors.js';
import type { ObjectCache } from './cache.js';
import { CHUNK_SIZE, hashFileInSlices, hashFileSync, stampOf, type CopyResult, type FileStamp, type HashResult } from './hash.js';
import { objectStamp, placeHashed, storeFileSync, type StoreMode, type StoredFile } from './store-file.js';
import { HashPool, defaultPoolSize, type HashOutcome } from './hash-pool.js';
import type { Oid } from './oid.js';
import type { StatCache } from './stat-cache.js';

/**
 * Find the oids of many workspace files, reading only those whose stat the stat cache does not vouch
 * for, and (when storing) put their bytes into the cache. Files are hashed on worker threads when there
 * are several; one big file is hashed on this thread with overlapped I/O.
 */
export interface FileToHash {
  abs: string;
  stamp: FileStamp;
}

export type { StoreMode } from './store-file.js';

export interface HashFilesOptions {
  state: StatCache;
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

  const accept = (i: number, result: HashResult | StoredFile) => {
    oids[i] = result.oid;
    if (result.stable) state.set(result.stat, result.oid);
    if ('objectStamp' in result && result.objectStamp) state.setObject(result.objectStamp, result.oid);
    progress.add(1, result.size, files[i].abs);
  };
  const reject = (i: number, code: string | undefined, message: string) => {
    errors.push({ index: i, code, message });
    progress.add(1, 0, files[i].abs);
  };

  if (misses.length >= POOL_MIN_FILES && (missBytes >= POOL_MIN_BYTES || misses.length >= 32)) {
    const ownPool = options.pool ? undefined : new HashPool(Math.min(misses.length, defaultPoolSize()));
    const pool = options.pool ? options.pool() : ownPool!;
    const store = cache ? { cacheRoot: cache.root, mode: storeMode } : undefined;
    try {
      // Largest first, so that one big file does not start last and run alone at the end.
      const order = [...misses].sort((a, b) => files[b].stamp.size - files[a].stamp.size);
      await pool.run(
        { count: order.length, at: (k) => ({ id: order[k], path: files[order[k]].abs, size: files[order[k]].stamp.size, store }) },
        (o: HashOutcome) => (o.ok ? accept(o.id, o.result) : reject(o.id, o.error.code, o.error.message)),
      );
    } finally {
      await ownPool?.close();
    }
  } else {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    for (const i of misses) {
      const abs = files[i].abs;
      try {
        // A big file is hashed in slices, so that progress keeps rendering.
        const big = files[i].stamp.size > 8 * CHUNK_SIZE;
        if (!cache) accept(i, big ? await hashFileInSlices(abs) : hashFileSync(abs, buffer));
        else if (storeMode === 'copy') accept(i, big ? withObjectStamp(await cache.addFile(abs)) : storeFileSync(cache, abs, buffer, 'copy'));
        else accept(i, placeHashed(cache, abs, big ? await hashFileInSlices(abs) : hashFileSync(abs, buffer), storeMode, buffer));
      } catch (err) {
        reject(i, errnoCode(err), (err as Error).message);
      }
    }
  }
  progress.emit();
  return { oids, errors, hashedFiles: misses.length - errors.length, hashedBytes: progress.bytes };
}

function withObjectStamp(r: CopyResult & { placed: boolean }): StoredFile {
  return { ...r, objectStamp: r.placed ? r.copyStamp : undefined };
}

/** Remember that a cache object dvs just wrote is good, so checkout need not re-hash it. */
export function recordObject(cache: ObjectCache, state: StatCache, oid: Oid): void {
  const stamp = objectStamp(cache, oid);
  if (stamp) state.setObject(stamp, oid);
}

/** The stamp of a path, following symbolic links (workspace files checked out as symlinks). */
export function stampPath(abs: string): FileStamp {
  return stampOf(statSync(abs, { bigint: true }));
}

export function lstampPath(abs: string): FileStamp {
  return stampOf(lstatSync(abs, { bigint: true }));
}
