import { afterAll, describe, expect, it } from 'vitest';
import { H1, H2, hashString } from '../../../src/diff/content/hash.js';
import { diffContent } from '../../../src/diff/content/index.js';
import { EXACT_DISTINCT_CAP, HyperLogLog, TopCounter } from '../../../src/diff/content/sketches.js';
import { BOOLEAN, classifySpan, INTEGER, NUM, NUMBER, STRING } from '../../../src/diff/content/stats.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { csv, source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

const add = (t: TopCounter, v: string): void => {
  hashString(v);
  t.add(v, 0, v.length, H1, H2);
};

describe('statistics', () => {
  it('classifies text like a careful CSV reader and parses numbers exactly', () => {
    const cases: [string, number, number?][] = [
      ['42', INTEGER, 42],
      ['-007', INTEGER, -7],
      ['+3', INTEGER, 3],
      ['1.25', NUMBER, 1.25],
      ['.5', NUMBER, 0.5],
      ['1.', NUMBER, 1],
      ['6.02e23', NUMBER, 6.02e23],
      ['1E-7', NUMBER, 1e-7],
      ['0.1', NUMBER, 0.1],
      ['123456789012345678901', INTEGER, 123456789012345678901],
      ['TRUE', BOOLEAN],
      ['false', BOOLEAN],
      ['truth', STRING],
      ['0x1F', STRING],
      ['1_000', STRING],
      ['1e', STRING],
      ['-', STRING],
      ['Infinity', STRING],
      ['NaN', STRING],
    ];
    for (const [text, kind, n] of cases) {
      expect([text, classifySpan(`|${text}|`, 1, text.length + 1)]).toEqual([text, kind]);
      if (n !== undefined) expect(NUM).toBe(n);
    }
  });

  it('counts distinct values exactly up to the cap, then estimates within a few percent', () => {
    const small = new TopCounter();
    for (let i = 0; i < 5000; i++) add(small, `v${i % 1234}`);
    expect([small.exact, small.size]).toEqual([true, 1234]);
    const hll = new HyperLogLog();
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      hashString(`value-${i}`);
      hll.add(H1, H2);
    }
    expect(Math.abs(hll.estimate() - n) / n).toBeLessThan(0.05);
  });

  it('keeps the heavy hitters of a high-cardinality column (Misra-Gries)', () => {
    const t = new TopCounter();
    for (let i = 0; i < 100_000; i++) add(t, i % 10 === 0 ? 'hot' : i % 25 === 1 ? 'warm' : `cold-${i}`);
    expect(t.exact).toBe(false);
    const top = t.top(3);
    expect(top.map((x) => x.value)).toEqual(['hot', 'warm', expect.any(String)]);
    // Lower bounds, within n/k of the truth.
    expect(top[0]!.count).toBeLessThanOrEqual(10_000);
    expect(top[0]!.count).toBeGreaterThan(10_000 - 100_000 / 1000);
    expect(EXACT_DISTINCT_CAP).toBe(10_000);
  });

  it('computes mean and standard deviation stably (Welford) on large, close values', async () => {
    const dir = tempDir();
    const values = Array.from({ length: 1000 }, (_, i) => 1e9 + (i % 3));
    const s = await diffContent(undefined, source(write(dir, 'w.csv', csv([['x'], ...values.map((v) => [v])]))));
    const x = s.columns[0]!.after!;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(x.mean).toBeCloseTo(mean, 5);
    expect(x.stddev).toBeCloseTo(sd, 9);
  });

  it('detects renamed-looking columns and type changes, and ranks them first', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 50 }, (_, i) => [i, `u${i % 7}`, i % 5, i * 2]);
    const a = write(dir, 'a.csv', csv([['id', 'user', 'grade', 'v'], ...rows]));
    const b = write(dir, 'b.csv', csv([['id', 'user_name', 'grade', 'v'], ...rows.map(([id, u, g, v]) => [id!, u!, g === 0 ? 'none' : g!, v!])]));
    const d = await diffContent(source(a), source(b));
    expect(d.schema.renamed).toEqual([{ from: 'user', to: 'user_name', type: 'string', evidence: 'values' }]);
    expect(d.schema.added).toEqual([]);
    expect(d.schema.removed).toEqual([]);
    expect(d.schema.typeChanged).toEqual([{ name: 'grade', before: 'integer', after: 'string' }]);
    expect(d.columns.map((c) => [c.name, c.change, c.score])).toEqual([
      ['user_name', 'renamed', 1],
      ['grade', 'changed', 1],
      ['id', 'unchanged', 0],
      ['v', 'unchanged', 0],
    ]);
    expect(d.rowDiff).toMatchObject({ comparedColumns: ['id', 'grade', 'v'], removed: 10, added: 10 });
  });
});
