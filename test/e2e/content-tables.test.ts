/**
 * `dvs diff --content` on tracked directories: a directory is a set of tables, a partitioned table gets
 * its totals over every partition (from the stats cache where it can), and the expected figures are
 * computed by DuckDB on the same files, not typed in.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { one, exec, lit } from '../duckdb.js';
import { cleanupTempDirs, dvs, git, gitRepo, json, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

async function trackAndCommit(repo: string, paths: string[], message: string): Promise<void> {
  const r = await dvs(repo, ['track', ...paths]);
  expect(r.code, r.stderr).toBe(0);
  git(repo, 'commit', '-q', '-m', message);
}

async function diffJson(repo: string, extra: string[] = []): Promise<any> {
  const r = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content', '--json', ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return json(r);
}

const col = (cols: Array<{ name: string }>, name: string): any => cols.find((c) => c.name === name);

/** Partition p of the Parquet dataset: 1,000 rows; `shift` moves its scores. */
async function writeParquetPartition(file: string, p: number, shift = 0): Promise<void> {
  await exec(
    `COPY (SELECT (${p} * 1000 + i)::BIGINT AS id, ((i * 7 + ${p}) % 1000) / 10.0 + ${shift} AS score, CASE WHEN i % 3 = 0 THEN 'math' ELSE 'code' END AS label
      FROM range(1000) t(i)) TO ${lit(file)} (FORMAT parquet, ROW_GROUP_SIZE 250)`,
  );
}

describe('dvs diff --content on a partitioned directory', () => {
  it('5 Parquet partitions, one changed: totals over all 5,000 rows, min/max over all partitions, from footers and then the stats cache', async () => {
    const repo = gitRepo();
    const dir = join(repo, 'data/parts');
    mkdirSync(dir, { recursive: true });
    for (let p = 0; p < 5; p++) await writeParquetPartition(join(dir, `part-${p}.parquet`), p);
    const snapshot = tempDir();
    for (let p = 0; p < 5; p++) copyFileSync(join(dir, `part-${p}.parquet`), join(snapshot, `part-${p}.parquet`));
    await trackAndCommit(repo, ['data/parts'], 'A');
    await writeParquetPartition(join(dir, 'part-2.parquet'), 2, 500);
    await trackAndCommit(repo, ['data/parts'], 'B');

    const stats = (d: string) => one(`SELECT count(*) AS n, min(score) AS lo, max(score) AS hi, min(id) AS idlo, max(id) AS idhi FROM read_parquet(${lit(join(d, '*.parquet'))})`);
    const [a, b] = [await stats(snapshot), await stats(dir)];

    const r = await diffJson(repo);
    const change = r.changes[0];
    expect(change.tables).toHaveLength(1);
    const table = change.tables[0];
    expect(table).toMatchObject({ name: 'part-*.parquet', layout: 'partitioned', files: { before: 5, after: 5, changed: 1 } });
    // What changed: one partition of 1,000 rows.
    expect(table.content.rows).toEqual({ before: 1000, after: 1000, delta: 0 });
    // The dataset: all five partitions.
    const ds = table.content.dataset;
    expect(ds.rows).toEqual({ before: a.n, after: b.n, delta: 0 });
    expect(ds.rows.before).toBe(5000);
    expect(ds.files).toEqual({ before: 5, after: 5 });
    expect([col(ds.columns, 'score').before.min, col(ds.columns, 'score').before.max]).toEqual([a.lo, a.hi]);
    expect([col(ds.columns, 'score').after.min, col(ds.columns, 'score').after.max]).toEqual([b.lo, b.hi]);
    expect([col(ds.columns, 'id').after.min, col(ds.columns, 'id').after.max]).toEqual([b.idlo, b.idhi]);
    expect(col(ds.columns, 'score').change).toBe('changed');
    expect(col(ds.columns, 'id').change).toBe('unchanged');
    // First diff: every distinct object's footer was read (5 before, the changed one after), none cached.
    expect(ds.read).toHaveLength(6);
    expect(ds.cached).toEqual([]);
    expect(ds.footerOnly).toBe(6);
    expect(change.content).toEqual(table.content);

    // Second diff: all from the stats cache, nothing read.
    const again = (await diffJson(repo)).changes[0].tables[0].content.dataset;
    expect(again.read).toEqual([]);
    expect(again.cached).toHaveLength(6);
    expect(again.rows).toEqual(ds.rows);
    expect(again.columns).toEqual(ds.columns);

    const text = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content']);
    expect(text.stdout).toContain('table part-*.parquet (parquet, partitioned, 5 → 5 files, 1 changed)');
    expect(text.stdout).toContain('dataset: rows 5,000 → 5,000 (±0) over 5 → 5 files');
    expect(text.stdout).toContain('dataset statistics: read 0 files, 6 from the stats cache, 6 Parquet footers only');
  });

  it('a CSV partition added: rows 300 → 350 over the dataset, statistics as DuckDB computes them', async () => {
    const repo = gitRepo();
    const dir = join(repo, 'events');
    mkdirSync(dir, { recursive: true });
    const part = (p: number, n: number) => ['x,kind', ...Array.from({ length: n }, (_, i) => `${p * 100 + i * 3},${i % 4 === 0 ? 'a' : 'b'}`)].join('\n') + '\n';
    for (let p = 0; p < 3; p++) writeFileSync(join(dir, `part-${p}.csv`), part(p, 100));
    const before = one(`SELECT count(*) AS n, avg(x) AS mean, min(x) AS lo, max(x) AS hi, count(*) FILTER (kind = 'a') AS a FROM read_csv(${lit(join(dir, '*.csv'))})`);
    const a = await before;
    await trackAndCommit(repo, ['events'], 'A');
    writeFileSync(join(dir, 'part-3.csv'), part(7, 50));
    await trackAndCommit(repo, ['events'], 'B');
    const b = await one(`SELECT count(*) AS n, avg(x) AS mean, min(x) AS lo, max(x) AS hi, count(*) FILTER (kind = 'a') AS a FROM read_csv(${lit(join(dir, '*.csv'))})`);

    const r = await diffJson(repo);
    const content = r.changes[0].tables[0].content;
    expect(content.rows).toEqual({ before: 0, after: 50, delta: 50 });
    expect(content.rowDiff.added).toBe(50);
    const ds = content.dataset;
    expect(ds.rows).toEqual({ before: 300, after: 350, delta: 50 });
    expect([ds.rows.before, ds.rows.after]).toEqual([a.n, b.n]);
    const x = col(ds.columns, 'x');
    expect(x.before.mean).toBeCloseTo(a.mean as number, 9);
    expect(x.after.mean).toBeCloseTo(b.mean as number, 9);
    expect([x.after.min, x.after.max]).toEqual([b.lo, b.hi]);
    const kind = col(ds.columns, 'kind');
    expect(kind.before.top.find((t: any) => t.value === 'a').count).toBe(a.a);
    expect(kind.after.top.find((t: any) => t.value === 'a').count).toBe(b.a);
    expect(kind.after.distinctExact).toBe(true);
    expect(ds.read.sort()).toEqual(['events/part-0.csv', 'events/part-1.csv', 'events/part-2.csv', 'events/part-3.csv']);

    const text = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content']);
    expect(text.stdout).toContain('rows: 0 → 50 (+50) in the changed files');
    expect(text.stdout).toContain('dataset: rows 300 → 350 (+50) over 3 → 4 files');
  });
});

describe('dvs diff --content: tables by evidence (path pattern and columns)', () => {
  it('one name pattern, two schemas: two tables; a partition whose columns changed stays in its table', async () => {
    const repo = gitRepo();
    const dir = join(repo, 'data');
    mkdirSync(dir, { recursive: true });
    const f = (name: string) => join(dir, name);
    // data_1 and data_2: one table (id, score); data_3: an unrelated table under the same name pattern.
    await exec(`COPY (SELECT i AS id, i * 1.5 AS score FROM range(100) t(i)) TO ${lit(f('data_1.csv'))} (FORMAT csv, HEADER)`);
    await exec(`COPY (SELECT 100 + i AS id, i * 2.5 AS score FROM range(80) t(i)) TO ${lit(f('data_2.csv'))} (FORMAT csv, HEADER)`);
    await exec(`COPY (SELECT 'c' || i AS country, i * 1000 AS pop FROM range(20) t(i)) TO ${lit(f('data_3.csv'))} (FORMAT csv, HEADER)`);
    const countOf = async (files: string[]) => Number((await one(`SELECT count(*) AS n FROM read_csv(${'[' + files.map((x) => lit(f(x))).join(', ') + ']'}, union_by_name = true)`)).n);
    const before = { main: await countOf(['data_1.csv', 'data_2.csv']), other: await countOf(['data_3.csv']) };
    await trackAndCommit(repo, ['data'], 'A');
    await exec(`COPY (SELECT i AS id, CASE WHEN i < 10 THEN i * 1.5 + 1 ELSE i * 1.5 END AS score FROM range(120) t(i)) TO ${lit(f('data_1.csv'))} (FORMAT csv, HEADER)`);
    await exec(`COPY (SELECT 100 + i AS id, i * 2.5 AS score, i % 2 = 0 AS flag FROM range(80) t(i)) TO ${lit(f('data_2.csv'))} (FORMAT csv, HEADER)`);
    await exec(`COPY (SELECT 'c' || i AS country, i * 1000 AS pop FROM range(25) t(i)) TO ${lit(f('data_3.csv'))} (FORMAT csv, HEADER)`);
    await trackAndCommit(repo, ['data'], 'B');
    const after = { main: await countOf(['data_1.csv', 'data_2.csv']), other: await countOf(['data_3.csv']) };
    const flags = Number((await one(`SELECT count(flag) AS n FROM read_csv(${lit(f('data_2.csv'))})`)).n);

    const change = (await diffJson(repo)).changes[0];
    expect(change.tables.map((t: any) => [t.name, t.layout, t.files])).toEqual([
      ['data_*.csv', 'partitioned', { before: 2, after: 2, changed: 2 }],
      ['data_3.csv', 'file', { before: 1, after: 1, changed: 1 }],
    ]);
    const [main, other] = change.tables;
    // No union schema of unrelated tables: each table has its own columns.
    expect(main.content.schema.after.map((c: any) => c.name).sort()).toEqual(['flag', 'id', 'score']);
    expect(other.content.schema.after.map((c: any) => c.name)).toEqual(['country', 'pop']);
    expect(main.content.dataset.rows).toEqual({ before: before.main, after: after.main, delta: after.main - before.main });
    expect(other.content.rows).toEqual({ before: before.other, after: after.other, delta: after.other - before.other });
    // The partition whose columns changed: a schema change of its table, and a note naming it.
    expect(main.content.schema.added).toEqual([expect.objectContaining({ name: 'flag' })]);
    expect(col(main.content.dataset.columns, 'flag').after.count).toBe(flags);
    expect(main.content.notes).toContain('data/data_2.csv (after): columns differ from 1 other file(s) of the table: +flag');
    // The files read to learn their columns are the totals' reads, not read twice nor called cached.
    expect(main.content.dataset.read).toHaveLength(4);
    expect(main.content.dataset.cached).toEqual([]);
  });
});
