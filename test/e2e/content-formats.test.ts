/**
 * `dvs diff --content` on a directory of several tables and formats: tables grouped by layout, a
 * converted file paired with its counterpart, JSON records, other files listed apart, and safetensors
 * weights compared tensor by tensor (header and per-tensor hashes), Arrow IPC streams and files as
 * Hugging Face datasets and Feather write them.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exec, lit, one, query } from '../duckdb.js';
import { cleanupTempDirs, dvs, git, gitRepo, json } from '../helpers.js';

afterAll(cleanupTempDirs);

async function trackAndCommit(repo: string, paths: string[], message: string): Promise<void> {
  const r = await dvs(repo, ['track', ...paths]);
  expect(r.code, r.stderr).toBe(0);
  git(repo, 'commit', '-q', '-m', message);
}

async function diffJson(repo: string): Promise<any> {
  const r = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return json(r);
}

/** A safetensors file: the header, then each tensor's bytes in order. */
function safetensors(tensors: Array<{ name: string; dtype: string; shape: number[]; bytes: Buffer }>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, ...tensors.map((t) => t.bytes)]);
}

const f32 = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

describe('dvs diff --content: a directory is a set of tables', () => {
  it('groups partitions by layout, diffs unrelated tables apart, pairs a converted file, lists other files', async () => {
    const repo = gitRepo();
    const d = join(repo, 'lake');
    const w = (rel: string, text: string | Buffer) => {
      mkdirSync(join(d, rel, '..'), { recursive: true });
      writeFileSync(join(d, rel), text);
    };
    // `5.0`: the Parquet double reads 5, so the engine's cell text differs and the record hash decides.
    w('flights.csv', 'id,delay,origin\n1,5.0,SEA\n2,-3,SFO\n3,12.5,JFK\n');
    w('species.json', JSON.stringify([{ name: 'ant', legs: 6 }, { name: 'cat', legs: 4 }]));
    w('logs/date=2024-01-01/part-0.csv', 'ts,level\n1,info\n2,warn\n');
    w('logs/date=2024-01-02/part-0.csv', 'ts,level\n3,info\n');
    w('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    w('raw/cars.csv', 'name,hp\nvw,90\nfiat,70\nvolvo,120\n');
    const carsBefore = lit(join(d, 'raw/cars.csv'));
    await exec(`CREATE TABLE cars_before AS SELECT * FROM read_csv(${carsBefore})`);
    await trackAndCommit(repo, ['lake'], 'A');
    // flights.csv becomes Parquet (same records), species gains a row, a day of logs is added, the logo changes.
    await exec(`COPY (SELECT * FROM read_csv(${lit(join(d, 'flights.csv'))}, columns = {'id': 'BIGINT', 'delay': 'DOUBLE', 'origin': 'VARCHAR'})) TO ${lit(join(d, 'flights.parquet'))} (FORMAT parquet)`);
    const flightsCsv = `read_csv(${lit(join(d, 'flights.csv'))}, columns = {'id': 'BIGINT', 'delay': 'DOUBLE', 'origin': 'VARCHAR'})`;
    const sameInDuckDB = (await one(`SELECT count(*) AS n FROM (SELECT * FROM ${flightsCsv} EXCEPT ALL SELECT * FROM ${lit(join(d, 'flights.parquet'))})`)).n;
    rmSync(join(d, 'flights.csv'));
    w('species.json', JSON.stringify([{ name: 'ant', legs: 6 }, { name: 'cat', legs: 4 }, { name: 'spider', legs: 8 }]));
    w('logs/date=2024-01-03/part-0.csv', 'ts,level\n4,error\n5,info\n');
    w('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 9, 9]));
    // cars.csv moves to another folder, and one car's hp changes on the way.
    rmSync(join(d, 'raw'), { recursive: true });
    w('clean/cars.csv', 'name,hp\nvw,90\nfiat,75\nvolvo,120\n');
    const carsChanged = (await one(`SELECT count(*) AS n FROM (SELECT * FROM read_csv(${lit(join(d, 'clean/cars.csv'))}) EXCEPT ALL SELECT * FROM cars_before)`)).n;
    await trackAndCommit(repo, ['lake'], 'B');

    const change = (await diffJson(repo)).changes[0];
    const names = change.tables.map((t: any) => `${t.layout}:${t.name}`);
    expect(names).toEqual(['converted:flights.csv → flights.parquet', 'partitioned:logs/date=*/part-*.csv', 'moved:raw/cars.csv → clean/cars.csv', 'file:species.json']);
    const [flights, logs, cars, species] = change.tables;
    expect(Number(carsChanged)).toBe(1);
    expect(cars.sameRecords).toBe(false);
    expect(cars.content.rowDiff).toMatchObject({ added: carsChanged, removed: carsChanged });
    expect(Number(sameInDuckDB)).toBe(0);
    expect(flights.sameRecords).toBe(true);
    expect(flights.content.notes.join('\n')).toContain('same records by the record hash');
    expect(flights.content.notes).toContain('format changed from csv to parquet');
    expect(logs.content.dataset.rows).toEqual({ before: 3, after: 5, delta: 2 });
    expect(logs.files).toEqual({ before: 2, after: 3, changed: 1 });
    expect(flights.files).toEqual({ before: 1, after: 1, changed: 2 });
    expect(species.content).toMatchObject({ format: 'json', rows: { before: 2, after: 3, delta: 1 } });
    expect(species.content.rowDiff.samples.added[0].values).toEqual({ name: 'spider', legs: 8 });
    expect(species.content.dataset).toBeNull();
    expect(change.otherFiles).toEqual(['logo.png']);

    const text = (await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content'])).stdout;
    expect(text).toContain('table flights.csv → flights.parquet (parquet, converted, 1 → 1 file, 2 changed, same records)');
    expect(text).toContain('not tabular, not compared: logo.png');
  });
});

describe('dvs diff --content on safetensors', () => {
  it('names the tensors added, removed, retyped, reshaped and those whose bytes changed, from the header and per-tensor hashes', async () => {
    const repo = gitRepo();
    const big = f32(Array.from({ length: 300_000 }, (_, i) => i)); // 1.2 MB: spans many stream chunks
    const v1 = safetensors(
      [
        { name: 'embed.weight', dtype: 'F32', shape: [300, 1000], bytes: big },
        { name: 'head.weight', dtype: 'F32', shape: [2, 2], bytes: f32([1, 2, 3, 4]) },
        { name: 'head.bias', dtype: 'F32', shape: [2], bytes: f32([0, 0]) },
        { name: 'old.scale', dtype: 'F32', shape: [1], bytes: f32([1]) },
        { name: 'norm.weight', dtype: 'F32', shape: [4], bytes: f32([1, 1, 1, 1]) },
      ],
      { step: '1000' },
    );
    const changedBig = Buffer.from(big);
    changedBig.writeFloatLE(-1, changedBig.length - 4); // the very last value
    const v2 = safetensors(
      [
        { name: 'embed.weight', dtype: 'F32', shape: [300, 1000], bytes: changedBig },
        { name: 'head.weight', dtype: 'F32', shape: [4], bytes: f32([1, 2, 3, 4]) },
        { name: 'head.bias', dtype: 'F16', shape: [2], bytes: Buffer.alloc(4) },
        { name: 'new.gate', dtype: 'BF16', shape: [3], bytes: Buffer.alloc(6) },
        { name: 'norm.weight', dtype: 'F32', shape: [4], bytes: f32([1, 1, 1, 1]) },
      ],
      { step: '2000' },
    );
    mkdirSync(join(repo, 'models'));
    writeFileSync(join(repo, 'model.safetensors'), v1);
    writeFileSync(join(repo, 'models/a.safetensors'), v1);
    await trackAndCommit(repo, ['model.safetensors', 'models'], 'v1');
    writeFileSync(join(repo, 'model.safetensors'), v2);
    writeFileSync(join(repo, 'models/a.safetensors'), v2);
    await trackAndCommit(repo, ['model.safetensors', 'models'], 'v2');

    const r = await diffJson(repo);
    const file = r.changes.find((c: any) => c.path === 'model.safetensors').tensors[0];
    expect(file).toMatchObject({
      path: 'model.safetensors',
      format: 'safetensors',
      change: 'modified',
      tensors: { before: 5, after: 5 },
      added: [{ name: 'new.gate', dtype: 'BF16', shape: [3] }],
      removed: [{ name: 'old.scale', dtype: 'F32', shape: [1] }],
      dtypeChanged: [{ name: 'head.bias', before: 'F32', after: 'F16' }],
      shapeChanged: [{ name: 'head.weight', before: '[2, 2]', after: '[4]' }],
      bytesChanged: ['embed.weight'],
      unchanged: 1,
      metadata: [{ key: 'step', before: '1000', after: '2000' }],
      errors: [],
    });
    // The same file inside a tracked directory.
    const dir = r.changes.find((c: any) => c.path === 'models');
    expect(dir.tensors[0]).toMatchObject({ path: 'models/a.safetensors', bytesChanged: ['embed.weight'], unchanged: 1 });
    expect(dir.otherFiles ?? []).toEqual([]);

    const text = (await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content'])).stdout;
    expect(text).toContain('model.safetensors (safetensors, modified): tensors 5 → 5');
    expect(text).toContain('head.bias: dtype F32 → F16');
    expect(text).toContain('bytes changed: embed.weight');
  });
});

/** Shard s of an Arrow dataset as DuckDB computes it; `changed`: every 7th row of shard 1 relabelled. */
function shardSelect(s: number, changed: boolean): string {
  const relabel = changed && s === 1 ? 'i % 7 = 0' : 'false';
  return `SELECT ${s} * 300 + i AS id, CASE WHEN ${relabel} THEN 'changed' ELSE 'label-' || (i % 5) END AS label,
    (i * 0.37 + ${s})::DOUBLE AS score, CASE WHEN i % 3 = 0 THEN 'en' ELSE 'fr' END AS lang FROM range(300) t(i)`;
}

/** The rows of a DuckDB query as Arrow IPC (`stream` as Hugging Face datasets write `.arrow`, or `file`), 100 rows per record batch, `lang` in a struct. */
async function arrowOf(select: string, format: 'stream' | 'file'): Promise<Uint8Array> {
  const { Table, tableFromJSON, tableToIPC } = await import('apache-arrow');
  const rows = (await query(`${select} ORDER BY id`)).map((r) => ({ id: Number(r.id), label: String(r.label), score: Number(r.score), meta: { lang: String(r.lang) } }));
  const table = tableFromJSON(rows);
  const batches = [];
  for (let i = 0; i < rows.length; i += 100) batches.push(...table.slice(i, i + 100).batches);
  return tableToIPC(new Table(batches), format);
}

describe('dvs diff --content on Arrow IPC', () => {
  it('Hugging Face-style stream shards are one table with totals; a Feather file is read as a file; figures as DuckDB computes them', async () => {
    const repo = gitRepo();
    const d = join(repo, 'hf');
    mkdirSync(d);
    const feather = (n: number) => `SELECT i AS id, 'label-' || (i % 5) AS label, (i * 0.5)::DOUBLE AS score, 'en' AS lang FROM range(${n}) t(i)`;
    for (const s of [0, 1]) writeFileSync(join(d, `train-0000${s}-of-00002.arrow`), await arrowOf(shardSelect(s, false), 'stream'));
    writeFileSync(join(d, 'stats.feather'), await arrowOf(feather(50), 'file'));
    await trackAndCommit(repo, ['hf'], 'A');
    writeFileSync(join(d, 'train-00001-of-00002.arrow'), await arrowOf(shardSelect(1, true), 'stream'));
    writeFileSync(join(d, 'stats.feather'), await arrowOf(feather(60), 'file'));
    await trackAndCommit(repo, ['hf'], 'B');

    const change = (await diffJson(repo)).changes[0];
    expect(change.tables.map((t: any) => `${t.layout}:${t.name}`)).toEqual(['file:stats.feather', 'partitioned:train-*-of-*.arrow']);
    const [stats, train] = change.tables;
    const differ = (await one(`SELECT count(*) AS n FROM (${shardSelect(1, true)} EXCEPT ALL ${shardSelect(1, false)})`)).n;
    expect(differ).toBeGreaterThan(0);
    expect(train.content.format).toBe('arrow');
    expect(train.content.errors).toEqual([]);
    expect(train.content.rowDiff).toMatchObject({ added: differ, removed: differ });
    expect(train.content.schema.after.map((c: any) => c.name)).toEqual(['id', 'label', 'score', 'meta.lang']);
    const all = (changed: boolean) => `${shardSelect(0, false)} UNION ALL ${shardSelect(1, changed)}`;
    const [a, b] = [await one(`SELECT count(*) AS n, avg(score) AS mean, count(*) FILTER (lang = 'en') AS en FROM (${all(false)})`), await one(`SELECT count(*) AS n, avg(score) AS mean, count(*) FILTER (label = 'changed') AS changed FROM (${all(true)})`)];
    const ds = train.content.dataset;
    expect(ds.rows).toEqual({ before: a.n, after: b.n, delta: 0 });
    expect(col(ds.columns, 'score').after.mean).toBeCloseTo(b.mean as number, 9);
    expect(col(ds.columns, 'meta.lang').before.top.find((t: any) => t.value === 'en').count).toBe(a.en);
    expect(col(ds.columns, 'label').after.top.find((t: any) => t.value === 'changed').count).toBe(b.changed);
    const n = async (rows: number) => (await one(`SELECT count(*) AS n FROM (${feather(rows)})`)).n;
    expect(stats.content).toMatchObject({ format: 'arrow', rows: { before: await n(50), after: await n(60) }, errors: [] });
    expect(stats.content.rowDiff).toMatchObject({ added: (await n(60)) - (await n(50)), removed: 0 });
  });
});

const col = (cols: Array<{ name: string }>, name: string): any => cols.find((c) => c.name === name);
