import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStats, groupTables, sharedBins, splitBySchema, summarize, tablePattern } from '../../../src/diff/content/index.js';
import { mergeFileStats } from '../../../src/diff/content/partial.js';
import { source, write } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dvs-tables-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('groupTables', () => {
  it('replaces the parts of a path that vary between partitions by *', () => {
    expect(tablePattern('part-00001.parquet')).toBe('part-*');
    expect(tablePattern('date=2024-01-01/part-0.csv')).toBe('date=*/part-*');
    expect(tablePattern('train-00000-of-00005.arrow')).toBe('train-*-of-*');
    expect(tablePattern('part-00000-3f2a9c1e-7b4d-4e1a-9a2b-0c1d2e3f4a5b-c000.snappy.parquet')).toBe('part-*-*-*-*-*-*-*.snappy');
    // Names with letters and digits mixed are names, not partitions.
    expect(tablePattern('flights-2k.json')).toBe('flights-2k');
    expect(tablePattern('sp500.csv')).toBe('sp500');
    expect(tablePattern('co2-concentration.csv')).toBe('co2-concentration');
  });

  it('makes one table per pattern and format, pairs a converted file, and lists non-tabular files apart', () => {
    const before = ['a/part-0.csv', 'a/part-1.csv', 'flights.csv', 'cars.json', 'logo.png', 'x=1/f.parquet'];
    const after = ['a/part-0.csv', 'a/part-1.csv', 'a/part-2.csv', 'flights.parquet', 'cars.json', 'logo.png', 'x=1/f.parquet', 'x=2/f.parquet'];
    const g = groupTables(before, after);
    expect(g.tables.map((t) => [t.name, t.layout, t.before.length, t.after.length])).toEqual([
      ['a/part-*.csv', 'partitioned', 2, 3],
      ['cars.json', 'file', 1, 1],
      ['flights.csv → flights.parquet', 'converted', 1, 1],
      ['x=*/f.parquet', 'partitioned', 1, 2],
    ]);
    expect(g.other).toEqual({ before: ['logo.png'], after: ['logo.png'] });
  });

  it('pairs a file moved to another folder (its format may change too), only when the name has one candidate on each side', () => {
    const g = groupTables(['raw/flights.csv', 'raw/cars.csv', 'old/a.csv', 'a/x.csv', 'b/x.csv'], ['clean/flights.csv', 'raw/cars.csv', 'new/a.parquet', 'c/x.csv']);
    expect(g.tables.map((t) => [t.name, t.layout])).toEqual([
      ['a/x.csv', 'file'],
      ['b/x.csv', 'file'],
      ['c/x.csv', 'file'],
      ['old/a.csv → new/a.parquet', 'moved'],
      ['raw/cars.csv', 'file'],
      ['raw/flights.csv → clean/flights.csv', 'moved'],
    ]);
  });

  it('keeps two files of one name and two formats in both versions as two tables (no conversion evidence)', () => {
    const g = groupTables(['d.csv', 'd.parquet'], ['d.csv', 'd.parquet']);
    expect(g.tables.map((t) => t.name)).toEqual(['d.csv', 'd.parquet']);
  });
});

describe('splitBySchema', () => {
  const schemas = (m: Record<string, string>) => (path: string, side: 'before' | 'after') => {
    const s = m[`${side}:${path}`] ?? m[path];
    return s === undefined ? undefined : s.split(',');
  };

  it('splits one path pattern into tables by columns; a partition whose columns changed stays in its table, with a note', () => {
    const before = ['data_1.csv', 'data_2.csv', 'data_3.csv', 'data_4.csv', 'data_5.csv'];
    const after = [...before, 'data_6.csv'];
    const g = splitBySchema(
      groupTables(before, after),
      schemas({
        'data_1.csv': 'id,score',
        'data_2.csv': 'score,id', // another order: the same columns
        'before:data_3.csv': 'id,score',
        'after:data_3.csv': 'id,score,extra', // this partition's columns changed
        'data_4.csv': 'name,price',
        'data_5.csv': 'name,price',
        'data_6.csv': 'country,pop', // a table of its own
      }),
    );
    expect(g.tables.map((t) => [t.name, t.layout, t.before, t.after])).toEqual([
      ['data_*.csv (columns id, score)', 'partitioned', ['data_1.csv', 'data_2.csv', 'data_3.csv'], ['data_1.csv', 'data_2.csv', 'data_3.csv']],
      ['data_*.csv (columns name, price)', 'partitioned', ['data_4.csv', 'data_5.csv'], ['data_4.csv', 'data_5.csv']],
      ['data_6.csv', 'file', [], ['data_6.csv']],
    ]);
    const changed = g.tables.find((t) => t.before.includes('data_3.csv'))!;
    expect(changed.notes).toEqual(['data_3.csv (after): columns differ from 2 other file(s) of the table: +extra']);
  });

  it('keeps columns added in later partitions (schema evolution) and files of unknown columns in the table', () => {
    const g = splitBySchema(
      groupTables(['d=1/p.parquet', 'd=2/p.parquet'], ['d=1/p.parquet', 'd=2/p.parquet', 'd=3/p.parquet', 'd=4/p.parquet']),
      schemas({ 'd=1/p.parquet': 'a,b', 'd=2/p.parquet': 'a,b', 'd=3/p.parquet': 'a,b,c' }),
    );
    expect(g.tables.map((t) => [t.name, t.after.length])).toEqual([['d=*/p.parquet', 4]]);
    expect(g.tables[0]!.notes).toEqual(['d=3/p.parquet (after): columns differ from 2 other file(s) of the table: +c']);
  });
});

describe('mergeFileStats', () => {
  it('gives the statistics of the files read as one table: counts, moments, bounds, exact top values', async () => {
    const parts = [
      'x,k,s\n1,a,foo\n2,b,\n3,a,bar\n',
      'x,k\n10,c\n-4,a\n',
      'x,k,s\n7.5,b,bazz\n,a,q\n',
    ].map((text, i) => write(dir, `p${i}.csv`, text));
    const merged = mergeFileStats(await Promise.all(parts.map((p) => fileStats(source(p), 'csv'))));
    // The same rows as one file, read in one pass.
    const whole = await summarize(source(write(dir, 'all.csv', 'x,k,s\n1,a,foo\n2,b,\n3,a,bar\n10,c,\n-4,a,\n7.5,b,bazz\n,a,q\n')));
    expect(merged.rows).toBe(whole.rows);
    for (const name of ['x', 'k', 's']) {
      const m = merged.columns.find((c) => c.name === name)!;
      const w = whole.columns.find((c) => c.name === name)!;
      expect({ ...m, mean: null, stddev: null, histogram: null }, name).toEqual({ ...w, mean: null, stddev: null, histogram: null });
      // Merged bins may be finer than one pass chose; on shared bins the two histograms are the same counts.
      const bins = sharedBins(m.histogram, w.histogram, 1000);
      expect(bins?.before, name).toEqual(bins?.after);
      if (w.mean !== null) {
        expect(m.mean).toBeCloseTo(w.mean, 12);
        expect(m.stddev).toBeCloseTo(w.stddev!, 12);
      }
    }
  });
});
