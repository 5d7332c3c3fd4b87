import { closeSync, fstatSync, openSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { readFullyAt } from '../base/read-at.js';
import { GitObjectError } from './git-object-error.js';

/** One entry of a pack as stored: a whole object, or a delta against a base named by offset or id. */
export type PackEntry =
  | { kind: 'object'; type: number; data: Buffer }
  | { kind: 'ofs-delta'; baseOffset: number; data: Buffer }
  | { kind: 'ref-delta'; baseOid: Buffer; data: Buffer };

const IDX_MAGIC = 0xff744f63;
const FANOUT = 8; // the fan-out table follows the 4-byte magic and the 4-byte version
const HASH = 20;
const TRAILER = 2 * HASH;

/**
 * One pack file and its version-2 index, read in place with positioned reads (a large repository's
 * index runs to megabytes; a hook needs a handful of its entries). Offsets and counts come from the
 * repository and are checked against the files' sizes before any read.
 */
export class Pack {
  private readonly buckets = new Map<number, Buffer>();

  private constructor(
    private readonly idxFd: number,
    private readonly packFd: number,
    private readonly count: number,
    private readonly fanout: Uint32Array,
    private readonly idxSize: number,
    private readonly packSize: number,
  ) {}

  /** Open `<name>.idx` and `<name>.pack`; a v1 index, or files that disagree, are refused. */
  static open(idxPath: string, packPath: string): Pack {
    const idxFd = openSync(idxPath, 'r');
    let packFd = -1;
    try {
      packFd = openSync(packPath, 'r');
      const idxSize = fstatSync(idxFd).size;
      const packSize = fstatSync(packFd).size;
      const head = readExactly(idxFd, 0, FANOUT + 256 * 4, idxSize);
      if (head.readUInt32BE(0) !== IDX_MAGIC || head.readUInt32BE(4) !== 2) throw new GitObjectError('not a version 2 pack index');
      const fanout = new Uint32Array(256);
      for (let i = 0; i < 256; i++) {
        fanout[i] = head.readUInt32BE(FANOUT + 4 * i);
        if (i && fanout[i] < fanout[i - 1]) throw new GitObjectError('pack index fan-out not sorted');
      }
      const count = fanout[255];
      // names, CRCs and 4-byte offsets for every object, then the large offsets, then two hashes
      if (FANOUT + 1024 + count * (HASH + 8) + TRAILER > idxSize) throw new GitObjectError('pack index too short');
      const packHead = readExactly(packFd, 0, 12, packSize);
      if (packHead.toString('latin1', 0, 4) !== 'PACK' || ![2, 3].includes(packHead.readUInt32BE(4))) throw new GitObjectError('not a pack');
      if (packHead.readUInt32BE(8) !== count) throw new GitObjectError('pack and index disagree');
      // As Git does on opening a pack: the index names the pack's checksum, so a truncated or replaced
      // pack is refused here rather than read.
      if (packSize < 12 + HASH || !readExactly(packFd, packSize - HASH, HASH, packSize).equals(readExactly(idxFd, idxSize - TRAILER, HASH, idxSize))) {
        throw new GitObjectError('pack does not match its index');
      }
      return new Pack(idxFd, packFd, count, fanout, idxSize, packSize);
    } catch (err) {
      closeSync(idxFd);
      if (packFd >= 0) closeSync(packFd);
      throw err;
    }
  }

  /** The pack offset of an object, or undefined when this pack does not hold it. */
  find(oid: Buffer): number | undefined {
    const first = oid[0];
    const lo = first ? this.fanout[first - 1] : 0;
    const hi = this.fanout[first];
    if (hi === lo) return undefined;
    let names = this.buckets.get(first);
    if (!names) {
      names = readExactly(this.idxFd, FANOUT + 1024 + lo * HASH, (hi - lo) * HASH, this.idxSize);
      this.buckets.set(first, names);
    }
    let a = 0;
    let b = hi - lo;
    while (a < b) {
      const mid = (a + b) >>> 1;
      const cmp = oid.compare(names, mid * HASH, mid * HASH + HASH);
      if (cmp === 0) return this.offsetOf(lo + mid);
      if (cmp < 0) b = mid;
      else a = mid + 1;
    }
    return undefined;
  }

  private offsetOf(index: number): number {
    const small = readExactly(this.idxFd, FANOUT + 1024 + this.count * (HASH + 4) + index * 4, 4, this.idxSize).readUInt32BE(0);
    let offset = small;
    if (small & 0x80000000) {
      const at = FANOUT + 1024 + this.count * (HASH + 8) + (small & 0x7fffffff) * 8;
      if (at + 8 > this.idxSize - TRAILER) throw new GitObjectError('large offset out of range');
      const big = readExactly(this.idxFd, at, 8, this.idxSize).readBigUInt64BE(0);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new GitObjectError('pack offset too large');
      offset = Number(big);
    }
    if (offset < 12 || offset >= this.packSize - HASH) throw new GitObjectError('pack offset out of range');
    return offset;
  }

  /** The entry at an offset, its data inflated (at most `maxSize` bytes, else an error). */
  entryAt(offset: number, maxSize: number): PackEntry {
    const end = this.packSize - HASH;
    if (offset < 12 || offset >= end) throw new GitObjectError('pack offset out of range');
    const head = readExactly(this.packFd, offset, Math.min(32, end - offset), this.packSize);
    let pos = 0;
    let c = head[pos++];
    const type = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      if (pos >= head.length || shift > 46) throw new GitObjectError('bad pack entry header');
      c = head[pos++];
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    if (size > maxSize) throw new GitObjectError('pack entry too large');
    let entry: { kind: 'ofs-delta'; baseOffset: number } | { kind: 'ref-delta'; baseOid: Buffer } | { kind: 'object'; type: number };
    if (type === 6) {
      if (pos >= head.length) throw new GitObjectError('bad delta offset');
      c = head[pos++];
      let back = c & 0x7f;
      while (c & 0x80) {
        if (pos >= head.length || back > 2 ** 45) throw new GitObjectError('bad delta offset');
        c = head[pos++];
        back = (back + 1) * 128 + (c & 0x7f);
      }
      // A base always comes before its delta, so a chain of offsets strictly decreases and ends.
      if (back <= 0 || back > offset - 12) throw new GitObjectError('delta base out of range');
      entry = { kind: 'ofs-delta', baseOffset: offset - back };
    } else if (type === 7) {
      if (pos + HASH > head.length) throw new GitObjectError('bad delta base');
      entry = { kind: 'ref-delta', baseOid: Buffer.from(head.subarray(pos, pos + HASH)) };
      pos += HASH;
    } else if (type >= 1 && type <= 4) {
      entry = { kind: 'object', type };
    } else {
      throw new GitObjectError(`unknown pack entry type ${type}`);
    }
    // zlib adds a few bytes per stored block at worst: this much compressed data always suffices.
    const start = offset + pos;
    const length = Math.min(size + (size >> 6) + 64, end - start);
    const data = inflateExactly(readExactly(this.packFd, start, length, this.packSize), size);
    return { ...entry, data };
  }

  close(): void {
    closeSync(this.idxFd);
    closeSync(this.packFd);
  }
}

/** Inflate one zlib stream (bytes after its end are ignored) that must give exactly `size` bytes. */
export function inflateExactly(compressed: Buffer, size: number): Buffer {
  let out: Buffer;
  try {
    out = inflateSync(compressed, { maxOutputLength: size + 1 });
  } catch {
    throw new GitObjectError('damaged compressed data');
  }
  if (out.length !== size) throw new GitObjectError('inflated size mismatch');
  return out;
}

function readExactly(fd: number, position: number, length: number, fileSize: number): Buffer {
  if (position < 0 || length < 0 || position + length > fileSize) throw new GitObjectError('read past the end of a file');
  const buf = Buffer.allocUnsafe(length);
  if (readFullyAt(fd, buf, position) < length) throw new GitObjectError('file shorter than expected');
  return buf;
}
