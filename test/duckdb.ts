/**
 * DuckDB as the independent engine the content-diff tests check dvs against: it writes test files
 * (Parquet, CSV) and computes the expected counts and statistics. In-process, one instance per test file.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

let connection: Promise<DuckDBConnection> | undefined;

export function duck(): Promise<DuckDBConnection> {
  connection ??= (async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    return instance.connect();
  })();
  return connection;
}

/** Rows of a query as plain objects (BIGINTs and DECIMALs as numbers where they fit, else strings). */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const c = await duck();
  const reader = await c.runAndReadAll(sql);
  return reader.getRowObjectsJson().map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && Number.isSafeInteger(Math.trunc(Number(v))) ? Number(v) : v;
    return out;
  });
}

/** One row of a query. */
export async function one(sql: string): Promise<Record<string, unknown>> {
  const rows = await query(sql);
  if (rows.length !== 1) throw new Error(`expected one row from ${sql}, got ${rows.length}`);
  return rows[0]!;
}

/** Run a statement (COPY … TO, CREATE …). */
export async function exec(sql: string): Promise<void> {
  await (await duck()).run(sql);
}

/** A string as a SQL literal. */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
