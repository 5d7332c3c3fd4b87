import { describe, expect, it } from 'vitest';
import { MultisetTable } from '../../../src/diff/content/rowdiff.js';

/** Rows as (r1, r2) hashes, reproducible: every 50th differs between the sides. */
function fill(table: MultisetTable, side: 0 | 1, rows: number): void {
  let x = 2463534242;
  const h = { r1: 0, r2: 0, hasKey: false, k1: 0, k2: 0 };
  table.side = side;
  for (let i = 0; i < rows; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    h.r1 = x | 0;
    h.r2 = side === 1 && i % 50 === 0 ? ~i : i;
    table.row(h);
  }
}

describe('partition logs cut from slabs (the worker thread side)', () => {
  it('hands over a few buffers, and frees what a drop over the budget left', () => {
    for (const budget of [64 << 20, 3 << 20]) {
      const plain = new MultisetTable(budget);
      const slabs = new MultisetTable(budget, true);
      for (const t of [plain, slabs]) {
        fill(t, 0, 400_000);
        fill(t, 1, 400_000);
      }
      const a = plain.exportSide(1).log;
      const b = slabs.exportSide(1).log;
      expect(b.chunks.map((list) => list.map((c) => [...c]))).toEqual(a.chunks.map((list) => list.map((c) => [...c])));
      expect([b.bytes, slabs.shift]).toEqual([a.bytes, plain.shift]);
      expect(a.buffers.length).toBeGreaterThan(500); // one per chunk
      expect(b.buffers.length).toBeLessThan(10);
      // After drops, the slabs hold the chunks still in use and at most one slab's slack.
      expect(b.buffers.reduce((n, x) => n + x.byteLength, 0)).toBeLessThanOrEqual(b.bytes + (1 << 20));
      expect(slabs.totals()).toEqual(plain.totals());
    }
  });
});
