import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { diffContent, diffPartitions, summarize } from '../../../src/diff/content/index.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

interface Rows {
  id: number[];
  name: (string | null)[];
  score: (number | null)[];
}

function rows(n: number, change: (i: number, r: { name: string | null; score: number | null }) => void = () => {}): Rows {
  const out: Rows = { id: [], name: [], score: [] };
  for (let i = 0; i < n; i++) {
    const r = { name: i % 10 === 3 ? null : `name-${i % 17}`, score: i % 7 === 0 ? null : i / 4 };
    change(i, r);
    out.id.push(i);
    out.name.push(r.name);
    out.score.push(r.score);
  }
  return out;
}

function writeParquet(path: string, r: Rows, rowGroupSize = 100): string {
  parquetWriteFile({
    filename: path,
    rowGroupSize,
    columnData: [
      { name: 'id', data: r.id, type: 'INT32' },
      { name: 'name', data: r.name, type: 'STRING' },
      { name: 'score', data: r.score, type: 'DOUBLE' },
    ],
  });
  return path;
}

describe('Parquet', () => {
  const dir = tempDir();
  const n = 350; // four row groups of 100, 100, 100, 50
  const before = writeParquet(join(dir, 'before.parquet'), rows(n));
  const expectedNameNulls = rows(n).name.filter((x) => x === null).length;
  const expectedScoreNulls = rows(n).score.filter((x) => x === null).length;

  it('summarises schema, rows, nulls and min/max from the footer without reading a row', async () => {
    const src = source(before);
    const s = await summarize(src);
    expect(s.source).toBe('footer');
    expect(s.rows).toBe(n);
    expect(s.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['name', 'string'],
      ['score', 'number'],
    ]);
    expect(s.columns[0]).toMatchObject({ source: 'footer', count: n, nulls: 0, min: 0, max: n - 1, mean: null, top: null });
    expect(s.columns[1]).toMatchObject({ nulls: expectedNameNulls, min: 'name-0', max: 'name-9' });
    expect(s.columns[2]).toMatchObject({ nulls: expectedScoreNulls, min: 0.25, max: (n - 1) / 4 });
    // Two small range reads (length + magic, then the footer), no stream opened: no data page was read.
    const footerLength = readFileSync(before).readUInt32LE(src.size - 8);
    expect(src.reads).toEqual({ opens: 0, rangeCalls: 2, rangeBytes: 8 + footerLength });
    expect(src.reads.rangeBytes).toBeLessThan(src.size / 2);
  });

  it('reads rows for full statistics when asked, one row group at a time', async () => {
    const s = await summarize(source(before), { readRows: true });
    expect(s.source).toBe('data');
    expect(s.rows).toBe(n);
    const scores = rows(n).score.filter((x): x is number => x !== null);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    expect(s.columns[2]!.mean).toBeCloseTo(mean, 9);
    expect(s.columns[1]).toMatchObject({ nulls: expectedNameNulls, distinct: 17, distinctExact: true });
  });

  it('falls back to reading the whole file without readRange', async () => {
    const src = source(before, { range: false });
    const s = await summarize(src);
    expect(s.rows).toBe(n);
    expect(src.reads.opens).toBe(1);
  });

  it('diffs by key with changed cells (Dolt-style), reading rows only for the row-level diff', async () => {
    const after = writeParquet(
      join(dir, 'after.parquet'),
      rows(n, (i, r) => {
        if (i === 10) r.score = 99;
        if (i === 20) r.name = 'renamed';
      }),
    );
    const d = await diffContent(source(before), source(after), { key: 'id' });
    expect(d.rowDiff).toMatchObject({ mode: 'key', key: 'id', added: 0, removed: 0, changed: 2, unchanged: n - 2 });
    expect(d.rowDiff!.samples.changed.map((c) => [c.key, c.cells])).toEqual([
      [10, [{ column: 'score', before: 2.5, after: 99 }]],
      [20, [{ column: 'name', before: 'name-3', after: 'renamed' }]],
    ]);
    // Footer only by default: no rows, a note saying how to get them.
    const f = await diffContent(source(before), source(after));
    expect(f.rowDiff).toBeNull();
    expect(f.columns.map((c) => [c.name, c.change])).toEqual([
      ['name', 'changed'], // a string bound moved ('renamed' > 'name-9')
      ['score', 'changed'], // the max moved from 87.25 to 99
      ['id', 'unchanged'],
    ]);
    expect(f.columns[1]!.after!.max).toBe(99);
    expect(f.notes.join('\n')).toMatch(/footers only/);
  });

  it('flattens struct fields into dotted columns, from the footer and from the rows alike', async () => {
    const path = join(dir, 'nested.parquet');
    parquetWriteFile({
      filename: path,
      columnData: [
        { name: 'id', data: [1, 2, 3] },
        { name: 'meta', data: [{ lang: 'en', n: 1 }, { lang: 'fr', n: 2 }, { lang: null, n: 5 }] },
      ],
      schema: [
        { name: 'root', num_children: 2 },
        { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'meta', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'lang', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'n', type: 'INT32', repetition_type: 'OPTIONAL' },
      ],
    });
    const footer = await summarize(source(path));
    const rows = await summarize(source(path), { readRows: true });
    for (const s of [footer, rows]) {
      expect(s.columns.map((c) => [c.name, c.type, c.nulls, c.min, c.max])).toEqual([
        ['id', 'integer', 0, 1, 3],
        ['meta.lang', 'string', 1, s.source === 'footer' ? 'en' : null, s.source === 'footer' ? 'fr' : null],
        ['meta.n', 'integer', 0, 1, 5],
      ]);
    }
    expect(rows.columns[1]!.top).toEqual([
      { value: 'en', count: 1 },
      { value: 'fr', count: 1 },
    ]);
  });

  it('reports a corrupt file as an error', async () => {
    const bad = write(dir, 'bad.parquet', Buffer.from('PAR1 this is not really parquet'));
    const d = await diffContent(source(before), source(bad));
    expect(d.errors).toEqual([{ side: 'after', path: bad, message: 'not a Parquet file (no PAR1 magic at the end)' }]);
    expect(d.rows.before).toBe(n);
  });

  it('diffs two 50-file partitioned datasets from footers in well under a second', async () => {
    const make = (side: string, f: number): string => {
      const extra = side === 'after' && f % 10 === 0 ? 20 : 0;
      return writeParquet(
        join(dir, `${side}-${f}.parquet`),
        rows(200 + extra, (i, r) => {
          if (side === 'after' && f === 7 && r.score !== null) r.score *= 10;
        }),
        50,
      );
    };
    const a = Array.from({ length: 50 }, (_, f) => source(make('before', f)));
    const b = Array.from({ length: 50 }, (_, f) => source(make('after', f)));
    const t0 = performance.now();
    const d = await diffPartitions(a, b);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(d.files).toEqual({ before: 50, after: 50 });
    expect(d.rows).toEqual({ before: 50 * 200, after: 50 * 200 + 5 * 20, delta: 100 });
    expect(d.columns[0]!.name).toBe('score'); // the max moved tenfold: the column that moved most
    expect(d.columns[0]!.after!.max).toBe((199 / 4) * 10);
    expect([...a, ...b].every((s) => s.reads.opens === 0 && s.reads.rangeCalls === 2)).toBe(true);
  });
});
