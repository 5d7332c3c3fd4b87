import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSource } from '../../src/diff/content/file-source.js';
import { canonicalNumber, canonicalValue, recordDigest } from '../../src/diff/content/record-hash.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

interface Vector {
  name: string;
  files: Record<string, string>;
  rows: number;
  multiset: string;
  sequence: string;
}

const doc = readFileSync(new URL('../../docs/record-hash.md', import.meta.url), 'utf8');
const between = (begin: string, end: string) => doc.slice(doc.indexOf(begin) + begin.length, doc.indexOf(end, doc.indexOf(begin)));
const vectors = JSON.parse(between('<!-- vectors:begin -->\n```json', '```\n<!-- vectors:end -->')) as Vector[];

async function digestOf(dir: string, names: string[], ordered: boolean) {
  const sources = await Promise.all([...names].sort().map((n) => fileSource(join(dir, n), n)));
  return recordDigest(sources, ordered);
}

describe('record hash: the test vectors of docs/record-hash.md', () => {
  it('has vectors to check', () => expect(vectors.length).toBeGreaterThanOrEqual(8));

  for (const v of vectors) {
    it(v.name, async () => {
      const dir = tempDir();
      for (const [name, text] of Object.entries(v.files)) writeFileSync(join(dir, name), text);
      const multiset = await digestOf(dir, Object.keys(v.files), false);
      const sequence = await digestOf(dir, Object.keys(v.files), true);
      expect({ rows: multiset.rows, multiset: multiset.digest, sequence: sequence.digest }).toEqual({ rows: v.rows, multiset: v.multiset, sequence: v.sequence });
    });
  }

  it('the same records in other containers hash alike; a changed value and reordering behave as specified', () => {
    const byName = Object.fromEntries(vectors.map((v) => [v.name, v]));
    const csv = vectors[0]!;
    for (const name of ['jsonl, other column order, same records', 'two partitions, same records']) {
      expect(byName[name]!.multiset).toBe(csv.multiset);
      expect(byName[name]!.sequence).toBe(csv.sequence);
    }
    expect(byName['rows reordered']!.multiset).toBe(csv.multiset);
    expect(byName['rows reordered']!.sequence).not.toBe(csv.sequence);
    expect(byName['one value changed']!.multiset).not.toBe(csv.multiset);
  });

  // The Python reference in the docs is the spec's second implementation: where python3 exists, it must agree.
  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)('the Python reference implementation in the docs reproduces every vector', () => {
    const dir = tempDir();
    const script = join(dir, 'record_hash.py');
    writeFileSync(script, between('```python\n', '```\n'));
    const r = spawnSync('python3', [script], { input: JSON.stringify(vectors), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('ok'))).toHaveLength(vectors.length);
    expect(r.status).toBe(0);
  });
});

describe('record hash: canonical values', () => {
  it.each([
    ['1', ['n', '1e0']],
    ['1.0', ['n', '1e0']],
    ['+001', ['n', '1e0']],
    ['1e0', ['n', '1e0']],
    ['-0.50', ['n', '-5e-1']],
    ['1000', ['n', '1e3']],
    ['-0', ['n', '0']],
    ['.5', ['n', '5e-1']],
    ['NaN', ['n', 'nan']],
    ['-Infinity', ['n', '-inf']],
    ['TRUE', ['b', 'true']],
    ['2024-02-29', ['d', '2024-02-29']],
    ['2023-02-29', ['s', '2023-02-29']],
    ['2024-03-01T00:30:00+01:00', ['t', '2024-02-29T23:30:00Z']],
    ['2024-03-01 12:30:00.1200', ['t', '2024-03-01T12:30:00.12Z']],
    ['2024-03-01T00:00:00.000Z', ['d', '2024-03-01']],
    ['0x1F', ['s', '0x1F']],
    [' 12', ['s', ' 12']],
    ['1_000', ['s', '1_000']],
  ] as const)('text %j is %j', (text, want) => {
    expect(canonicalValue(text, true)).toEqual(want);
  });

  it('typed values: doubles by their shortest round-trip text, nulls and empty strings left out', () => {
    expect(canonicalValue(0.1)).toEqual(['n', '1e-1']);
    expect(canonicalValue(1e21)).toEqual(['n', '1e21']);
    expect(canonicalValue(12345678901234567890)).toEqual(['n', '12345678901234567e3']);
    expect(canonicalValue(false)).toEqual(['b', 'false']);
    expect(canonicalValue(null)).toBeNull();
    expect(canonicalValue('')).toBeNull();
    expect(canonicalNumber('000')).toBe('0');
  });
});

describe('record hash: Parquet', () => {
  it('a Parquet file hashes like the CSV it was made from: integers, floats, float32, booleans, timestamps, strings, nulls', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.csv'), 'when,id,ok,f32,score,name\n2024-03-01 12:30:00,1,true,0.1,0.25,ada\n2024-03-02,2,false,,1e21,\n,3,,2.5,,"c, d"\n');
    parquetWriteFile({
      filename: join(dir, 'a.parquet'),
      columnData: [
        { name: 'id', data: [1n, 2n, 3n], type: 'INT64' },
        { name: 'name', data: ['ada', null, 'c, d'], type: 'STRING' },
        { name: 'score', data: [0.25, 1e21, null], type: 'DOUBLE' },
        { name: 'f32', data: [0.1, null, 2.5], type: 'FLOAT' },
        { name: 'ok', data: [true, false, null], type: 'BOOLEAN' },
        { name: 'when', data: [new Date('2024-03-01T12:30:00Z'), new Date('2024-03-02T00:00:00Z'), null], type: 'TIMESTAMP' },
      ],
    });
    const csv = await digestOf(dir, ['a.csv'], false);
    const parquet = await digestOf(dir, ['a.parquet'], false);
    expect(parquet).toEqual(csv);
    expect(csv.rows).toBe(3);
  });

  it('a Parquet file split across two files keeps the multiset digest; one changed value changes it', async () => {
    const dir = tempDir();
    const write = (name: string, ids: number[], scores: number[]) =>
      parquetWriteFile({
        filename: join(dir, name),
        columnData: [
          { name: 'id', data: ids, type: 'INT32' },
          { name: 'score', data: scores, type: 'DOUBLE' },
        ],
      });
    write('all.parquet', [1, 2, 3, 4], [0.5, 1.5, 2.5, 3.5]);
    write('p1.parquet', [3, 4], [2.5, 3.5]);
    write('p2.parquet', [1, 2], [0.5, 1.5]);
    write('changed.parquet', [1, 2, 3, 4], [0.5, 1.5, 2.5, 3.25]);
    const whole = await digestOf(dir, ['all.parquet'], false);
    expect((await digestOf(dir, ['p1.parquet', 'p2.parquet'], false)).digest).toBe(whole.digest);
    expect((await digestOf(dir, ['changed.parquet'], false)).digest).not.toBe(whole.digest);
    // In path order p1 then p2 the rows come as 3, 4, 1, 2: a different sequence.
    expect((await digestOf(dir, ['p1.parquet', 'p2.parquet'], true)).digest).not.toBe((await digestOf(dir, ['all.parquet'], true)).digest);
  });
});
