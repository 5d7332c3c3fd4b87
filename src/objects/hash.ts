import { createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, copyFileSync, fstatSync, openSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { chmod, copyFile } from 'node:fs/promises';
import type { Oid } from './oid.js';

/** Big enough to amortise a system call, small enough to stay in L2 while it is hashed. */
export const CHUNK_SIZE = 1 << 20;

export interface HashResult {
  oid: Oid;
  size: number;
  /** fstat of the source taken before reading: the state cache key for this content. */
  stat: FileStamp;
  /** False when the file changed while it was read (its oid is then of a mix, never cached as its state). */
  stable: boolean;
}

/** What the state cache needs to know a file is unchanged: identity, size and modification time. */
export interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: bigint;
}

export function stampOf(st: BigIntStats): FileStamp {
  return { dev: Number(st.dev), ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

export function sha256Hex(data: Uint8Array | string): Oid {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The one read-and-hash loop: reads the file once into `buffer` and hashes each chunk. Yields the bytes
 * done every SLICE_BYTES so that a caller may pause.
 */
function* hashLoop(path: string, buffer: Buffer): Generator<number, HashResult> {
  const fd = openSync(path, 'r');
  try {
    const before = stampOf(fstatSync(fd, { bigint: true }));
    const hash = createHash('sha256');
    let size = 0;
    let sinceYield = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
      sinceYield += n;
      if (sinceYield >= SLICE_BYTES) {
        yield sinceYield;
        sinceYield = 0;
      }
    }
    if (sinceYield) yield sinceYield;
    const after = stampOf(fstatSync(fd, { bigint: true }));
    return { oid: hash.digest('hex'), size, stat: before, stable: sameStamp(before, after) && size === before.size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Copying into the cache: the kernel copies the file (copy_file_range: no bytes cross into user space),
 * then the copy, still in the page cache, is hashed. The object is then named by the hash of the bytes
 * that were actually written, which is the verification a write needs, and the pair runs at the speed of
 * `openssl dgst` on this project's machine (1.9 s for 2 GiB), where reading, hashing and writing each
 * chunk in user space took 2.8 s or more. `dest` is created exclusively, so a concurrent writer cannot be
 * clobbered. The source's stamp is taken before and after the copy: if the file changed (or was replaced)
 * meanwhile, the result is not `stable` and its stamp is never cached as this content.
 */
export interface CopyResult extends HashResult {
  /** The copy's stamp, for the state cache's record of good objects. */
  copyStamp: FileStamp;
}

function startCopy(path: string): FileStamp {
  return stampOf(statSync(path, { bigint: true }));
}

function finishCopy(path: string, before: FileStamp, copy: HashResult): CopyResult {
  const after = stampOf(statSync(path, { bigint: true }));
  return { oid: copy.oid, size: copy.size, stat: before, stable: copy.stable && sameStamp(before, after) && copy.size === before.size, copyStamp: copy.stat };
}

/** Copy a file to `dest` (created exclusively, read-only) and hash the copy, blocking: for worker threads and small files. */
export function copyAndHashSync(path: string, dest: string, buffer: Buffer): CopyResult {
  const before = startCopy(path);
  copyFileSync(path, dest, constants.COPYFILE_EXCL);
  chmodSync(dest, 0o444);
  return finishCopy(path, before, drain(hashLoop(dest, buffer)));
}

/**
 * The same without blocking the event loop for long: the copy runs on libuv's thread pool, and a yield
 * between slices of hashing lets progress render and other transfers proceed.
 */
export async function copyAndHash(path: string, dest: string, onBytes?: (n: number) => void): Promise<CopyResult> {
  const before = startCopy(path);
  await copyFile(path, dest, constants.COPYFILE_EXCL);
  await chmod(dest, 0o444);
  return finishCopy(path, before, await hashInSlices(hashLoop(dest, Buffer.allocUnsafe(CHUNK_SIZE)), onBytes));
}

/** Hash a file, blocking: for worker threads and small files. */
export function hashFileSync(path: string, buffer: Buffer): HashResult {
  return drain(hashLoop(path, buffer));
}

/** Hash a file in slices, yielding to the event loop between them. */
export async function hashFileInSlices(path: string, onBytes?: (n: number) => void): Promise<HashResult> {
  return hashInSlices(hashLoop(path, Buffer.allocUnsafe(CHUNK_SIZE)), onBytes);
}

function drain(loop: Generator<number, HashResult>): HashResult {
  for (;;) {
    const step = loop.next();
    if (step.done) return step.value;
  }
}

async function hashInSlices(loop: Generator<number, HashResult>, onBytes?: (n: number) => void): Promise<HashResult> {
  for (;;) {
    const step = loop.next();
    if (step.done) return step.value;
    onBytes?.(step.value);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const SLICE_BYTES = 32 << 20;
