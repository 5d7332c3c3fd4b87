import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { CHUNKER, ChunkStream, paramsId, type Chunk, type ChunkerParams } from '../objects/chunker.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from '../remotes/errors.js';

/**
 * Chunk lists (docs/remote-format.md, "Chunks"): the text that says which chunks, in order, make up a
 * big object, stored on a packed remote under `packs/<oid>.chunks`. A list is a pure function of the
 * object and the chunker's parameters, so a clone computes it once (at push time) and keeps it under
 * `<tmp>/chunk-lists/<params>/`, with the list's own SHA-256 in front so a damaged copy is recomputed
 * rather than trusted.
 */

/** Objects of this size and more go to a packed remote as chunks. */
export const CHUNK_THRESHOLD = 4 << 20;

const MAGIC = 'dvs-chunks 1';

export interface ChunkList {
  oid: Oid;
  size: number;
  chunks: Chunk[];
}

/** The list's one valid encoding. */
export function serializeChunkList(list: ChunkList, params: ChunkerParams = CHUNKER): Buffer {
  const lines = [MAGIC, `object ${list.oid} ${list.size}`, `chunker ${paramsId(params)}`];
  for (const c of list.chunks) lines.push(`${c.oid} ${c.length}`);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

const OID = /^[0-9a-f]{64}$/;
const POSITIVE = /^[1-9][0-9]*$/;
const NUMBER = /^(0|[1-9][0-9]*)$/;

/** Parse a list strictly; it must be the list of `oid` and its lengths must add up to the object's size. */
export function parseChunkList(text: string, oid: Oid): ChunkList {
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('does not end with a newline');
  if (lines[0] !== MAGIC) throw new Error(`first line is not "${MAGIC}"`);
  const head = (lines[1] ?? '').split(' ');
  if (head.length !== 3 || head[0] !== 'object' || head[1] !== oid || !NUMBER.test(head[2])) throw new Error(`line 2 is not "object ${shortOid(oid)} <size>"`);
  if (!/^chunker [!-~]+$/.test(lines[2] ?? '')) throw new Error('line 3: bad chunker line');
  const size = Number(head[2]);
  const chunks: Chunk[] = [];
  let total = 0;
  for (let i = 3; i < lines.length; i++) {
    const f = lines[i].split(' ');
    if (f.length !== 2 || !OID.test(f[0]) || !POSITIVE.test(f[1])) throw new Error(`line ${i + 1}: bad chunk line`);
    chunks.push({ oid: f[0], length: Number(f[1]) });
    total += Number(f[1]);
  }
  if (total !== size) throw new Error(`its chunks add up to ${total} bytes, not ${size}`);
  return { oid, size, chunks };
}

/** `<tmp>/chunk-lists/<params>/`: the chunk lists this clone computed or downloaded and checked. */
export function chunkListDir(tmpDir: string, params: ChunkerParams = CHUNKER): string {
  return join(tmpDir, 'chunk-lists', paramsId(params));
}

function listPath(dir: string, oid: Oid): string {
  return join(dir, oid.slice(0, 2), oid);
}

/** A kept list, or undefined when there is none or it is damaged (then it is removed). */
export function loadChunkList(dir: string, oid: Oid): ChunkList | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(listPath(dir, oid));
  } catch {
    return undefined;
  }
  const body = bytes.subarray(65);
  try {
    if (bytes.subarray(0, 64).toString('latin1') !== createHash('sha256').update(body).digest('hex') || bytes[64] !== 0x0a) throw new Error('damaged');
    return parseChunkList(body.toString('utf8'), oid);
  } catch {
    rmSync(listPath(dir, oid), { force: true });
    return undefined;
  }
}

/** Keep a list known good (computed from bytes that hashed to its oid, or whose chunks joined to it). */
export function keepChunkList(dir: string, list: ChunkList): void {
  const path = listPath(dir, list.oid);
  const body = serializeChunkList(list);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(createHash('sha256').update(body).digest('hex') + '\n', 'latin1'), body]));
  renameSync(tmp, path);
}

/** Whether a good list of `oid` is kept (a damaged one is removed and does not count). */
export function hasChunkList(dir: string, oid: Oid): boolean {
  return loadChunkList(dir, oid) !== undefined;
}

/**
 * Cut an object from the blocks another reader reads and checks against its oid (a push reads a big
 * manifest for its entries: the same read cuts it, instead of a second read at upload). Call `keep()`
 * only once that reader found the bytes whole; a list is then kept as chunkListOf would have kept it.
 */
export function chunkWhileReading(dir: string, oid: Oid): { push: (block: Buffer) => void; keep: () => void } {
  const stream = new ChunkStream(CHUNKER, false);
  return {
    push: (block) => stream.push(block),
    keep: () => {
      const { chunks, size } = stream.end();
      keepChunkList(dir, { oid, size, chunks });
    },
  };
}

/**
 * The chunk list of a cache object: kept, or computed by reading it once (its bytes must hash to its
 * oid: a list of damaged bytes would name an object nobody can rebuild).
 */
export function chunkListOf(dir: string, oid: Oid, path: string): ChunkList {
  return loadChunkList(dir, oid) ?? cutChunkList(dir, oid, path);
}

/**
 * Compute a cache object's chunk list by reading it once, check that its bytes hash to its oid, keep
 * the list. `onChunk` sees each chunk's bytes as it is cut (a push packs them in the same read); when
 * the object proves corrupted (SOURCE_CORRUPTED, thrown at the end) those chunks still hash to their
 * own oids, but no list names them.
 */
export function cutChunkList(dir: string, oid: Oid, path: string, onChunk?: (chunk: Chunk, bytes: Buffer) => void): ChunkList {
  const stream = new ChunkStream(CHUNKER, true, onChunk);
  const fd = openSync(path, 'r');
  try {
    const block = Buffer.allocUnsafe(8 << 20);
    for (;;) {
      const n = readSync(fd, block, 0, block.length, null);
      if (n === 0) break;
      stream.push(block.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const { chunks, size, whole = '' } = stream.end();
  if (whole !== oid) {
    throw new RemoteError('SOURCE_CORRUPTED', `the cache object ${shortOid(oid)} is corrupted (its bytes hash to ${shortOid(whole)}); not uploaded`, {
      reason: 'source-corrupt',
      hint: 'Run `dvs verify` to quarantine it, then re-track the data or fetch a good copy.',
      data: { oid, actual: whole },
    });
  }
  const list = { oid, size, chunks };
  keepChunkList(dir, list);
  return list;
}
