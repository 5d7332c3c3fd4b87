import { createHash, type Hash } from 'node:crypto';

/**
 * Content-defined chunking (FastCDC with normalized chunking, Xia et al. 2016/2020), as specified in
 * docs/remote-format.md ("Chunks"): a 32-bit gear hash rolls over the bytes and a boundary falls where
 * its top bits are zero, so boundaries depend on the last 32 bytes only and an edit moves at most the
 * boundaries next to it. Below the average size the test is harder (two more bits), above it easier
 * (two fewer): chunk sizes gather near the average. Pure: the same bytes and parameters always give the
 * same boundaries.
 */

export interface ChunkerParams {
  min: number;
  /** A power of two. */
  avg: number;
  max: number;
}

/** dvs's parameters (docs/remote-format.md, "Choices": measured against 64 KiB and 1 MiB averages). */
export const CHUNKER: ChunkerParams = { min: 64 << 10, avg: 256 << 10, max: 1 << 20 };

/** gear[b]: the first four bytes (big-endian) of SHA-256 of the one byte b. */
export const GEAR: Int32Array = (() => {
  const table = new Int32Array(256);
  for (let b = 0; b < 256; b++) table[b] = createHash('sha256').update(Buffer.from([b])).digest().readInt32BE(0);
  return table;
})();

/** The top `bits` bits of a 32-bit word set (as a signed int, for `&` in the hot loop). */
function topBits(bits: number): number {
  return bits >= 32 ? -1 : ((0xffffffff << (32 - bits)) | 0);
}

export function paramsId(p: ChunkerParams): string {
  return `fastcdc-gear32-${p.min}-${p.avg}-${p.max}`;
}

/**
 * Where the chunk starting at `start` ends in `buf[start, end)`. When `final` is false the caller must
 * provide at least `max` bytes (or all that remain): a cut is then never moved by more data arriving.
 */
export function cutPoint(buf: Uint8Array, start: number, end: number, p: ChunkerParams = CHUNKER): number {
  const bits = Math.round(Math.log2(p.avg));
  const maskS = topBits(bits + 2);
  const maskL = topBits(bits - 2);
  const n = Math.min(end - start, p.max);
  if (n <= p.min) return start + n;
  const normal = start + Math.min(p.avg, n);
  const stop = start + n;
  // A local binding: the hot loop then reads no module-scope variable. The loops test every position,
  // exactly as the spec says, eight to a turn: unrolled, V8 runs them 2-3 times faster (bench/chunks.mjs,
  // "chunking speed"), since the loop's own bookkeeping costs about as much as the hash.
  const gear = GEAR;
  let h = 0;
  let i = start + p.min;
  for (; i + 8 <= normal; i += 8) {
    h = ((h << 1) + gear[buf[i]]) | 0;
    if ((h & maskS) === 0) return i + 1;
    h = ((h << 1) + gear[buf[i + 1]]) | 0;
    if ((h & maskS) === 0) return i + 2;
    h = ((h << 1) + gear[buf[i + 2]]) | 0;
    if ((h & maskS) === 0) return i + 3;
    h = ((h << 1) + gear[buf[i + 3]]) | 0;
    if ((h & maskS) === 0) return i + 4;
    h = ((h << 1) + gear[buf[i + 4]]) | 0;
    if ((h & maskS) === 0) return i + 5;
    h = ((h << 1) + gear[buf[i + 5]]) | 0;
    if ((h & maskS) === 0) return i + 6;
    h = ((h << 1) + gear[buf[i + 6]]) | 0;
    if ((h & maskS) === 0) return i + 7;
    h = ((h << 1) + gear[buf[i + 7]]) | 0;
    if ((h & maskS) === 0) return i + 8;
  }
  for (; i < normal; i++) {
    h = ((h << 1) + gear[buf[i]]) | 0;
    if ((h & maskS) === 0) return i + 1;
  }
  for (; i + 8 <= stop; i += 8) {
    h = ((h << 1) + gear[buf[i]]) | 0;
    if ((h & maskL) === 0) return i + 1;
    h = ((h << 1) + gear[buf[i + 1]]) | 0;
    if ((h & maskL) === 0) return i + 2;
    h = ((h << 1) + gear[buf[i + 2]]) | 0;
    if ((h & maskL) === 0) return i + 3;
    h = ((h << 1) + gear[buf[i + 3]]) | 0;
    if ((h & maskL) === 0) return i + 4;
    h = ((h << 1) + gear[buf[i + 4]]) | 0;
    if ((h & maskL) === 0) return i + 5;
    h = ((h << 1) + gear[buf[i + 5]]) | 0;
    if ((h & maskL) === 0) return i + 6;
    h = ((h << 1) + gear[buf[i + 6]]) | 0;
    if ((h & maskL) === 0) return i + 7;
    h = ((h << 1) + gear[buf[i + 7]]) | 0;
    if ((h & maskL) === 0) return i + 8;
  }
  for (; i < stop; i++) {
    h = ((h << 1) + gear[buf[i]]) | 0;
    if ((h & maskL) === 0) return i + 1;
  }
  return stop;
}

export interface Chunk {
  oid: string;
  length: number;
}

/**
 * Chunk a stream of blocks: feed it blocks in order, then call `end()`. Each chunk's SHA-256 is taken
 * as it is cut; `whole` is the SHA-256 of all the bytes (the object's oid when they are the object),
 * unless `hashWhole` is false.
 */
export class ChunkStream {
  readonly chunks: Chunk[] = [];
  /**
   * The bytes not cut yet are `carry[0, held)`: less than `max` between pushes. The buffer is reused,
   * so a stream of blocks allocates nothing per block (fresh big buffers cost page faults, which made
   * copying cost more than hashing).
   */
  private carry: Buffer = Buffer.alloc(0);
  private held = 0;
  /** Undefined when the caller checks the bytes against the oid itself (one hashing pass less). */
  private readonly all: Hash | undefined;
  private size = 0;

  constructor(
    private readonly params: ChunkerParams = CHUNKER,
    hashWhole = true,
    /** Sees each chunk's bytes as it is cut (valid during the call only). */
    private readonly onChunk?: (chunk: Chunk, bytes: Buffer) => void,
  ) {
    this.all = hashWhole ? createHash('sha256') : undefined;
  }

  push(block: Buffer): void {
    this.all?.update(block);
    this.size += block.length;
    if (this.held === 0) {
      // Cut the block where it is; only its tail (less than one chunk) is copied.
      this.keep(block, this.cut(block, false), false);
      return;
    }
    this.reserve(this.held + block.length);
    block.copy(this.carry, this.held);
    this.held += block.length;
    const data = this.carry.subarray(0, this.held);
    this.keep(data, this.cut(data, false), true);
  }

  end(): { chunks: Chunk[]; whole: string | undefined; size: number } {
    this.cut(this.carry.subarray(0, this.held), true);
    this.held = 0;
    return { chunks: this.chunks, whole: this.all?.digest('hex'), size: this.size };
  }

  /** Cut `buf` from its start; returns where the bytes not cut yet begin. */
  private cut(buf: Buffer, final: boolean): number {
    let at = 0;
    while (at < buf.length && (final || buf.length - at >= this.params.max)) {
      const end = cutPoint(buf, at, buf.length, this.params);
      const bytes = buf.subarray(at, end);
      const chunk = { oid: createHash('sha256').update(bytes).digest('hex'), length: end - at };
      this.chunks.push(chunk);
      this.onChunk?.(chunk, bytes);
      at = end;
    }
    return at;
  }

  /** Keep `data[at..]` at the start of the carry (a copy: the caller may reuse the block it passed). */
  private keep(data: Buffer, at: number, inCarry: boolean): void {
    const rest = data.length - at;
    if (inCarry) this.carry.copyWithin(0, at, data.length);
    else {
      this.reserve(rest);
      data.copy(this.carry, 0, at);
    }
    this.held = rest;
  }

  private reserve(bytes: number): void {
    if (this.carry.length >= bytes) return;
    const bigger = Buffer.allocUnsafe(Math.max(bytes, this.params.max, this.carry.length * 2));
    this.carry.copy(bigger, 0, 0, this.held);
    this.carry = bigger;
  }
}

/** The chunks of bytes held in memory (tests, small objects). */
export function chunkBuffer(buf: Buffer, params: ChunkerParams = CHUNKER): Chunk[] {
  const s = new ChunkStream(params);
  s.push(buf);
  return s.end().chunks;
}
