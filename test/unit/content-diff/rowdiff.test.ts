import { afterAll, describe, expect, it } from 'vitest';
import { DvsError } from '../../../src/errors.js';
import { diffContent, diffPartitions } from '../../../src/diff/content/index.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { csv, source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

describe('row-level diff', () => {
  const dir = tempDir();
  const header = ['id', 'name', 'city'];
  const base = [header, [1, 'ann', 'oslo'], [2, 'bob', 'rome'], [3, 'cy', 'lima'], [4, 'dee', 'kyiv'], [4, 'dee', 'kyiv']];

  it('counts rows added and removed as a multiset difference, with samples', async () => {
    const a = write(dir, 'a.csv', csv(base));
    const b = write(dir, 'b.csv', csv([header, [1, 'ann', 'oslo'], [2, 'bob', 'ROME'], [4, 'dee', 'kyiv'], [5, 'eve', 'baku']]));
    const d = await diffContent(source(a), source(b));
    expect(d.change).toBe('modified');
    expect(d.rows).toEqual({ before: 5, after: 4, delta: -1 });
    // Removed: 2/rome, 3/lima, one of the two 4/kyiv; added: 2/ROME, 5/baku.
    expect(d.rowDiff).toMatchObject({ mode: 'multiset', key: null, added: 2, removed: 3, changed: null, unchanged: 2, estimated: false, sampleRate: 1 });
    expect(d.rowDiff!.samples.removed.map((r) => [r.row, r.values.city])).toEqual([
      [2, 'rome'],
      [3, 'lima'],
      [4, 'kyiv'],
    ]);
    expect(d.rowDiff!.samples.added.map((r) => r.values)).toEqual([
      { id: '2', name: 'bob', city: 'ROME' },
      { id: '5', name: 'eve', city: 'baku' },
    ]);
    expect(d.rowDiff!.samples.added[0]!.file).toBe(b);
  });

  it('matches rows by key and shows the changed cells, before and after', async () => {
    const a = write(dir, 'ka.csv', csv(base));
    const b = write(dir, 'kb.csv', csv([header, [1, 'ann', 'oslo'], [2, 'bob', 'ROME'], [3, 'cyd', 'lim'], [5, 'eve', 'baku']]));
    const d = await diffContent(source(a), source(b), { key: 'id' });
    expect(d.rowDiff).toMatchObject({ mode: 'key', key: 'id', added: 1, removed: 1, changed: 2, unchanged: 1, duplicateKeys: { before: 1, after: 0 } });
    expect(d.rowDiff!.samples.changed.map((c) => [c.key, c.cells])).toEqual([
      ['2', [{ column: 'city', before: 'rome', after: 'ROME' }]],
      [
        '3',
        [
          { column: 'name', before: 'cy', after: 'cyd' },
          { column: 'city', before: 'lima', after: 'lim' },
        ],
      ],
    ]);
    expect(d.rowDiff!.samples.changed[0]!.before.row).toBe(2);
    expect(d.rowDiff!.samples.removed.map((r) => r.values.id)).toEqual(['4']);
    expect(d.rowDiff!.samples.added.map((r) => r.values.id)).toEqual(['5']);
  });

  it('does not count reordered columns or a new column as changed rows', async () => {
    const a = write(dir, 'ra.csv', csv(base));
    const b = write(dir, 'rb.csv', csv([['city', 'id', 'name', 'added'], ...base.slice(1).map(([id, name, city]) => [city!, id!, name!, 'x'])]));
    const d = await diffContent(source(a), source(b), { rows: 0 });
    expect(d.schema.added).toEqual([{ name: 'added', type: 'string' }]);
    expect(d.rowDiff).toMatchObject({ comparedColumns: ['id', 'name', 'city'], added: 0, removed: 0, unchanged: 5 });
  });

  it('falls back to the multiset diff, with a note, when a version lacks the key column (CSV and JSONL)', async () => {
    const a = write(dir, 'na.csv', csv(base));
    const b = write(dir, 'nb.csv', csv([['name', 'city'], ['ann', 'oslo']]));
    const d = await diffContent(source(a), source(b), { key: 'id' });
    expect(d.rowDiff).toMatchObject({ mode: 'multiset', key: null, comparedColumns: ['name', 'city'], cellChanges: null });
    expect(d.notes).toContain('key column "id" is not in after: rows were compared as wholes (multiset) instead of by key');
    expect(d.schema.removed).toEqual([{ name: 'id', type: 'integer' }]);
    const ja = write(dir, 'na.jsonl', '{"id":1,"name":"ann"}\n{"id":2,"name":"bob"}\n');
    const jb = write(dir, 'nb.jsonl', '{"name":"ann"}\n{"name":"cy"}\n');
    const j = await diffContent(source(ja), source(jb), { key: 'id' });
    expect(j.rowDiff).toMatchObject({ mode: 'multiset', key: null, comparedColumns: ['name'], added: 1, removed: 1 });
    expect(j.notes).toContain('key column "id" is not in after: rows were compared as wholes (multiset) instead of by key');
  });

  it('treats a missing version as an added or deleted file', async () => {
    const a = write(dir, 'new.csv', csv(base));
    const added = await diffContent(undefined, source(a), { rows: 2 });
    expect(added).toMatchObject({ change: 'added', files: { before: 0, after: 1 }, rows: { before: 0, after: 5, delta: 5 } });
    expect(added.schema).toMatchObject({ before: null, added: [], removed: [] });
    expect(added.schema.after!.map((c) => c.name)).toEqual(header);
    expect(added.rowDiff).toMatchObject({ added: 5, removed: 0, unchanged: 0 });
    expect(added.rowDiff!.samples.added).toHaveLength(2);
    expect(added.columns.every((c) => c.change === 'added' && c.before === null)).toBe(true);
    const deleted = await diffContent(source(a), undefined);
    expect(deleted).toMatchObject({ change: 'deleted', rows: { before: 5, after: 0, delta: -5 } });
    expect(deleted.rowDiff).toMatchObject({ added: 0, removed: 5 });
  });

  it('reads each version only once for statistics when no sample is asked for', async () => {
    const a = source(write(dir, 'oa.csv', csv(base)));
    const b = source(write(dir, 'ob.csv', csv(base.slice(0, 3))));
    await diffContent(a, b, { rows: 0 });
    // One open to read the header (to know the shared columns), one for the statistics pass.
    expect([a.reads.opens, b.reads.opens]).toEqual([2, 2]);
  });

  it('samples every differing row when as many are asked for (the results table grows meanwhile)', async () => {
    const lines = (k: number) => ['id,v', ...Array.from({ length: 40 }, (_, i) => `${i},${i < 20 ? i * k : i}`)].join('\n');
    const d = await diffContent(source(write(dir, 'all-a.csv', lines(3))), source(write(dir, 'all-b.csv', lines(5))), { rows: 40 });
    expect(d.rowDiff).toMatchObject({ added: 19, removed: 19 }); // row 0 is 0,0 in both
    expect(d.rowDiff!.samples.removed.map((r) => Number(r.values.id))).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(d.rowDiff!.samples.added.map((r) => Number(r.values.id))).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
  });

  it('takes multiset samples from the first rows the scan kept, and reads a version again only when they lack some', async () => {
    const lines = (changed: number[]) => ['id,v', ...Array.from({ length: 10_000 }, (_, i) => `${i},${changed.includes(i) ? -i : i * 7}`)].join('\n');
    const a = write(dir, 'ka-early.csv', lines([]));
    const early = source(write(dir, 'kb-early.csv', lines([3, 7])));
    const before = source(a);
    const d = await diffContent(before, early);
    // The changed rows are among the first rows: the header read and the statistics pass, no sample pass.
    expect([before.reads.opens, early.reads.opens]).toEqual([2, 2]);
    expect(d.rowDiff!.samples.removed.map((r) => [r.row, r.values])).toEqual([
      [4, { id: '3', v: '21' }],
      [8, { id: '7', v: '49' }],
    ]);
    expect(d.rowDiff!.samples.added.map((r) => [r.row, r.values])).toEqual([
      [4, { id: '3', v: '-3' }],
      [8, { id: '7', v: '-7' }],
    ]);
    // One changed row lies past the rows kept: the samples come from a second pass, the same rows.
    const late = source(write(dir, 'kb-late.csv', lines([3, 9_000])));
    const again = source(a);
    const l = await diffContent(again, late);
    expect([again.reads.opens, late.reads.opens]).toEqual([3, 3]);
    expect(l.rowDiff!.samples.removed.map((r) => r.row)).toEqual([4, 9_001]);
    expect(l.rowDiff!.samples.added.map((r) => r.values.v)).toEqual(['-3', '-9000']);
    // A version of few rows is kept whole: fewer differing rows than asked for, and still no second pass.
    const small = source(write(dir, 'kb-small.csv', 'id,v\n1,1\n2,2\n'));
    const smallA = source(write(dir, 'ka-small.csv', 'id,v\n1,1\n2,3\n'));
    const s = await diffContent(smallA, small, { rows: 5 });
    expect([smallA.reads.opens, small.reads.opens]).toEqual([2, 2]);
    expect(s.rowDiff!.samples.removed.map((r) => r.values.v)).toEqual(['3']);
  });

  it('degrades to a documented estimate when the row logs exceed the memory budget', async () => {
    const rows = 200_000;
    const lines = ['id,v'];
    const linesB = ['id,v'];
    for (let i = 0; i < rows; i++) {
      lines.push(`${i},${i * 7}`);
      linesB.push(`${i},${i % 10 === 0 ? -1 : i * 7}`); // 10% of rows changed
    }
    const a = source(write(dir, 'big-a.csv', lines.join('\n')));
    const b = source(write(dir, 'big-b.csv', linesB.join('\n')));
    const exact = await diffContent(a, b, { rows: 3 });
    expect(exact.rowDiff).toMatchObject({ added: 20_000, removed: 20_000, estimated: false, sampleRate: 1 });
    expect(exact.estimated).toBe(false);
    // 400,000 row hashes need 3.2 MB; give it 1 MB.
    const d = await diffContent(a, b, { rows: 3, maxMemoryBytes: 1_000_000 });
    expect(d.estimated).toBe(true);
    expect(d.estimateReason).toMatch(/maxMemoryBytes/);
    expect(d.rowDiff!.estimated).toBe(true);
    expect(d.rowDiff!.sampleRate).toBeLessThanOrEqual(1 / 4);
    expect(Math.abs(d.rowDiff!.added - 20_000)).toBeLessThan(2_000);
    expect(Math.abs(d.rowDiff!.removed - 20_000)).toBeLessThan(2_000);
    expect(d.rowDiff!.samples.removed).toHaveLength(3);
    expect(d.rowDiff!.samples.removed.every((r) => Number(r.values.id) % 10 === 0)).toBe(true);
    expect(d.rows).toEqual({ before: rows, after: rows, delta: 0 }); // row counts stay exact
    const keyed = await diffContent(a, b, { key: 'id', maxMemoryBytes: 1_000_000 });
    expect(keyed.rowDiff!.estimated).toBe(true);
    expect(Math.abs(keyed.rowDiff!.changed! - 20_000)).toBeLessThan(2_000);
    expect(keyed.rowDiff!.samples.changed[0]!.cells[0]).toMatchObject({ column: 'v', after: '-1' });
  });

  it('sums a partitioned directory and matches rows across partitions', async () => {
    const p1 = write(dir, 'p1.csv', csv([header, [1, 'ann', 'oslo'], [2, 'bob', 'rome']]));
    const p2 = write(dir, 'p2.csv', csv([header, [3, 'cy', 'lima']]));
    // After: rows moved between partitions, one column order differs, one row gone.
    const q1 = write(dir, 'q1.csv', csv([header, [1, 'ann', 'oslo']]));
    const q2 = write(dir, 'q2.csv', csv([['name', 'city', 'id'], ['bob', 'rome', 2]]));
    const d = await diffPartitions([source(p1), source(p2)], [source(q1), source(q2)]);
    expect(d.files).toEqual({ before: 2, after: 2 });
    expect(d.rows).toEqual({ before: 3, after: 2, delta: -1 });
    expect(d.rowDiff).toMatchObject({ added: 0, removed: 1 });
    expect(d.rowDiff!.samples.removed[0]).toMatchObject({ file: p2, row: 1, values: { id: '3' } });
    const id = d.columns.find((c) => c.name === 'id')!;
    expect([id.before!.count, id.after!.count, id.after!.max]).toEqual([3, 2, 2]);
  });

  it('checks its options at the edge', async () => {
    const a = source(write(dir, 'opt.csv', csv(base)));
    await expect(diffContent(a, a, { rows: -1 })).rejects.toBeInstanceOf(DvsError);
    await expect(diffContent(a, a, { key: '' })).rejects.toMatchObject({ kind: 'usage', code: 'CONTENT_DIFF_OPTION' });
    await expect(diffContent(undefined, undefined)).rejects.toMatchObject({ code: 'CONTENT_DIFF_EMPTY' });
  });
});
