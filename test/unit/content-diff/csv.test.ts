import { afterAll, describe, expect, it } from 'vitest';
import { detectDelimiter } from '../../../src/diff/content/csv.js';
import { detectFormat, diffContent, diffPartitions, summarize, type ColumnStats, type TableSummary } from '../../../src/diff/content/index.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { source, write, writeGz } from './fixtures.js';

afterAll(cleanupTempDirs);

const col = (s: TableSummary, name: string): ColumnStats => {
  const c = s.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name} in ${s.columns.map((x) => x.name).join(', ')}`);
  return c;
};

describe('format detection', () => {
  it('goes by extension, with gzip and case variants', () => {
    expect(detectFormat('data/train.csv')).toBe('csv');
    expect(detectFormat('data/train.CSV.gz')).toBe('csv');
    expect(detectFormat('a/b.tsv')).toBe('tsv');
    expect(detectFormat('x.jsonl.gz')).toBe('jsonl');
    expect(detectFormat('x.ndjson')).toBe('jsonl');
    expect(detectFormat('part-0.parquet')).toBe('parquet');
    expect(detectFormat('x.parquet.gz')).toBeUndefined();
    expect(detectFormat('data/csv')).toBeUndefined();
    expect(detectFormat('model.bin')).toBeUndefined();
  });

  it('detects the delimiter from the records, ignoring quoted text', () => {
    expect(detectDelimiter('a;b;c\n1;"x, y, z";3\n4;5;6\n', ',')).toBe(';');
    expect(detectDelimiter('a|b\n1|2\n', ',')).toBe('|');
    expect(detectDelimiter('a\tb\tc,d\n1\t2\t3,4\n', ',')).toBe('\t');
    expect(detectDelimiter('a\tb,c\n1\t2,3\n', '\t')).toBe('\t'); // a tie goes to the extension's
    expect(detectDelimiter('name\nbob\n', '\t')).toBe('\t');
  });
});

describe('CSV and TSV', () => {
  const dir = tempDir();
  // BOM, semicolons, a quoted field with the delimiter, an embedded newline and doubled quotes, CRLF,
  // a short row and a long row.
  const tricky =
    '\uFEFFid;name;note;score\r\n' +
    '1;Ann;"likes ; semicolons";1.5\r\n' +
    '2;Bob;"two\nlines and ""quotes""";2\r\n' +
    '3;Cy;;\r\n' +
    '4;Dee\r\n' +
    '5;Eve;plain;3.25;extra\r\n';

  it('parses RFC 4180 quoting, a BOM, CRLF, semicolons and ragged rows', async () => {
    const s = await summarize(source(write(dir, 'tricky.csv', tricky)));
    expect(s.errors).toEqual([]);
    expect(s.rows).toBe(5);
    expect(s.columns.map((c) => c.name)).toEqual(['id', 'name', 'note', 'score', 'column_5']);
    expect(col(s, 'id')).toMatchObject({ type: 'integer', count: 5, nulls: 0, min: 1, max: 5, mean: 3 });
    expect(col(s, 'note')).toMatchObject({ type: 'string', count: 3, nulls: 2, distinct: 3, distinctExact: true });
    expect(col(s, 'note').top!.map((t) => t.value)).toContain('two\nlines and "quotes"');
    expect(col(s, 'score')).toMatchObject({ type: 'number', count: 3, nulls: 2, min: 1.5, max: 3.25 });
    expect(col(s, 'column_5')).toMatchObject({ count: 1, nulls: 4 });
    expect(s.notes.join('\n')).toMatch(/tricky\.csv \(after\): 1 of 5 rows have fewer fields than the header's 4/);
    expect(s.notes.join('\n')).toMatch(/tricky\.csv \(after\): 1 of 5 rows have more fields than the header's 4/);
  });

  it('gives the same result whatever the chunk boundaries (1-byte chunks)', async () => {
    const path = write(dir, 'tricky2.csv', tricky);
    const big = await summarize(source(path));
    const tiny = await summarize(source(path, { chunk: 1 }));
    expect(tiny).toEqual(big);
  });

  it('maps partitions with different headers and ragged rows onto one set of columns', async () => {
    const p1 = write(dir, 'p1.csv', 'a,b,c\n1,2,3\n4,5,6\n');
    const p2 = write(dir, 'p2.csv', 'b,a\n7,8\n9,10,11\n12,13\n');
    const d = await diffPartitions([], [source(p1), source(p2)]);
    const after = Object.fromEntries(d.columns.map((c) => [c.name, c.after!]));
    expect(d.rows.after).toBe(5);
    expect(after['a']).toMatchObject({ count: 5, min: 1, max: 13 });
    expect(after['b']).toMatchObject({ count: 5, min: 2, max: 12 });
    expect(after['c']).toMatchObject({ count: 2, nulls: 3 });
    expect(after['column_3']).toMatchObject({ count: 1, nulls: 4, min: 11 });
    expect(d.rowDiff!.samples.added.map((r) => r.values)).toEqual([
      { a: '1', b: '2', c: '3', column_3: null },
      { a: '4', b: '5', c: '6', column_3: null },
      { a: '8', b: '7', c: null, column_3: null },
      { a: '10', b: '9', c: null, column_3: '11' },
      { a: '13', b: '12', c: null, column_3: null },
    ]);
  });

  it('infers integer, number, boolean and string, and keeps 0x1F or " 12" as text', async () => {
    const s = await summarize(source(write(dir, 'types.csv', 'i,n,b,s,e\n1,1.5,true,0x1F,\n-2,1e3,FALSE, 12,\n+3,.5,True,Infinity,\n')));
    expect(s.columns.map((c) => c.type)).toEqual(['integer', 'number', 'boolean', 'string', 'null']);
    expect(col(s, 'n')).toMatchObject({ min: 0.5, max: 1000 });
    expect(col(s, 'i').mean).toBeCloseTo(2 / 3, 12);
  });

  it('reads TSV, including quoted tabs', async () => {
    const s = await summarize(source(write(dir, 'x.tsv', 'a\tb\n1\t"x\ty"\n2\tz\n')));
    expect(s.rows).toBe(2);
    expect(col(s, 'b').top!.map((t) => t.value).sort()).toEqual(['x\ty', 'z']);
  });

  it('streams gzip-compressed CSV, recognised by its magic bytes too', async () => {
    const text = 'a,b\n' + Array.from({ length: 5000 }, (_, i) => `${i},${i % 7}`).join('\n') + '\n';
    const gz = writeGz(dir, 'x.csv.gz', text);
    const s = await summarize(source(gz, { chunk: 1 }));
    expect(s.rows).toBe(5000);
    expect(col(s, 'b')).toMatchObject({ distinct: 7, min: 0, max: 6 });
    // A cache object has no extension: the caller names the format, gzip is sniffed.
    const asObject = await summarize({ ...source(gz), format: 'csv', path: 'objects/ab/cdef' });
    expect(asObject.rows).toBe(5000);
  });

  it('reports a file it cannot parse as an error, without throwing, and diffs the rest', async () => {
    const good = write(dir, 'good.csv', 'a,b\n1,2\n');
    const binary = write(dir, 'bad.csv', Buffer.from([0x00, 0x01, 0x02, 0xff, 0x00, 0x0a, 0x41]));
    const d = await diffContent(source(good), source(binary));
    expect(d.errors).toEqual([{ side: 'after', path: binary, message: 'not tabular: binary data (NUL bytes), not delimited text' }]);
    expect(d.rows).toEqual({ before: 1, after: null, delta: null });
    expect(d.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(d.rowDiff).toBeNull();
    const truncated = writeGz(dir, 'cut.csv.gz', 'a,b\n' + '1,2\n'.repeat(50000));
    const bytes = (await import('node:fs')).readFileSync(truncated);
    const cut = write(dir, 'cut2.csv.gz', bytes.subarray(0, bytes.length - 20));
    const d2 = await diffContent(source(good), source(cut));
    expect(d2.errors[0]!.message).toMatch(/gzip data is corrupt|unexpected end/);
    const unterminated = write(dir, 'open-quote.csv', 'a,b\n1,"never closed\n2,3\n');
    const d3 = await diffContent(source(good), source(unterminated));
    expect(d3.errors[0]!.message).toMatch(/unterminated quoted field/);
  });
});
