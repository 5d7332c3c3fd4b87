/**
 * Parquet dates and timestamps: their min and max are the same exact values whether the statistics come
 * from the footer (no row read) or from the rows (`--rows`, `--key`), and they are the values DuckDB
 * finds. The file is written by DuckDB (a date, timestamps in milliseconds, microseconds and nanoseconds,
 * one with a time zone, and nulls), and every expected bound is computed by DuckDB on the same file.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdb, sqlPath, type TestDuckDB } from '../duckdb.js';
import { cleanupTempDirs, dvs, git, gitRepo, json, tempDir } from '../helpers.js';

let repo: string;
let old: string;
let db: TestDuckDB;

/**
 * 300 rows; `changed` moves one value of each column past the old bounds by the column's finest unit
 * (a day, a millisecond, a microsecond, a nanosecond), so the after bounds differ from the before ones
 * only in the last digit.
 */
function temporalSelect(changed: boolean): string {
  const low = (unit: string) => (changed ? `- CASE WHEN i = 150 THEN ${unit} ELSE 0 END` : '');
  const high = (unit: string) => (changed ? `+ CASE WHEN i = 151 THEN ${unit} ELSE 0 END` : '');
  return `SELECT i AS id,
    CASE WHEN i % 17 = 4 THEN NULL ELSE DATE '2020-02-29' + (i % 250)::INTEGER ${low('251')} ${high('1')} END AS d,
    make_timestamp(1704067200123457 + (i % 200) * 1000003 ${low('200000600')} ${high('1')}) AS ts,
    make_timestamp_ms(1704067200123 + (i % 200) * 1003 ${low('200600')} ${high('1')})::TIMESTAMP_MS AS ts_ms,
    make_timestamp_ns(1704067200123456789 + (i % 200) * 1000000007 ${low('200000001400')} ${high('1')}) AS ts_ns,
    CASE WHEN i % 11 = 0 THEN NULL ELSE make_timestamp(1704067200000001 + (i % 200) * 7 ${low('1400')} ${high('1')})::TIMESTAMPTZ END AS tz
    FROM range(300) t(i)`;
}

/** Each column's bounds as dvs writes them (ISO 8601, UTC, the unit's digits), computed by DuckDB. */
const EXPECTED: Record<string, (x: string) => string> = {
  d: (x) => `strftime(${x}, '%Y-%m-%d') || 'T00:00:00.000Z'`,
  ts: (x) => fraction(x, 'epoch_us', 1_000_000, 6),
  ts_ms: (x) => fraction(x, 'epoch_ms', 1000, 3),
  ts_ns: (x) => fraction(x, 'epoch_ns', 1_000_000_000, 9),
  tz: (x) => fraction(`${x}::TIMESTAMP`, 'epoch_us', 1_000_000, 6),
};

function fraction(x: string, epoch: string, perSecond: number, digits: number): string {
  return `strftime(${x}, '%Y-%m-%dT%H:%M:%S') || '.' || lpad((${epoch}(${x}) % ${perSecond})::VARCHAR, ${digits}, '0') || 'Z'`;
}

async function duckBounds(file: string): Promise<Record<string, [string, string]>> {
  const cols = Object.entries(EXPECTED).map(([c, f]) => `${f(`min("${c}")`)} AS "${c}_min", ${f(`max("${c}")`)} AS "${c}_max"`);
  const r = (await db.rows<Record<string, string>>(`SELECT ${cols.join(', ')} FROM ${sqlPath(file)}`))[0]!;
  return Object.fromEntries(Object.keys(EXPECTED).map((c) => [c, [r[`${c}_min`]!, r[`${c}_max`]!]]));
}

beforeAll(async () => {
  db = await duckdb();
  repo = gitRepo();
  old = tempDir();
  await db.run(`COPY (${temporalSelect(false)}) TO ${sqlPath(join(repo, 'times.parquet'))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100)`);
  copyFileSync(join(repo, 'times.parquet'), join(old, 'times.parquet'));
  const t = await dvs(repo, ['track', 'times.parquet']);
  expect(t.code, t.stderr).toBe(0);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'before');
  await db.run(`COPY (${temporalSelect(true)}) TO ${sqlPath(join(repo, 'times.parquet'))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100)`);
}, 120_000);

afterAll(() => {
  db?.close();
  cleanupTempDirs();
});

describe('Parquet DATE and TIMESTAMP bounds', () => {
  it.each([
    ['the footer only', [], 'footer'],
    ['--rows', ['--rows', '3'], 'data'],
    ['--key', ['--key', 'id'], 'data'],
  ] as const)('are the exact values DuckDB finds, from %s', async (_mode, args, source) => {
    const r = await dvs(repo, ['diff', '--content', '--json', ...args, '-t', 'times.parquet']);
    const content = json<{ changes: { content: any }[] }>(r).changes[0]!.content;
    expect(content.errors).toEqual([]);
    if (source === 'data') expect(content.rowDiff).not.toBeNull();
    const expected = { before: await duckBounds(join(old, 'times.parquet')), after: await duckBounds(join(repo, 'times.parquet')) };
    // The change is in the last digit of every bound, so equal figures on both sides would prove nothing.
    for (const c of Object.keys(EXPECTED)) expect(expected.before[c], c).not.toEqual(expected.after[c]);
    for (const side of ['before', 'after'] as const) {
      for (const c of Object.keys(EXPECTED)) {
        const stats = content.columns.find((x: any) => x.name === c)[side];
        expect(stats.source, `${c} ${side}`).toBe(source);
        expect([stats.min, stats.max], `${c} ${side}`).toEqual(expected[side][c]);
      }
    }
  });
});
