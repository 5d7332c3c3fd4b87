/**
 * `dvs diff --content` checked against DuckDB: the files are written by DuckDB (Parquet in every codec it
 * writes, CSV) or by hand where DuckDB cannot (Latin-1, ragged rows, random bytes), and every figure the
 * test expects is computed by DuckDB on the same files. One repository, one `dvs track` of every file, one
 * commit, then the new versions and a few `dvs diff` runs.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdb, sqlPath, type TestDuckDB } from '../duckdb.js';
import { cleanupTempDirs, dvs, git, gitRepo, json, tempDir } from '../helpers.js';

let repo: string;
let db: TestDuckDB;
/** Copies of the before versions, for DuckDB to compare with the after versions. */
let old: string;

const CODECS = ['zstd', 'brotli', 'lz4', 'gzip', 'snappy', 'uncompressed'] as const;

/** 1,000 rows whose DECIMAL(38,2), big int64 and microsecond timestamps change only past a double's precision. */
function exactSelect(changed: boolean): string {
  const bump = changed ? `(CASE WHEN i % 100 = 7 THEN 1 ELSE 0 END)` : '0';
  return `SELECT i AS id,
    (12345678901234567890123456789012.00 + i + ${bump} * 0.01)::DECIMAL(38,2) AS amount,
    (9007199254740992 + 2 * i + ${bump})::BIGINT AS big,
    (TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000 + ${bump})) AS at,
    (i % 10)::DECIMAL(38,2) + 0.5 AS bucket
    FROM range(1000) t(i)`;
}

async function copy(select: string, file: string, options: string): Promise<void> {
  await db.run(`COPY (${select}) TO ${sqlPath(join(repo, file))} (${options})`);
  await db.run(`COPY (${select}) TO ${sqlPath(join(old, file))} (${options})`);
}

interface Change {
  path: string;
  content: any;
  contentError?: string;
}

async function diff(...args: string[]): Promise<Map<string, Change>> {
  const r = await dvs(repo, ['diff', '--content', '--json', ...args]);
  const out = json<{ changes: Change[] }>(r);
  return new Map(out.changes.map((c) => [c.path, c]));
}

beforeAll(async () => {
  db = await duckdb();
  repo = gitRepo();
  old = tempDir();
  // Before versions, written to the repository and to `old`.
  await copy(exactSelect(false), 'exact.parquet', 'FORMAT parquet, COMPRESSION zstd');
  for (const codec of CODECS) {
    await copy(`SELECT i AS id, 'name-' || (i % 37) AS name, i * 0.25 AS score FROM range(2000) t(i)`, `codec-${codec}.parquet`, `FORMAT parquet, COMPRESSION ${codec}`);
  }
  const files = ['exact.parquet', ...CODECS.map((c) => `codec-${c}.parquet`)];
  const t = await dvs(repo, ['track', ...files]);
  expect(t.code, t.stderr).toBe(0);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'before');
  // After versions (in the repository only).
  await db.run(`COPY (${exactSelect(true)}) TO ${sqlPath(join(repo, 'exact.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
  for (const codec of CODECS) {
    await db.run(
      `COPY (SELECT i AS id, 'name-' || (i % 37) AS name, CASE WHEN i % 50 = 0 THEN -1 ELSE i * 0.25 END AS score FROM range(2000) t(i)) TO ${sqlPath(join(repo, `codec-${codec}.parquet`))} (FORMAT parquet, COMPRESSION ${codec})`,
    );
  }
}, 120_000);

afterAll(() => {
  db?.close();
  cleanupTempDirs();
});

const before = (file: string) => sqlPath(join(old, file));
const after = (file: string) => sqlPath(join(repo, file));

describe('exact values (DECIMAL(38,2), int64 beyond 2^53, microsecond timestamps)', () => {
  let changes: Map<string, Change>;
  beforeAll(async () => {
    changes = await diff('--rows', '3');
  }, 60_000);

  it('finds exactly the rows DuckDB finds different, and the distinct counts DuckDB counts', async () => {
    const c = changes.get('exact.parquet')!.content;
    const removed = Number(await db.value(`SELECT count(*) FROM (SELECT * FROM ${before('exact.parquet')} EXCEPT ALL SELECT * FROM ${after('exact.parquet')})`));
    const added = Number(await db.value(`SELECT count(*) FROM (SELECT * FROM ${after('exact.parquet')} EXCEPT ALL SELECT * FROM ${before('exact.parquet')})`));
    expect(removed).toBeGreaterThan(0);
    expect(c.rowDiff).toMatchObject({ mode: 'multiset', removed, added });
    for (const col of ['amount', 'big', 'at', 'id']) {
      const distinct = Number(await db.value(`SELECT count(DISTINCT "${col}") FROM ${after('exact.parquet')}`));
      const stats = c.columns.find((x: any) => x.name === col).after;
      expect(stats, col).toMatchObject({ distinct, distinctExact: true });
    }
    // The samples show the exact values, as DuckDB prints them.
    const sample = c.rowDiff.samples.added[0].values;
    const row = (await db.rows<any>(`SELECT amount::VARCHAR AS amount, big::VARCHAR AS big FROM ${after('exact.parquet')} WHERE id = ${sample.id}`))[0];
    expect(sample.amount).toBe(row.amount);
    expect(sample.big).toBe(row.big);
    expect(sample.at).toMatch(/^2024-01-01T00:00:\d\d\.\d{6}Z$/);
    // Decimals are still numbers for the statistics.
    const mean = Number(await db.value(`SELECT avg(bucket)::DOUBLE FROM ${after('exact.parquet')}`));
    expect(c.columns.find((x: any) => x.name === 'bucket').after.mean).toBeCloseTo(mean, 9);
  });

  it('matches rows by an exact key: a DECIMAL key that differs in the last digit is another key', async () => {
    const r = await dvs(repo, ['diff', '--json', '--key', 'amount', '-t', 'exact.parquet']);
    const c = json<{ changes: Change[] }>(r).changes[0]!.content;
    const gone = Number(await db.value(`SELECT count(*) FROM ${before('exact.parquet')} WHERE amount NOT IN (SELECT amount FROM ${after('exact.parquet')})`));
    expect(gone).toBeGreaterThan(0);
    expect(c.rowDiff).toMatchObject({ mode: 'key', removed: gone, added: gone });
  });

  it('reads Parquet in every codec DuckDB writes, rows and schema included', async () => {
    for (const codec of CODECS) {
      const file = `codec-${codec}.parquet`;
      const c = changes.get(file)!.content;
      expect(c.errors, codec).toEqual([]);
      const rows = Number(await db.value(`SELECT count(*) FROM ${after(file)}`));
      const changed = Number(await db.value(`SELECT count(*) FROM (SELECT * FROM ${after(file)} EXCEPT ALL SELECT * FROM ${before(file)})`));
      expect(c.rows, codec).toEqual({ before: rows, after: rows, delta: 0 });
      expect(c.schema.after.map((x: any) => x.name), codec).toEqual(['id', 'name', 'score']);
      expect(c.rowDiff, codec).toMatchObject({ added: changed, removed: changed });
      const mean = Number(await db.value(`SELECT avg(score) FROM ${after(file)}`));
      expect(c.columns.find((x: any) => x.name === 'score').after.mean, codec).toBeCloseTo(mean, 9);
    }
  });
});
