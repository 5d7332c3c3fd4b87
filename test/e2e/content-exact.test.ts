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
/** `dvs diff --content --json --rows 3` of every file, by path. */
let changes: Map<string, Change>;

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

/** 20 JSON integers beyond 2^53, 4 apart; `changed`: the fourth is 2 less, which rounds to the same double. */
function bigSelect(changed: boolean): string {
  return `SELECT i AS id, (9007199254740993::HUGEINT + 4 * i - ${changed ? 'CASE WHEN i = 3 THEN 2 ELSE 0 END' : '0'})::VARCHAR AS big FROM range(20) t(i)`;
}

/** 3,000 ASCII rows (over 64 KB), then `word`: the first non-ASCII text comes after the first chunk. */
function lateText(word: string): string {
  return 'id,word\n' + Array.from({ length: 3000 }, (_, i) => `${i},ascii-text-for-the-first-chunk-${i}\n`).join('') + `3000,${word}\n`;
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
  // CSV: the same values in another row order, columns reordered; numbers written differently; keys.
  const noisy = `SELECT i AS id, (hash(i) % 1000003) / 997.0 AS x, 'k' || (i % 13) AS label FROM range(20000) t(i)`;
  await copy(noisy, 'shuffled.csv', 'FORMAT csv, HEADER');
  await copy(`SELECT i AS id, i::INTEGER AS v FROM range(50) t(i)`, 'format.csv', 'FORMAT csv, HEADER');
  const scores = `SELECT i AS id, 'n' || i AS name, i * 10.0 AS score FROM range(200) t(i)`;
  await copy(scores, 'scores.csv', 'FORMAT csv, HEADER');
  await copy(scores, 'nokey.csv', 'FORMAT csv, HEADER');
  for (const f of ['empty.csv', 'header.csv', 'random.csv', 'ragged.csv']) await copy(`SELECT i AS id, i * 2 AS double FROM range(10) t(i)`, f, 'FORMAT csv, HEADER');
  writeFileSync(join(repo, 'latin1.csv'), 'id,word\n1,café\n2,thé\n3,naïve\n');
  writeFileSync(join(old, 'latin1.csv'), 'id,word\n1,café\n2,thé\n3,naïve\n');
  // JSONL integers beyond 2^53 (one changes by 2: the same double), and text Latin-1 only after 64 KB.
  const bigJsonl = async (changed: boolean) => (await db.rows<{ id: number; big: string }>(bigSelect(changed))).map((r) => `{"id":${r.id},"big":${r.big}}\n`).join('');
  writeFileSync(join(repo, 'big.jsonl'), await bigJsonl(false));
  writeFileSync(join(old, 'big.jsonl'), await bigJsonl(false));
  writeFileSync(join(repo, 'late.csv'), lateText('cafe'));
  writeFileSync(join(old, 'late.csv'), lateText('cafe'));
  writeFileSync(join(repo, 'mixed.csv'), lateText('cafe'));
  const csvs = ['big.jsonl', 'late.csv', 'mixed.csv', 'shuffled.csv', 'format.csv', 'scores.csv', 'nokey.csv', 'empty.csv', 'header.csv', 'random.csv', 'ragged.csv', 'latin1.csv'];
  const files = ['exact.parquet', ...CODECS.map((c) => `codec-${c}.parquet`), ...csvs];
  const t = await dvs(repo, ['track', ...files]);
  expect(t.code, t.stderr).toBe(0);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'before');
  // After versions (in the repository only).
  await db.run(`COPY (${exactSelect(true)}) TO ${sqlPath(join(repo, 'exact.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
  const to = (file: string) => sqlPath(join(repo, file));
  await db.run(`COPY (SELECT label, x, id FROM (${noisy}) ORDER BY hash(id + 7)) TO ${to('shuffled.csv')} (FORMAT csv, HEADER)`);
  await db.run(`COPY (SELECT i AS id, i::DOUBLE AS v FROM range(50) t(i)) TO ${to('format.csv')} (FORMAT csv, HEADER)`);
  await db.run(
    `COPY (SELECT id, CASE WHEN id = 5 THEN 'renamed' ELSE name END AS name, CASE WHEN id IN (7, 9) THEN score - 25 WHEN id = 11 THEN score + 0.5 ELSE score END AS score FROM (${scores})) TO ${to('scores.csv')} (FORMAT csv, HEADER)`,
  );
  await db.run(`COPY (SELECT id AS ident, name, score FROM (${scores}) WHERE id < 150) TO ${to('nokey.csv')} (FORMAT csv, HEADER)`);
  writeFileSync(join(repo, 'empty.csv'), '');
  await db.run(`COPY (SELECT i AS id, i * 2 AS double FROM range(10) t(i) WHERE false) TO ${to('header.csv')} (FORMAT csv, HEADER)`);
  writeFileSync(join(repo, 'random.csv'), randomBytes(4096).map((b) => b || 1));
  writeFileSync(join(repo, 'ragged.csv'), readFileSync(join(old, 'ragged.csv'), 'utf8').replace('\n3,6\n', '\n3\n').replace('\n7,14\n', '\n7\n'));
  writeFileSync(join(repo, 'latin1.csv'), Buffer.from('id,word\n1,cafè\n2,thé\n3,naïve\n', 'latin1'));
  writeFileSync(join(repo, 'big.jsonl'), await bigJsonl(true));
  writeFileSync(join(repo, 'late.csv'), Buffer.from(lateText('café'), 'latin1'));
  writeFileSync(join(repo, 'mixed.csv'), Buffer.concat([Buffer.from(lateText('café')), Buffer.from('3001,thé\n', 'latin1')]));
  for (const codec of CODECS) {
    await db.run(
      `COPY (SELECT i AS id, 'name-' || (i % 37) AS name, CASE WHEN i % 50 = 0 THEN -1 ELSE i * 0.25 END AS score FROM range(2000) t(i)) TO ${sqlPath(join(repo, `codec-${codec}.parquet`))} (FORMAT parquet, COMPRESSION ${codec})`,
    );
  }
  changes = await diff('--rows', '3');
}, 120_000);

afterAll(() => {
  db?.close();
  cleanupTempDirs();
});

const before = (file: string) => sqlPath(join(old, file));
const after = (file: string) => sqlPath(join(repo, file));

describe('exact values (DECIMAL(38,2), int64 beyond 2^53, microsecond timestamps)', () => {
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

describe('exact statistics of decimals and big integers', () => {
  it('min and max are the exact values DuckDB finds, the mean is the exact mean rounded once', async () => {
    const c = changes.get('exact.parquet')!.content;
    for (const col of ['amount', 'big']) {
      const r = (await db.rows<any>(`SELECT min("${col}")::VARCHAR AS min, max("${col}")::VARCHAR AS max, sum("${col}")::VARCHAR AS sum, count("${col}") AS n FROM ${after('exact.parquet')}`))[0];
      const stats = c.columns.find((x: any) => x.name === col).after;
      expect([String(stats.min), String(stats.max)], col).toEqual([r.min, r.max]);
      expect(stats.mean, col).toBe(exactMean(r.sum, Number(r.n)));
    }
  });

  it('from the footer alone (no row read), DECIMAL, int64 and microsecond timestamp bounds are exact too', async () => {
    const c = (await diff('-t', 'exact.parquet')).get('exact.parquet')!.content;
    expect(c.rowDiff).toBeNull();
    const bounds: Record<string, any> = {};
    for (const [file, side] of [[before('exact.parquet'), 'before'], [after('exact.parquet'), 'after']] as const) {
      const r = (
        await db.rows<any>(
          `SELECT min(amount)::VARCHAR AS amount_min, max(amount)::VARCHAR AS amount_max, min(big)::VARCHAR AS big_min, max(big)::VARCHAR AS big_max,
             strftime(min("at"), '%Y-%m-%dT%H:%M:%S.%fZ') AS at_min, strftime(max("at"), '%Y-%m-%dT%H:%M:%S.%fZ') AS at_max FROM ${file}`,
        )
      )[0];
      bounds[side] = r;
      for (const col of ['amount', 'big', 'at']) {
        const stats = c.columns.find((x: any) => x.name === col)[side];
        expect(stats.source, col).toBe('footer');
        expect([String(stats.min), String(stats.max)], `${col} ${side}`).toEqual([r[`${col}_min`], r[`${col}_max`]]);
      }
    }
    // The bounds moved past a double's precision only: the column is changed, not unchanged.
    const moved = bounds.before.amount_max !== bounds.after.amount_max || bounds.before.amount_min !== bounds.after.amount_min;
    expect(c.columns.find((x: any) => x.name === 'amount').change).toBe(moved ? 'changed' : 'unchanged');
  });

  it('JSONL integers beyond 2^53 keep every digit: the changed row, distinct values, min, max and mean', async () => {
    const c = changes.get('big.jsonl')!.content;
    const differ = Number(await db.value(`SELECT count(*) FROM (${bigSelect(true)} EXCEPT ALL ${bigSelect(false)})`));
    expect(differ).toBe(1);
    expect(c.rowDiff).toMatchObject({ added: differ, removed: differ });
    const added = (await db.rows<any>(`${bigSelect(true)} EXCEPT ALL ${bigSelect(false)}`))[0];
    expect(c.rowDiff.samples.added[0].values.big).toBe(added.big);
    const r = (await db.rows<any>(`SELECT count(DISTINCT big::HUGEINT) AS d, min(big::HUGEINT)::VARCHAR AS min, max(big::HUGEINT)::VARCHAR AS max, sum(big::HUGEINT)::VARCHAR AS sum, count(*) AS n FROM (${bigSelect(true)})`))[0];
    const stats = c.columns.find((x: any) => x.name === 'big').after;
    expect(stats).toMatchObject({ type: 'integer', distinct: Number(r.d), min: r.min, max: r.max, mean: exactMean(r.sum, Number(r.n)) });
  });
});

/** sum / n from DuckDB's exact sum, to 30 significant digits before the one rounding to a double. */
function exactMean(sum: string, n: number): number {
  const [whole, frac = ''] = sum.split('.');
  const scaled = (BigInt(whole! + frac) * 10n ** 30n) / BigInt(n);
  return Number(`${scaled}e-${30 + frac.length}`);
}

describe('CSV: false changes, encodings, edge files', () => {
  it('the same values in another row order and another column order: no changed column, no changed row, a reorder', async () => {
    const c = changes.get('shuffled.csv')!.content;
    const differ = Number(await db.value(`SELECT count(*) FROM (SELECT id, x, label FROM ${before('shuffled.csv')} EXCEPT ALL SELECT id, x, label FROM ${after('shuffled.csv')})`));
    expect(differ).toBe(0);
    expect(c.schema.reordered).toBe(true);
    expect(c.columns.map((x: any) => [x.name, x.change, x.score])).toEqual(expect.arrayContaining([['x', 'unchanged', 0], ['id', 'unchanged', 0], ['label', 'unchanged', 0]]));
    expect(c.rowDiff).toMatchObject({ added: 0, removed: 0 });
    const mean = Number(await db.value(`SELECT avg(x) FROM ${after('shuffled.csv')}`));
    expect(c.columns.find((x: any) => x.name === 'x').after.mean).toBeCloseTo(mean, 9);
  });

  it('numbers written differently are a formatting change; --normalize-numbers makes the row diff compare them as numbers', async () => {
    const c = changes.get('format.csv')!.content;
    const asText = `(all_varchar = true)`;
    const differAsText = Number(await db.value(`SELECT count(*) FROM (SELECT * FROM read_csv(${before('format.csv')}, ${asText.slice(1, -1)}) EXCEPT ALL SELECT * FROM read_csv(${after('format.csv')}, ${asText.slice(1, -1)}))`));
    const differAsNumbers = Number(await db.value(`SELECT count(*) FROM (SELECT id, v::DOUBLE FROM ${before('format.csv')} EXCEPT ALL SELECT id, v::DOUBLE FROM ${after('format.csv')})`));
    expect(differAsText).toBeGreaterThan(0);
    expect(differAsNumbers).toBe(0);
    const v = c.columns.find((x: any) => x.name === 'v');
    expect(v).toMatchObject({ reformatted: true });
    expect(c.schema.typeChanged).toEqual([]);
    expect(v.score).toBeLessThanOrEqual(0.01);
    expect(c.rowDiff).toMatchObject({ added: differAsText, removed: differAsText });
    const normalized = (await diff('--normalize-numbers', '-t', 'format.csv')).get('format.csv')!.content;
    expect(normalized.rowDiff).toMatchObject({ added: differAsNumbers, removed: differAsNumbers });
  });

  it('decodes a Latin-1 file, reports café → cafè as a change, and says the file is not UTF-8', async () => {
    const c = changes.get('latin1.csv')!.content;
    const opts = `header = true, encoding = 'latin-1'`;
    const differ = Number(await db.value(`SELECT count(*) FROM (SELECT * FROM read_csv(${after('latin1.csv')}, ${opts}) EXCEPT ALL SELECT * FROM read_csv(${before('latin1.csv')}, header = true))`));
    expect(differ).toBe(1);
    expect(c.rowDiff).toMatchObject({ added: differ, removed: differ });
    expect(c.rowDiff.samples.added[0].values.word).toBe('cafè');
    expect(c.rowDiff.samples.removed[0].values.word).toBe('café');
    expect(c.notes.join('\n')).toMatch(/latin1\.csv \(after\): not UTF-8 .*decoded as Windows-1252/);
  });

  it('a file that is ASCII for its first 64 KB and Latin-1 after is read as Latin-1 whole; one that mixes encodings says so', async () => {
    const c = changes.get('late.csv')!.content;
    const differ = Number(await db.value(`SELECT count(*) FROM (SELECT * FROM read_csv(${after('late.csv')}, header = true, encoding = 'latin-1') EXCEPT ALL SELECT * FROM read_csv(${before('late.csv')}, header = true))`));
    expect(differ).toBe(1);
    expect(c.rowDiff).toMatchObject({ added: differ, removed: differ });
    expect(c.rowDiff.samples.added[0].values.word).toBe('café');
    expect(c.notes.join('\n')).toMatch(/late\.csv \(after\): not UTF-8 .*decoded as Windows-1252/);
    const mixed = changes.get('mixed.csv')!.content;
    expect(mixed.notes.join('\n')).toMatch(/mixed\.csv \(after\): mixes encodings: UTF-8 text before byte offset \d+/);
  });

  it('an empty file is 0 rows, a header-only file 0 rows with its schema, random bytes "not tabular", ragged rows counted per version', async () => {
    const empty = changes.get('empty.csv')!.content;
    expect(empty.errors).toEqual([]);
    expect(empty.rows).toMatchObject({ after: 0 });
    const header = changes.get('header.csv')!.content;
    const names = (await db.rows<any>(`DESCRIBE SELECT * FROM read_csv(${after('header.csv')}, header = true)`)).map((r) => r.column_name);
    expect(header.rows).toMatchObject({ before: Number(await db.value(`SELECT count(*) FROM ${before('header.csv')}`)), after: 0 });
    expect(header.schema.after.map((x: any) => x.name)).toEqual(names);
    expect(header.schema.typeChanged).toEqual([]);
    const random = changes.get('random.csv')!.content;
    expect(random.errors).toHaveLength(1);
    expect(random.errors[0].message).toMatch(/^not tabular: binary data/);
    expect(random.rows.after).toBeNull();
    const ragged = changes.get('ragged.csv')!.content;
    const rows = Number(await db.value(`SELECT count(*) FROM read_csv(${after('ragged.csv')}, header = true, null_padding = true)`));
    const short = Number(await db.value(`SELECT count(*) FROM read_csv(${after('ragged.csv')}, header = true, null_padding = true) WHERE double IS NULL`));
    expect(ragged.notes).toContain(`ragged.csv (after): ${short} of ${rows} rows have fewer fields than the header's 2 (missing cells count as null)`);
  });

  it('key mode counts changed cells per column, with the mean change, as DuckDB does', async () => {
    const r = await dvs(repo, ['diff', '--json', '--key', 'id', '-t', 'scores.csv', '-t', 'nokey.csv']);
    const out = new Map(json<{ changes: Change[] }>(r).changes.map((c) => [c.path, c.content]));
    const c = out.get('scores.csv');
    const joined = `${before('scores.csv')} b JOIN ${after('scores.csv')} a USING (id)`;
    const scoreRows = Number(await db.value(`SELECT count(*) FROM ${joined} WHERE a.score <> b.score`));
    const scoreDelta = Number(await db.value(`SELECT avg(a.score - b.score) FROM ${joined} WHERE a.score <> b.score`));
    const nameRows = Number(await db.value(`SELECT count(*) FROM ${joined} WHERE a.name <> b.name`));
    const changed = Number(await db.value(`SELECT count(*) FROM ${joined} WHERE a.name <> b.name OR a.score <> b.score`));
    expect(c.rowDiff).toMatchObject({ mode: 'key', changed, cellChangesOf: changed });
    expect(c.rowDiff.cellChanges).toEqual([
      { column: 'score', rows: scoreRows, meanDelta: expect.closeTo(scoreDelta, 9) },
      { column: 'name', rows: nameRows, meanDelta: null },
    ]);
    // The key column is missing after: rows compared as wholes, and the note says why.
    const n = out.get('nokey.csv');
    const removed = Number(await db.value(`SELECT count(*) FROM (SELECT name, score FROM ${before('nokey.csv')} EXCEPT ALL SELECT name, score FROM ${after('nokey.csv')})`));
    expect(n.rowDiff).toMatchObject({ mode: 'multiset', key: null, removed, added: 0 });
    expect(n.notes).toContain('key column "id" is not in after: rows were compared as wholes (multiset) instead of by key');
    const text = await dvs(repo, ['diff', '--key', 'id', '-t', 'scores.csv', '-t', 'format.csv']);
    expect(text.stdout, text.stdout).toMatch(new RegExp(`score: ${scoreRows} rows changed, mean Δ [−-]${Number(Math.abs(scoreDelta).toPrecision(6))}`));
    expect(text.stdout).toContain('v (number): same numbers written differently (formatting only)');
    expect(text.stdout).not.toMatch(/schema: v/);
  });
});
