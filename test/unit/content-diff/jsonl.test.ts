import { afterAll, describe, expect, it } from 'vitest';
import { diffContent, summarize } from '../../../src/diff/content/index.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { source, write, writeGz } from './fixtures.js';

afterAll(cleanupTempDirs);

const lines = (objs: unknown[]): string => objs.map((o) => JSON.stringify(o)).join('\n') + '\n';

describe('JSON Lines', () => {
  const dir = tempDir();
  const rows = [
    { id: 1, meta: { lang: 'en', score: 0.5 }, tags: ['a', 'b'], v: 1 },
    { id: 2, meta: { lang: 'fr' }, v: 'x' },
    { id: 3, v: true, extra: null },
    { id: 4, meta: { lang: 'en', score: 1.5 }, v: 2.5 },
  ];

  it('flattens nested objects into dotted columns, keeps arrays as JSON text, and types per column', async () => {
    const s = await summarize(source(write(dir, 'a.jsonl', lines(rows))));
    expect(s.errors).toEqual([]);
    expect(s.rows).toBe(4);
    const by = Object.fromEntries(s.columns.map((c) => [c.name, c]));
    expect(Object.keys(by)).toEqual(['id', 'meta.lang', 'meta.score', 'tags', 'v', 'extra']);
    expect(by['meta.lang']).toMatchObject({ type: 'string', count: 3, nulls: 1, distinct: 2, top: [{ value: 'en', count: 2 }, { value: 'fr', count: 1 }] });
    expect(by['meta.score']).toMatchObject({ type: 'number', count: 2, nulls: 2, mean: 1, min: 0.5, max: 1.5 });
    expect(by['tags']).toMatchObject({ type: 'string', top: [{ value: '["a","b"]', count: 1 }] });
    // Mixed types in one column: `mixed`, with the kinds counted; numeric statistics over the numbers.
    expect(by['v']).toMatchObject({ type: 'mixed', kinds: { boolean: 1, integer: 1, number: 1, string: 1 }, min: 1, max: 2.5 });
    expect(by['extra']).toMatchObject({ type: 'null', count: 0, nulls: 4 });
  });

  it('gives the same result whatever the chunk boundaries (1-byte chunks)', async () => {
    const path = write(dir, 'b.jsonl', lines(rows));
    expect(await summarize(source(path, { chunk: 1 }))).toEqual(await summarize(source(path)));
  });

  it('reads gzip-compressed NDJSON', async () => {
    const s = await summarize(source(writeGz(dir, 'a.ndjson.gz', lines(rows))));
    expect(s.rows).toBe(4);
  });

  it('skips lines that are not JSON objects with a note, and fails a file that is not JSON Lines at all', async () => {
    const s = await summarize(source(write(dir, 'some-bad.jsonl', '{"a":1}\nnot json\n[1,2]\n\n{"a":2}\n')));
    expect(s.rows).toBe(2);
    expect(s.notes[0]).toMatch(/2 line\(s\) skipped, not JSON objects \(first at line 2: /);
    const d = await diffContent(source(write(dir, 'ok.jsonl', '{"a":1}\n')), source(write(dir, 'csv.jsonl', 'a,b\n1,2\n')));
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]).toMatchObject({ side: 'after' });
    expect(d.errors[0]!.message).toMatch(/^not JSON Lines \(line 1: /);
  });

  it('compares rows on the shared columns when the versions have different keys', async () => {
    const before = write(dir, 'b.jsonl', lines([{ id: 1, x: 'a' }, { id: 2, x: 'b' }, { id: 3, x: 'c' }]));
    const after = write(dir, 'c.jsonl', lines([{ x: 'a', id: 1, new: 1 }, { id: 2, x: 'B', new: 2 }, { id: 3, x: 'c', new: 3 }]));
    const d = await diffContent(source(before), source(after));
    expect(d.schema.added).toEqual([{ name: 'new', type: 'integer' }]);
    expect(d.rowDiff).toMatchObject({ mode: 'multiset', comparedColumns: ['id', 'x'], added: 1, removed: 1, unchanged: 2 });
    expect(d.rowDiff!.samples.removed[0]!.values).toEqual({ id: 2, x: 'b' });
    expect(d.rowDiff!.samples.added[0]!.values).toEqual({ x: 'B', id: 2, new: 2 });
    expect(d.notes.join('\n')).toMatch(/read again to compare them on the shared columns/);
  });
});
