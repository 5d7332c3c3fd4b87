import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRowIndex, concatScans, decodeRowIndex, encodeRowIndex, fileOfRow, lineOf, NO_ORIGIN, rowOfFile, scanRows, StoredRowIndex, viewOfIndex } from '../../src/lineage/row-index.js';
import { scanFileRows } from '../../src/lineage/row-scan.js';
import { findRowByKey, paramValues, positionOf, readRowAt, traceForward } from '../../src/lineage/trace.js';
import type { LineageStep } from '../../src/lineage/walk.js';

const dir = mkdtempSync(join(tmpdir(), 'dvs-rowindex-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const OID = 'a'.repeat(64);

describe('row index', () => {
  it('fingerprints rows by their bytes, whatever the line ending; blank lines and CSV quoted newlines move line numbers', () => {
    const lf = scanRows(file('a.jsonl', '{"a":1}\n{"a":2}\n'), 'jsonl');
    const crlf = scanRows(file('b.jsonl', '{"a":1}\r\n\r\n{"a":2}'), 'jsonl');
    expect([lf.rows, crlf.rows]).toEqual([2, 2]);
    expect(crlf.fps).toEqual(lf.fps);
    expect([lf.lines, lf.lineBase]).toEqual([undefined, 1]);
    expect([...crlf.lines!]).toEqual([1, 3]);
    const csv = scanRows(file('c.csv', 'id,note\n1,"a\nb"\n2,c\n'), 'csv');
    expect([csv.rows, lineOf(csv, 0), lineOf(csv, 1)]).toEqual([2, 2, 4]);
    // TSV has no quoting: a quote does not join lines.
    expect(scanRows(file('d.tsv', 'id\tnote\n1\t"a\n2\tb\n'), 'tsv').rows).toBe(2);
  });

  it('matches output rows to input rows, records drops and copies, and reads back what it wrote', () => {
    const a = scanRows(file('in1.jsonl', 'x\ny\nx\n'), 'jsonl');
    const b = scanRows(file('in2.jsonl', 'z\nx\n'), 'jsonl');
    const out = scanRows(file('out.jsonl', 'x\nz\nnew\n'), 'jsonl');
    const index = buildRowIndex({}, { path: 'out.jsonl', oid: OID, scan: out }, [
      { path: 'in1.jsonl', oid: OID, scan: a },
      { path: 'in2.jsonl', oid: OID, scan: b },
    ]);
    const back = decodeRowIndex(encodeRowIndex(index), OID);
    expect([...back.originInput]).toEqual([0, 1, NO_ORIGIN]);
    expect([...back.originRow.slice(0, 2)]).toEqual([0, 0]);
    // "y" dropped; the other copies of "x" dropped as copies of output row 0.
    expect([...back.inputs[0].fates]).toEqual([0, -1, -2]);
    expect([...back.inputs[1].fates]).toEqual([1, -2]);
    expect(back.fingerprint).toBe('row');
    expect(back.fps).toEqual(index.fps);
    // Read in place, entry by entry, a stored index says the same.
    const stored = new StoredRowIndex(file('idx.bin', encodeRowIndex(index)), OID);
    expect([0, 1, 2].map((r) => [stored.originInput(r), stored.originRow(r), stored.outputLine(r)])).toEqual([[0, 0, 1], [1, 0, 2], [NO_ORIGIN, 0, 3]]);
    expect([[...stored.fates(0)], stored.fate(1, 1), stored.inputLine(1, 1)]).toEqual([[0, -1, -2], -2, 2]);
    expect(stored.findFingerprint(index.fps[2], index.fps[3])).toBe(1);
    stored.close();
    expect(() => new StoredRowIndex(file('cut.bin', encodeRowIndex(index).subarray(0, 60)), OID)).toThrow(/truncated|JSON/);
    expect(() => decodeRowIndex(Buffer.from('not an index'), OID)).toThrow(/not a row index/);
    expect(() => decodeRowIndex(encodeRowIndex(index).subarray(0, 60), OID)).toThrow(/truncated|JSON/);
  });

  it('pairs copies as the spec says (the n-th output copy is the n-th input copy), whether or not the output keeps input order', () => {
    // A seeded generator: the same cases every run.
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let trial = 0; trial < 200; trial++) {
      const inputs = Array.from({ length: 1 + rand(3) }, () => Array.from({ length: rand(12) }, () => `r${rand(6)}`));
      const all = inputs.flat();
      let out = all.filter(() => rand(3) > 0);
      if (trial % 3 === 1) out = out.map((r, i) => (i % 4 === 3 ? out[rand(out.length)] : r)); // copies out of order
      if (trial % 3 === 2) out.push(`r${rand(8)}`); // maybe a created row
      // The reference: per value, the input positions in order; output copies take them in turn.
      const positions = new Map<string, number[]>();
      all.forEach((v, g) => positions.set(v, [...(positions.get(v) ?? []), g]));
      const used = new Map<string, number>();
      const fate = all.map(() => -1);
      const origin = out.map((v, k) => {
        const ps = positions.get(v);
        if (!ps) return -1;
        const n = used.get(v) ?? 0;
        used.set(v, n + 1);
        const g = ps[Math.min(n, ps.length - 1)];
        if (fate[g] < 0) fate[g] = k;
        return g;
      });
      for (const ps of positions.values()) {
        const kept = ps.find((g) => fate[g] >= 0);
        if (kept !== undefined) for (const g of ps) if (fate[g] === -1) fate[g] = -fate[kept] - 2;
      }
      const scans = inputs.map((rows, i) => ({ path: `in${i}`, oid: OID, scan: scanRows(file(`m${i}.jsonl`, rows.map((r) => `${r}\n`).join('')), 'jsonl') }));
      const index = buildRowIndex({}, { path: 'o', oid: OID, scan: scanRows(file('mo.jsonl', out.map((r) => `${r}\n`).join('')), 'jsonl') }, scans);
      const starts = inputs.map((_, i) => inputs.slice(0, i).reduce((n, rows) => n + rows.length, 0));
      const got = out.map((_, k) => (index.originInput[k] === NO_ORIGIN ? -1 : starts[index.originInput[k]] + index.originRow[k]));
      expect({ trial, origin: got, fate: index.inputs.flatMap((i) => [...i.fates]) }).toEqual({ trial, origin, fate });
    }
  });

  it('names rows by a declared column', () => {
    const before = scanRows(file('id1.csv', 'id,name\n7,ann\n8,bob\n'), 'csv', { rowId: 'id' });
    const after = scanRows(file('id2.csv', 'name,id\nBOB,8\n'), 'csv', { rowId: 'id' });
    const index = buildRowIndex({ rowId: 'id' }, { path: 'o.csv', oid: OID, scan: after }, [{ path: 'i.csv', oid: OID, scan: before }]);
    expect([...index.originRow]).toEqual([1]);
    expect(index.fingerprint).toBe('row-id:id');
    expect(() => scanRows(file('id3.csv', 'name\nx\n'), 'csv', { rowId: 'id' }, 'data/id3.csv')).toThrow('--row-id id: no such column in data/id3.csv');
  });

  it('shows the fields a parameter names', () => {
    const row = { score: 0.91, text: 'hello', meta: { lang: 'en' } };
    expect(paramValues({ min_score: 0.8, key: 'text', lang: 'meta.lang', seed: 3 }, row)).toEqual([
      { param: 'min_score', field: 'score', value: 0.91 },
      { param: 'key', field: 'text', value: 'hello' },
      { param: 'lang', field: 'meta.lang', value: 'en' },
    ]);
  });

  it('follows a row through a split to the output that kept it, and reports a drop only when no output kept it', async () => {
    const all = scanRows(file('all.jsonl', 'a\nb\nc\nd\n'), 'jsonl');
    const train = scanRows(file('train.jsonl', 'a\nb\n'), 'jsonl');
    const test = scanRows(file('test.jsonl', 'c\n'), 'jsonl');
    const IN = 'b'.repeat(64);
    const indexes = new Map([
      ['1'.repeat(64), buildRowIndex({}, { path: 'train.jsonl', oid: 'c'.repeat(64), scan: train }, [{ path: 'all.jsonl', oid: IN, scan: all }])],
      ['2'.repeat(64), buildRowIndex({}, { path: 'test.jsonl', oid: 'd'.repeat(64), scan: test }, [{ path: 'all.jsonl', oid: IN, scan: all }])],
    ]);
    const step = {
      id: 'split1', transform: 'split', params: { ratio: 0.5 }, inputs: [],
      outputs: [
        { path: 'train.jsonl', oid: 'c'.repeat(64), rows: 2, node: 'train', rowIndex: '1'.repeat(64) },
        { path: 'test.jsonl', oid: 'd'.repeat(64), rows: 1, node: 'test', rowIndex: '2'.repeat(64) },
      ],
    } as unknown as LineageStep;
    const consumers = new Map([[`all.jsonl@${IN}`, [step]]]);
    const load = async (oid: string) => viewOfIndex(indexes.get(oid)!);
    const start = (row: number) => ({ path: 'all.jsonl', oid: IN, row, at: { path: 'all.jsonl', oid: IN, row: row + 1, line: row + 1 } });
    const third = await traceForward(start(2), consumers, load);
    expect(third.map((b) => [b.end.status, b.end.at.path, b.end.at.row])).toEqual([['kept', 'test.jsonl', 1]]);
    const fourth = await traceForward(start(3), consumers, load);
    expect(fourth.map((b) => [b.end.status, b.hops.at(-1)?.transform])).toEqual([['dropped', 'split']]);
  });

  it('indexes a directory as its files one after another: positions name the file and the line in it', async () => {
    const raw = scanRows(file('raw.jsonl', 'a\nb\nc\nd\n'), 'jsonl');
    const OUT = 'e'.repeat(64);
    // test.csv (a header, a quoted newline: a line table) before train.jsonl, as a manifest orders them.
    const out = concatScans([
      { path: 'test.csv', oid: 'f'.repeat(64), scan: scanRows(file('test.csv', 'v\n"c"\n"x\ny"\n'), 'csv') },
      { path: 'train.jsonl', oid: '0'.repeat(64), scan: scanRows(file('train2.jsonl', 'b\na\n'), 'jsonl') },
    ]);
    expect([out.rows, out.files!.map((f) => [f.path, f.rows, f.lineBase])]).toEqual([4, [['test.csv', 2, 2], ['train.jsonl', 2, 1]]]);
    const index = buildRowIndex({}, { path: 'out', oid: OUT, scan: out }, [{ path: 'raw.jsonl', oid: OID, scan: raw }]);
    const stored = new StoredRowIndex(file('dir-idx.bin', encodeRowIndex(index)), OUT);
    expect(decodeRowIndex(encodeRowIndex(index), OUT).output.files).toEqual(out.files);
    expect([0, 1, 2, 3].map((r) => stored.outputLine(r))).toEqual([2, 3, 1, 2]);
    // raw "a" is the second row of train.jsonl: the directory's row 3.
    expect(positionOf(stored.output, stored.fate(0, 0), stored.outputLine(stored.fate(0, 0)))).toEqual({ path: 'out/train.jsonl', oid: '0'.repeat(64), row: 2, line: 2, dataset: { path: 'out', oid: OUT } });
    expect([rowOfFile(out.files!, 'train.jsonl', 1), rowOfFile(out.files!, 'train.jsonl', 2), fileOfRow(out.files!, 1)?.file.path]).toEqual([3, undefined, 'test.csv']);
    stored.close();
    // A header whose files do not add up to the rows is refused.
    const bad = encodeRowIndex({ ...index, output: { ...index.output, files: [{ ...out.files![0], rows: 9 }] } });
    expect(() => decodeRowIndex(bad, OUT)).toThrow(/do not add up/);
  });

  it('scans gzip-compressed text as its decompressed text, records split across stream chunks included', async () => {
    // Enough rows for several decompressed chunks, with quoted newlines and blank lines among them.
    const text = 'id,note\n' + Array.from({ length: 6000 }, (_, i) => (i % 7 === 0 ? `${i},"two\nlines ${i}"\n\n` : `${i},plain ${i}\n`)).join('');
    const plain = scanRows(file('big.csv', text), 'csv');
    const gz = await scanFileRows(file('big.csv.gz', gzipSync(text)), { format: 'csv', gzip: true }, {});
    expect(gz.rows).toBe(6000);
    expect(gz).toEqual(plain);
    expect(await readRowAt(join(dir, 'big.csv.gz'), { format: 'csv', gzip: true }, 5998)).toEqual({ id: '5998', note: 'plain 5998' });
    await expect(scanFileRows(file('bad.csv.gz', 'not gzip'), { format: 'csv', gzip: true }, {}, 'data/bad.csv.gz')).rejects.toThrow('data/bad.csv.gz: not valid gzip data');
  });

  it('names the same record alike in CSV, JSONL and Parquet in record mode, and by a row id in Parquet', async () => {
    const csv = await scanFileRows(file('r.csv', 'score,id\n0.5,a\n1000,b\n'), { format: 'csv', gzip: false }, { records: true });
    const jsonl = await scanFileRows(file('r.jsonl.gz', gzipSync('{"id":"b","score":1e3}\n\n{"id":"a","score":0.50}\n')), { format: 'jsonl', gzip: true }, { records: true });
    const pq = join(dir, 'r.parquet');
    parquetWriteFile({ filename: pq, columnData: [{ name: 'id', data: ['a', 'c', 'b'], type: 'STRING' }, { name: 'score', data: [0.5, 2, 1000], type: 'DOUBLE' }] });
    const parquet = await scanFileRows(pq, { format: 'parquet', gzip: false }, { records: true });
    expect([parquet.rows, parquet.lineBase, jsonl.lines && [...jsonl.lines]]).toEqual([3, 1, [1, 3]]);
    const index = buildRowIndex({ records: true }, { path: 'r.parquet', oid: OID, scan: parquet }, [{ path: 'r.csv', oid: OID, scan: csv }]);
    expect(index.fingerprint).toBe('record');
    expect([...index.originInput].map((i, k) => (i === NO_ORIGIN ? null : index.originRow[k]))).toEqual([0, null, 1]);
    expect(jsonl.fps.slice(0, 2)).toEqual(csv.fps.slice(2, 4));
    // A row id compares the column's text: the number 2 in Parquet is "2" in a CSV.
    const byId = await scanFileRows(pq, { format: 'parquet', gzip: false }, { rowId: 'score' });
    expect(byId.fps.slice(2, 4)).toEqual(scanRows(file('s.csv', 'score\n2\n'), 'csv', { rowId: 'score' }).fps);
    await expect(scanFileRows(pq, { format: 'parquet', gzip: false }, { rowId: 'nope' }, 'data/r.parquet')).rejects.toThrow('--row-id nope: no such column in data/r.parquet');
    expect([await findRowByKey(pq, { format: 'parquet', gzip: false }, 'id', 'b'), await readRowAt(pq, { format: 'parquet', gzip: false }, 1)]).toEqual([2, { id: 'c', score: 2 }]);
    // A line the record hash does not read as a record: the rows cannot be paired with lines.
    await expect(scanFileRows(file('bad.jsonl', '{"id":"a"}\n[1]\n'), { format: 'jsonl', gzip: false }, { records: true }, 'bad.jsonl')).rejects.toThrow('bad.jsonl: 2 lines of data but 1 records');
  });
});
