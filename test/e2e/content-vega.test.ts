/**
 * `dvs diff --content` on a real published data collection: the `vega-datasets` package, versions 2.5.4
 * and 3.2.1 (~70 files: CSV, TSV, JSON records, TopoJSON, Arrow, Parquet, images), downloaded by the
 * test with `npm pack` (not committed) and tracked as one directory at two commits. Every per-table
 * figure checked here is computed by DuckDB on the same files.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lit, one, query } from '../duckdb.js';
import { cleanupTempDirs, dvs, git, gitRepo, json, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const run = promisify(execFile);

/** The package's data directory, unpacked from the registry tarball. */
async function vega(version: string): Promise<string> {
  const dir = tempDir('dvs-vega-');
  const { stdout } = await run('npm', ['pack', `vega-datasets@${version}`, '--silent', '--pack-destination', dir], { cwd: dir, encoding: 'utf8' });
  await run('tar', ['xzf', join(dir, stdout.trim().split('\n').pop()!), '-C', dir]);
  return join(dir, 'package', 'data');
}

function reader(file: string): string {
  if (file.endsWith('.json')) return `read_json_auto(${lit(file)}, format = 'array', maximum_object_size = 100000000)`;
  if (file.endsWith('.parquet')) return `read_parquet(${lit(file)})`;
  return `read_csv(${lit(file)}, sample_size = -1)`;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;

/** Compare one version of a one-file table with DuckDB: rows, and count, nulls, min, max, mean of each numeric column both call numeric. */
async function checkSide(file: string, rows: number, columns: any[], side: 'before' | 'after'): Promise<number> {
  const src = reader(file);
  expect(rows, `${file}: rows`).toBe((await one(`SELECT count(*) AS n FROM ${src}`)).n);
  const types = new Map((await query(`DESCRIBE SELECT * FROM ${src}`)).map((r) => [r.column_name as string, r.column_type as string]));
  const numeric = columns.filter((c) => c[side] && (c[side].type === 'integer' || c[side].type === 'number') && NUMERIC.test(types.get(c.name) ?? ''));
  if (numeric.length === 0) return 0;
  // One query per file: DuckDB reads the file once for every column.
  const select = numeric.map((c, i) => {
    const q = `"${c.name.replace(/"/g, '""')}"`;
    return `count(${q}) AS n${i}, count(*) - count(${q}) AS nulls${i}, min(${q})::DOUBLE AS lo${i}, max(${q})::DOUBLE AS hi${i}, avg(${q})::DOUBLE AS mean${i}`;
  });
  const all = await one(`SELECT ${select.join(', ')} FROM ${src}`);
  let compared = 0;
  for (const [i, c] of numeric.entries()) {
    const s = c[side];
    const d = { n: all[`n${i}`], nulls: all[`nulls${i}`], lo: all[`lo${i}`], hi: all[`hi${i}`], mean: all[`mean${i}`] };
    const where = `${file} ${c.name} (${side})`;
    expect(s.count, where).toBe(d.n);
    expect(s.nulls, where).toBe(d.nulls);
    expect(s.min, where).toBeCloseTo(d.lo as number, 4);
    expect(s.max, where).toBeCloseTo(d.hi as number, 4);
    if (s.mean !== null) expect(Math.abs(s.mean - (d.mean as number)), where).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(d.mean as number)));
    compared++;
  }
  return compared;
}

describe('dvs diff --content on vega-datasets 2.5.4 → 3.2.1', () => {
  it('reports each changed table on its own, with figures DuckDB agrees with', { timeout: 240_000 }, async () => {
    const [a, b] = await Promise.all([vega('2.5.4'), vega('3.2.1')]);
    const repo = gitRepo();
    const data = join(repo, 'data');
    for (const [dir, message] of [
      [a, 'vega-datasets 2.5.4'],
      [b, 'vega-datasets 3.2.1'],
    ]) {
      rmSync(data, { recursive: true, force: true });
      cpSync(dir, data, { recursive: true });
      const t = await dvs(repo, ['track', 'data']);
      expect(t.code, t.stderr).toBe(0);
      git(repo, 'commit', '-q', '-m', message);
    }
    const r = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const change = json(r).changes[0];
    const tables = new Map<string, any>(change.tables.map((t: any) => [t.name, t]));

    // Unrelated files are tables of their own: no union of flights, gapminder and species columns.
    for (const t of change.tables) expect(t.layout, t.name).not.toBe('partitioned');
    expect(tables.get('gapminder-health-income.csv').content.schema.added.map((c: any) => c.name)).toEqual(['region']);
    expect(tables.get('species.csv').content.change).toBe('added');
    // JSON records and Arrow get a content diff; images and TopoJSON are listed apart.
    expect(tables.get('flights-2k.json').content.format).toBe('json');
    expect(tables.get('flights-200k.arrow').content.format).toBe('arrow');
    for (const t of change.tables) expect(t.content?.format ?? t.contentError, t.name).toMatch(/^(csv|tsv|json|arrow|parquet)$/);

    // Every one-file CSV/TSV/JSON table: rows and numeric statistics as DuckDB computes them.
    let compared = 0;
    let checked = 0;
    for (const t of change.tables) {
      if (t.layout !== 'file' || !t.content || !['csv', 'tsv', 'json'].includes(t.content.format)) continue;
      if (t.content.errors.length) continue; // not records (reported as such): nothing to compare
      const { rows, columns } = t.content;
      if (t.files.before) compared += await checkSide(join(a, t.name), rows.before, columns, 'before');
      if (t.files.after) compared += await checkSide(join(b, t.name), rows.after, columns, 'after');
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    expect(compared).toBeGreaterThanOrEqual(30);
    console.log(`vega: ${checked} tables, ${compared} column statistics compared with DuckDB`);

    // The Arrow file holds the same flights as the JSON file beside it.
    const arrow = tables.get('flights-200k.arrow').content;
    expect(arrow.rows.after).toBe((await one(`SELECT count(*) AS n FROM ${reader(join(b, 'flights-200k.json'))}`)).n);
    // flights-3m.csv became flights-3m.parquet: compared with its counterpart, rows and bounds from the footer.
    const converted = tables.get('flights-3m.csv → flights-3m.parquet');
    expect(converted.layout).toBe('converted');
    const pq = await one(`SELECT count(*) AS n, min(delay) AS lo, max(delay) AS hi FROM ${reader(join(b, 'flights-3m.parquet'))}`);
    expect(converted.content.rows.after).toBe(pq.n);
    expect(converted.sameRecords).toBe(false);
    const delay = converted.content.columns.find((c: any) => c.name === 'delay');
    expect([delay.after.min, delay.after.max]).toEqual([pq.lo, pq.hi]);
  });
});
