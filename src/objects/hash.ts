import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
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
 * Hash a file and, when `dest` is given, write the same bytes to `dest` in the same pass. Synchronous:
 * for worker threads, where blocking is the point, and for small files on the main thread.
 * `dest` is created exclusively with mode `destMode`, so a concurrent writer cannot be clobbered.
 */
export function hashFileSync(path: string, buffer: Buffer, dest?: string, destMode = 0o444): HashResult {
  const fd = openSync(path, 'r');
  let out: number | undefined;
  try {
    const before = stampOf(fstatSync(fd, { bigint: true }));
    if (dest !== undefined) out = openSync(dest, 'wx', destMode);
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      const chunk = buffer.subarray(0, n);
      hash.update(chunk);
      if (out !== undefined) writeAll(out, chunk);
      size += n;
    }
    const after = stampOf(fstatSync(fd, { bigint: true }));
    return { oid: hash.digest('hex'), size, stat: before, stable: sameStamp(before, after) && size === before.size };
  } finally {
    closeSync(fd);
    if (out !== undefined) closeSync(out);
  }
}

function writeAll(fd: number, chunk: Uint8Array): void {
  let off = 0;
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
}

/**
 * Hash a large file on the main thread, overlapping work: while this thread hashes chunk N, libuv's
 * thread pool reads chunk N+1 and writes chunk N-1 to `dest`. This is the single-pass fast path that
 * keeps `dvs track` of one big file near the speed of hashing alone.
 */
export async function hashFilePipelined(path: string, dest?: string, destMode = 0o444): Promise<HashResult> {
  const src = await open(path, 'r');
  let out: Awaited<ReturnType<typeof open>> | undefined;
  try {
    const before = stampOf(await src.stat({ bigint: true }));
    if (dest !== undefined) out = await open(dest, 'wx', destMode);
    const buffers = [Buffer.allocUnsafe(CHUNK_SIZE), Buffer.allocUnsafe(CHUNK_SIZE), Buffer.allocUnsafe(CHUNK_SIZE)];
    const hash = createHash('sha256');
    let size = 0;
    let turn = 0;
    let pendingRead = src.read(buffers[0], 0, CHUNK_SIZE, null);
    let pendingWrite: Promise<unknown> = Promise.resolve();
    for (;;) {
      const { bytesRead } = await pendingRead;
      if (bytesRead === 0) break;
      const current = buffers[turn % 3].subarray(0, bytesRead);
      turn++;
      // The buffer read next was last written two turns ago; that write has finished (awaited below).
      pendingRead = src.read(buffers[turn % 3], 0, CHUNK_SIZE, null);
      pendingRead.catch(() => undefined);
      hash.update(current);
      size += bytesRead;
      await pendingWrite;
      if (out !== undefined) {
        pendingWrite = writeFully(out, current);
        // Marked as handled now: a failed write (ENOSPC) is rethrown by the await above or below, not
        // reported as an unhandled rejection while this loop waits for a read.
        pendingWrite.catch(() => undefined);
      }
    }
    await pendingWrite;
    const after = stampOf(await src.stat({ bigint: true }));
    return { oid: hash.digest('hex'), size, stat: before, stable: sameStamp(before, after) && size === before.size };
  } finally {
    await src.close();
    if (out !== undefined) await out.close();
  }
}

async function writeFully(fh: Awaited<ReturnType<typeof open>>, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, null);
    off += bytesWritten;
  }
}
