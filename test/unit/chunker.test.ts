// Content-defined chunking (src/objects/chunker.ts) and chunk lists (src/transfer/chunk-list.ts): the
// boundaries are a pure function of the bytes, sizes stay within [min, max], an insertion near the start
// moves only the boundaries next to it, and a chunk list is read strictly.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNKER, ChunkStream, chunkBuffer, cutPoint, GEAR } from '../../src/objects/chunker.js';
import { chunkListOf, loadChunkList, parseChunkList, serializeChunkList } from '../../src/transfer/chunk-list.js';
import { cleanupTempDirs, seeded, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const small = { min: 2048, avg: 8192, max: 32768 };

describe('the chunker', () => {
  it('has the specified gear table (first four bytes of SHA-256 of each byte value)', () => {
    expect(GEAR[0]).toBe(createHash('sha256').update(Buffer.from([0])).digest().readInt32BE(0));
    expect(GEAR[255]).toBe(createHash('sha256').update(Buffer.from([255])).digest().readInt32BE(0));
    expect(new Set(GEAR).size).toBe(256);
  });

  it('is deterministic, covers the bytes exactly, and respects min and max', () => {
    const data = seeded(2 << 20, 7);
    const a = chunkBuffer(data, small);
    expect(chunkBuffer(Buffer.from(data), small)).toEqual(a);
    expect(a.reduce((s, c) => s + c.length, 0)).toBe(data.length);
    for (const c of a.slice(0, -1)) {
      expect(c.length).toBeGreaterThanOrEqual(small.min);
      expect(c.length).toBeLessThanOrEqual(small.max);
    }
    // Normalized chunking keeps the mean near the average (within a factor of two either way).
    const mean = data.length / a.length;
    expect(mean).toBeGreaterThan(small.avg / 2);
    expect(mean).toBeLessThan(small.avg * 2);
    // Bytes with no boundary at all (zeros hash to a constant): cut at max.
    expect(chunkBuffer(Buffer.alloc(100_000), small).map((c) => c.length)).toEqual([32768, 32768, 32768, 1696]);
    expect(cutPoint(data, 0, 1000, small)).toBe(1000);
  });

  it('gives the same chunks fed in blocks of any size as in one piece', () => {
    const data = seeded(1 << 20, 3);
    const whole = chunkBuffer(data, small);
    const s = new ChunkStream(small);
    for (let at = 0; at < data.length; at += 7777) s.push(data.subarray(at, at + 7777));
    const r = s.end();
    expect(r.chunks).toEqual(whole);
    expect(r.whole).toBe(sha(data));
    expect(r.size).toBe(data.length);
  });

  it('cuts exactly where the spec\'s byte-by-byte loop does (docs/remote-format.md, "Boundaries")', () => {
    // The spec's loop, written plainly: the chunker's unrolled one must agree at every position.
    const spec = (buf: Buffer, p: typeof small): number[] => {
      const bits = Math.log2(p.avg);
      const maskS = (0xffffffff << (32 - bits - 2)) >>> 0;
      const maskL = (0xffffffff << (32 - bits + 2)) >>> 0;
      const ends: number[] = [];
      for (let s = 0; s < buf.length; ) {
        const n = Math.min(buf.length - s, p.max);
        let end = s + n;
        if (n > p.min) {
          let h = 0;
          for (let i = s + p.min; i < s + n; i++) {
            h = ((h << 1) + GEAR[buf[i]]) >>> 0;
            if ((h & (i < s + Math.min(p.avg, n) ? maskS : maskL)) >>> 0 === 0) {
              end = i + 1;
              break;
            }
          }
        }
        ends.push(end);
        s = end;
      }
      return ends;
    };
    const lengths = (ends: number[]) => ends.map((e, i) => e - (i ? ends[i - 1] : 0));
    for (const [params, data] of [[small, seeded(3 << 20, 5)], [small, Buffer.concat([seeded(100_003, 9), Buffer.alloc(70_001), seeded(50_000, 2)])], [CHUNKER, seeded(6 << 20, 13)]] as const) {
      const expected = lengths(spec(data, params));
      expect(expected.length).toBeGreaterThan(5);
      expect(chunkBuffer(data, params).map((c) => c.length)).toEqual(expected);
      // Fed in blocks bigger and smaller than a chunk, through one reused block buffer.
      for (const size of [1000, 40_000, (1 << 20) + 5, 3 << 20]) {
        const s = new ChunkStream(params);
        const block = Buffer.alloc(size);
        for (let at = 0; at < data.length; at += size) {
          const n = data.copy(block, 0, at, at + size);
          s.push(block.subarray(0, n));
          block.fill(0xaa);
        }
        const r = s.end();
        expect(r.chunks.map((c) => c.length)).toEqual(expected);
        expect(r.chunks).toEqual(chunkBuffer(data, params));
        expect(r.whole).toBe(sha(data));
      }
    }
  });

  it('an insertion near the start changes only the chunks next to it', () => {
    const data = seeded(2 << 20, 11);
    const before = chunkBuffer(data, small);
    const after = chunkBuffer(Buffer.concat([data.subarray(0, 5000), randomBytes(100), data.subarray(5000)]), small);
    const old = new Set(before.map((c) => c.oid));
    const fresh = after.filter((c) => !old.has(c.oid));
    expect(fresh.length).toBeLessThanOrEqual(3);
    expect(after.length - fresh.length).toBeGreaterThan(before.length - 4);
  });

  it('dvs uses 64 KiB / 256 KiB / 1 MiB', () => {
    expect(CHUNKER).toEqual({ min: 64 << 10, avg: 256 << 10, max: 1 << 20 });
  });
});

describe('chunk lists', () => {
  it('round-trip in one encoding and are read strictly', () => {
    const data = seeded(3 << 20, 5);
    const list = { oid: sha(data), size: data.length, chunks: chunkBuffer(data) };
    const text = serializeChunkList(list).toString('utf8');
    expect(text.split('\n').slice(0, 3)).toEqual(['dvs-chunks 1', `object ${list.oid} ${data.length}`, 'chunker fastcdc-gear32-65536-262144-1048576']);
    expect(parseChunkList(text, list.oid)).toEqual(list);
    expect(() => parseChunkList(text, sha(Buffer.from('other')))).toThrow(/line 2/);
    expect(() => parseChunkList(text.replace(/ (\d+)\n$/, (_m, n) => ` ${Number(n) + 1}\n`), list.oid)).toThrow(/add up/);
    expect(() => parseChunkList(text.trimEnd(), list.oid)).toThrow(/newline/);
  });

  it('are computed once from a cache object that hashes to its oid, kept, and a damaged kept copy is recomputed', () => {
    const dir = tempDir();
    const data = seeded(5 << 20, 9);
    const path = join(dir, 'object');
    writeFileSync(path, data);
    const lists = join(dir, 'lists');
    const list = chunkListOf(lists, sha(data), path);
    expect(list.chunks).toEqual(chunkBuffer(data));
    expect(loadChunkList(lists, sha(data))).toEqual(list);
    const kept = join(lists, sha(data).slice(0, 2), sha(data));
    writeFileSync(kept, 'garbage');
    expect(loadChunkList(lists, sha(data))).toBeUndefined();
    expect(() => chunkListOf(lists, sha(Buffer.from('not these bytes')), path)).toThrow(/corrupted/);
  });
});
