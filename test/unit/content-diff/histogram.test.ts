import { afterAll, describe, expect, it } from 'vitest';
import { diffContent, sharedBins } from '../../../src/diff/content/index.js';
import { HISTOGRAM_BINS, HistogramSketch } from '../../../src/diff/content/sketches.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

/** Counts of `values` in the bins [edges[i], edges[i+1]), computed the obvious way. */
function naive(values: number[], edges: number[]): number[] {
  return edges.slice(0, -1).map((lo, i) => values.filter((v) => v >= lo && v < edges[i + 1]!).length);
}

function sketch(values: number[]) {
  const h = new HistogramSketch();
  for (const v of values) h.add(v);
  return h.finish();
}

describe('histogram sketch', () => {
  it('counts every value in the bin that holds it, whatever the order and range growth', () => {
    // A narrow start (the first 256 values) and then values far outside it: the bins widen.
    const values = [...Array.from({ length: 300 }, (_, i) => 1000 + i / 1000), ...Array.from({ length: 500 }, (_, i) => -5000 + i * 37.5), 1e6];
    const h = sketch(values)!;
    expect(h.counts.length).toBeLessThanOrEqual(HISTOGRAM_BINS);
    expect(Math.log2(h.width) % 1).toBe(0);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    const edges = Array.from({ length: h.counts.length + 1 }, (_, i) => (h.start + i) * h.width);
    expect(h.counts).toEqual(naive(values, edges));
    expect(h.counts[0]).toBeGreaterThan(0);
    expect(h.counts.at(-1)).toBeGreaterThan(0);
  });

  it('keeps a narrow range fine and integer bins at least 1 wide', () => {
    const narrow = sketch(Array.from({ length: 1000 }, (_, i) => 1000 + (i % 100) / 1000))!;
    expect(narrow.counts.length).toBeGreaterThan(HISTOGRAM_BINS / 2);
    const small = sketch([0, 1, 1, 2, 2, 2, 5])!;
    expect(small).toEqual({ width: 1, start: 0, counts: [1, 2, 3, 0, 0, 1] });
    expect(sketch([])).toBeNull();
    expect(sketch([7, 7, 7])!.counts).toEqual([3]);
  });

  it('handles negative numbers, tiny and huge magnitudes without losing a value', () => {
    const values = [-1e300, -3.5, -0.25, 0, 1e-300, 2 ** -1070, 7, 1e300, ...Array.from({ length: 300 }, (_, i) => -i / 7)];
    const h = sketch(values)!;
    expect(h.counts.length).toBeLessThanOrEqual(HISTOGRAM_BINS);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    const tiny = sketch(Array.from({ length: 500 }, (_, i) => i * 1e-310))!;
    expect(tiny.counts.reduce((a, b) => a + b, 0)).toBe(500);
    expect(Number.isFinite(tiny.width) && tiny.width > 0).toBe(true);
  });

  it('puts two versions on the same bins exactly', () => {
    const before = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 1000);
    const after = Array.from({ length: 1500 }, (_, i) => 400 + ((i * 104729) % 2600) + 0.5);
    const s = sharedBins(sketch(before), sketch(after), 24)!;
    expect(s.before.length).toBeLessThanOrEqual(24);
    expect(s.edges.length).toBe(s.before.length + 1);
    expect(s.before).toEqual(naive(before, s.edges));
    expect(s.after).toEqual(naive(after, s.edges));
    expect(sharedBins(null, null, 24)).toBeNull();
    const one = sharedBins(null, sketch(after), 24)!;
    expect(one.before.every((c) => c === 0)).toBe(true);
    expect(one.after.reduce((a, b) => a + b, 0)).toBe(after.length);
  });

  it('is part of the column statistics of numeric columns only, over the whole file', async () => {
    const dir = tempDir();
    const a = write(dir, 'a.csv', 'n,s\n' + Array.from({ length: 600 }, (_, i) => `${i % 10},x${i}`).join('\n') + '\n');
    const b = write(dir, 'b.csv', 'n,s\n' + Array.from({ length: 600 }, (_, i) => `${(i % 10) + 5},x${i}`).join('\n') + '\n');
    const d = await diffContent(source(a), source(b));
    const n = d.columns.find((c) => c.name === 'n')!;
    expect(n.before!.histogram).toEqual({ width: 1, start: 0, counts: Array(10).fill(60) });
    expect(n.after!.histogram).toEqual({ width: 1, start: 5, counts: Array(10).fill(60) });
    expect(d.columns.find((c) => c.name === 's')!.after!.histogram).toBeNull();
  });
});
