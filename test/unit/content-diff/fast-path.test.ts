/**
 * The fast paths of the scan give exactly what the general ones give: cells of ASCII chunks hashed from
 * their bytes, ASCII decoded as Latin-1, and row hashes staged before they reach the partition logs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { H1, H2, hashBytes, hashSpan } from '../../../src/diff/content/hash.js';
import { gzipSync } from 'node:zlib';
import { diffContent, fileSource, type ContentDiff } from '../../../src/diff/content/index.js';
import { PARTITIONS, PartitionLog, type Budget } from '../../../src/diff/content/partition-log.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { rng, source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

describe('hashing bytes', () => {
  it('gives the hash of the same text as a string, for every length and offset', () => {
    const rand = rng(7);
    for (let len = 0; len < 70; len++) {
      for (let trial = 0; trial < 20; trial++) {
        const off = Math.floor(rand() * 5);
        const bytes = Buffer.alloc(off + len + 3);
        for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 128);
        const text = bytes.toString('latin1');
        hashSpan(text, off, off + len);
        const expected = [H1, H2];
        hashBytes(bytes, off, off + len);
        expect([H1, H2]).toEqual(expected);
      }
    }
  });
});

describe('CSV fast path', () => {
  const dir = tempDir();

  /** A CSV of `rows` rows: numbers, repeated labels, prose with quoted commas, 12k+ distinct values. */
  function table(rows: number, seed: number, change: (i: number) => boolean): string {
    const rand = rng(seed);
    const lines = ['id,label,text,score'];
    for (let i = 0; i < rows; i++) {
      const words = Array.from({ length: 3 + Math.floor(rand() * 6) }, () => ['alpha', 'beta', 'gamma', 'delta', 'eps'][Math.floor(rand() * 5)]).join(' ');
      const text = i % 7 === 0 ? `"${words}, ""${i}"""` : words;
      const score = change(i) ? (rand() * 1000).toFixed(3) : (rand() * 100).toFixed(2);
      lines.push(`${i},${['a', 'b', 'c'][i % 3]},${text},${i % 11 === 0 ? '' : score}`);
    }
    return lines.join("\n") + '\n';
  }

  it('diffs the same as the string path (a BOM keeps a file off the byte path)', async () => {
    const before = table(12_000, 3, () => false);
    const after = table(12_000, 3, (i) => i % 50 === 1);
    const files = {
      plain: [write(dir, 'a.csv', before), write(dir, 'b.csv', after)],
      bom: [write(dir, 'a-bom.csv', '\ufeff' + before), write(dir, 'b-bom.csv', '\ufeff' + after)],
    };
    const run = (pair: string[], options: object, chunk?: number): Promise<ContentDiff> =>
      diffContent(source(pair[0]!, { path: 'a.csv', chunk }), source(pair[1]!, { path: 'b.csv', chunk }), { parallel: false, rows: 3, ...options });
    for (const options of [{}, { key: 'id' }, { normalizeNumbers: true }]) {
      const fast = await run(files.plain, options);
      // Small stream chunks: records straddle chunk boundaries, on both paths.
      expect(await run(files.bom, options, 4099)).toEqual(fast);
      expect(await run(files.plain, options, 4099)).toEqual(fast);
    }
    const multiset = await run(files.plain, {});
    // Rows 1, 51, 101, ... changed their score, except where the score is empty (every 11th row).
    const changed = Array.from({ length: 12_000 }, (_, i) => i).filter((i) => i % 50 === 1 && i % 11 !== 0).length;
    expect(multiset.rowDiff).toMatchObject({ added: changed, removed: changed });
  });

  it('diffs the same reading a file into reused buffers as from a stream, and gzipped', async () => {
    // Chunks of 4099 bytes in one buffer overwritten before each next chunk: records straddle them.
    const before = table(12_000, 5, () => false);
    const after = table(12_000, 5, (i) => i % 97 === 3);
    const plain = [write(dir, 'r-a.csv', before), write(dir, 'r-b.csv', after)];
    const gz = [write(dir, 'r-a.csv.gz', gzipSync(before)), write(dir, 'r-b.csv.gz', gzipSync(after))];
    const run = (pair: string[], options: object, reused: boolean): Promise<ContentDiff> =>
      diffContent(source(pair[0]!, { path: 'a.csv', chunk: 4099, reused }), source(pair[1]!, { path: 'b.csv', chunk: 4099, reused }), { parallel: false, rows: 3, ...options });
    for (const options of [{}, { key: 'id' }]) {
      const streamed = await run(plain, options, false);
      expect(await run(plain, options, true)).toEqual(streamed);
      // A gzipped file is recognised in the first chunk, then read again as a stream (gunzip reads ahead).
      expect(await run(gz, options, true)).toEqual(streamed);
    }
    // The file source's own two 1 MB buffers, each reused (about 3.5 MB a version).
    const big = [write(dir, 'big-a.csv', table(100_000, 5, () => false)), write(dir, 'big-b.csv', table(100_000, 5, (i) => i % 97 === 3))];
    const streamed = await diffContent(source(big[0]!, { path: 'a.csv' }), source(big[1]!, { path: 'b.csv' }), { parallel: false, rows: 3 });
    expect(await diffContent(await fileSource(big[0]!, 'a.csv'), await fileSource(big[1]!, 'b.csv'), { parallel: false, rows: 3 })).toEqual(streamed);
  });
});

describe('partition log staging', () => {
  it('keeps every entry in order and accounts chunks as they are started', () => {
    let dropped = 0;
    const logs: PartitionLog[] = [];
    const budget: Budget = {
      used: 0,
      limit: 3 * 1024 * 1024,
      // Like the row diff: drop the upper half of the partitions still kept.
      onExceeded: () => {
        const kept = PARTITIONS >>> ++dropped;
        for (let p = kept; p < PARTITIONS; p++) for (const log of logs) log.drop(p);
      },
    };
    const log = new PartitionLog(3, budget);
    logs.push(log);
    const expected: number[][] = Array.from({ length: PARTITIONS }, () => []);
    const rand = rng(11);
    for (let n = 0; n < 400_000; n++) {
      const hi = (rand() * 2 ** 32) | 0;
      const p = hi >>> 22;
      if (p >= PARTITIONS >>> dropped) continue;
      log.append(p, hi, n, n ^ 0x5555);
      if (p < PARTITIONS >>> dropped) expected[p]!.push(hi, n, n ^ 0x5555);
      for (let q = PARTITIONS >>> dropped; q < PARTITIONS; q++) expected[q] = [];
    }
    expect(dropped).toBeGreaterThan(0);
    const moved = new PartitionLog(3, { used: 0, limit: Infinity, onExceeded: () => {} });
    moved.adopt(log.export());
    let bytes = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const got: number[] = [];
      for (const [chunk, end] of moved.parts(p)) {
        got.push(...chunk.subarray(0, end));
        bytes += chunk.byteLength;
      }
      expect(got).toEqual(expected[p]);
      expect(moved.entries(p)).toBe(expected[p]!.length / 3);
      // Chunks of 32, 64, ... 1024 entries, each started by the first entry that did not fit.
      let need = 0;
      for (let size = 32, left = expected[p]!.length / 3; left > 0; left -= size, size = Math.min(1024, size * 2)) need += size * 12;
      const have = [...moved.parts(p)].reduce((s, [c]) => s + c.byteLength, 0);
      expect(have).toBe(need);
    }
    expect(budget.used).toBe(bytes);
  });
});
