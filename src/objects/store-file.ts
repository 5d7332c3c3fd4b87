import { randomBytes } from 'node:crypto';
import { chmodSync, constants, copyFileSync, existsSync, linkSync, lstatSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';
import type { ObjectCache } from './cache.js';
import { copyAndHashSync, hashFileSync, sameStamp, stampOf, type FileStamp, type HashResult } from './hash.js';

/**
 * Hash one workspace file and put its bytes into the cache, blocking: what a hashing thread does for
 * each file of `dvs track`. All of it (hash, copy or link, rename into place, stat of the object) runs
 * on the thread, so that the main thread only records results; with the linking on the main thread,
 * the hashing threads of a 20,000-file track sat idle a third of the time.
 */

/** How bytes enter the cache: copied (and the copy hashed), or hashed and then cloned/linked in. */
export type StoreMode = 'copy' | 'hardlink' | 'reflink';

export interface StoredFile extends HashResult {
  /** Whether this call created the cache object (false: it was already there). */
  placed: boolean;
  /** The cache object's stamp when this call created it, for the stat cache. */
  objectStamp?: FileStamp;
}

export function storeFileSync(cache: ObjectCache, abs: string, buffer: Buffer, mode: StoreMode): StoredFile {
  if (mode !== 'copy') return placeHashed(cache, abs, hashFileSync(abs, buffer), mode, buffer);
  return copyIntoCache(cache, abs, buffer);
}

/**
 * Bring a file that was just hashed into the cache by a link or, where none can be made, a verified
 * copy. An object already there is kept: equal names mean equal bytes (the rename in `commit` checks).
 */
export function placeHashed(cache: ObjectCache, abs: string, result: HashResult, mode: 'hardlink' | 'reflink', buffer: Buffer): StoredFile {
  const linked = result.stable ? linkIntoCache(cache, abs, result, mode) : undefined;
  if (linked !== undefined) return { ...result, placed: linked, objectStamp: linked ? result.stat : undefined };
  const copied = copyIntoCache(cache, abs, buffer);
  if (copied.oid !== result.oid) throw new Error(`${abs} changed while it was being tracked`);
  return { ...result, placed: copied.placed, objectStamp: copied.objectStamp };
}

/**
 * Put a workspace file into the cache without copying its bytes: a hard link (the shared inode becomes
 * read-only, so the workspace file is protected as a hardlink checkout would be) or a reflink clone.
 * Returns whether the link became the object (false: the object was already there), or undefined when
 * no link can be made here (another device, no reflink, the file changed since it was hashed).
 */
function linkIntoCache(cache: ObjectCache, abs: string, hashed: HashResult, mode: 'hardlink' | 'reflink'): boolean | undefined {
  // A hard link shares one mode: the object would turn executable, or the script lose its x bit when
  // the object is made read-only. An executable file is copied in (and checked out as a copy).
  if (mode === 'hardlink' && (statSync(abs).mode & 0o111) !== 0) return existsSync(cache.pathOf(hashed.oid)) ? false : undefined;
  // Already stored (re-tracking data that was unprotected, or the same bytes elsewhere): the workspace
  // file becomes a link to that object, as a hardlink checkout would have made it.
  if (mode === 'hardlink' && existsSync(cache.pathOf(hashed.oid))) return relinkToObject(cache, abs, hashed) ? false : undefined;
  const tmp = cache.tempPath();
  try {
    if (mode === 'hardlink') {
      linkSync(abs, tmp);
      // The file must still be the one that was hashed, or its bytes would enter under the wrong name.
      if (!sameStamp(stampOf(lstatSync(tmp, { bigint: true })), hashed.stat)) {
        rmSync(tmp, { force: true });
        return undefined;
      }
    } else {
      copyFileSync(abs, tmp, constants.COPYFILE_FICLONE_FORCE);
      if (!sameStamp(stampOf(statSync(abs, { bigint: true })), hashed.stat)) {
        rmSync(tmp, { force: true });
        return undefined;
      }
    }
    chmodSync(tmp, 0o444);
    return cache.commit(tmp, hashed.oid);
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = errnoCode(err);
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EINVAL' || code === 'ENOSYS') return undefined;
    throw err;
  }
}

/**
 * Replace a workspace file by a hard link to the cache object with its content: link beside it, check that
 * the file is still the one that was hashed, rename over it. Returns false when no link can be made here.
 */
function relinkToObject(cache: ObjectCache, abs: string, hashed: HashResult): boolean {
  const tmp = join(dirname(abs), `.${basename(abs).slice(0, 40)}.dvs-tmp-${randomBytes(4).toString('hex')}`);
  try {
    linkSync(cache.pathOf(hashed.oid), tmp);
    if (!sameStamp(stampOf(lstatSync(abs, { bigint: true })), hashed.stat)) {
      rmSync(tmp, { force: true });
      return false;
    }
    renameSync(tmp, abs);
    return true;
  } catch (err) {
    rmSync(tmp, { force: true });
    const code = errnoCode(err);
    if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EACCES') return false;
    throw err;
  }
}

/** Copy a file into the cache, naming the object by the hash of the copy. */
function copyIntoCache(cache: ObjectCache, abs: string, buffer: Buffer): StoredFile {
  const tmp = cache.tempPath();
  try {
    const copied = copyAndHashSync(abs, tmp, buffer);
    const placed = cache.commit(tmp, copied.oid);
    return { ...copied, placed, objectStamp: placed ? copied.copyStamp : undefined };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The stamp of a cache object dvs just wrote, so that checkout need not re-hash it; undefined if unknown. */
export function objectStamp(cache: ObjectCache, oid: string): FileStamp | undefined {
  try {
    return stampOf(statSync(cache.pathOf(oid), { bigint: true }));
  } catch {
    // Not recording only costs a re-hash at checkout.
    return undefined;
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
