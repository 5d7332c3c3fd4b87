/**
 * DuckDB for tests: an independent engine that writes the test files (Parquet with any codec, CSV) and
 * computes the figures the tests expect, so no expected number is typed in by hand.
 *
 *   const db = await duckdb();
 *   await db.run(`COPY (SELECT …) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`);
 *   const n = await db.value<bigint>(`SELECT count(*) FROM '${file}'`);
 *   db.close();
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface TestDuckDB {
  /** Run statements (DDL, COPY …); nothing returned. */
  run(sql: string): Promise<void>;
  /** Rows as plain objects; numbers beyond 2^53, decimals and timestamps come as text (exact). */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** The first column of the first row, as rows() gives it. */
  value<T = unknown>(sql: string): Promise<T>;
  close(): void;
}

/** A fresh in-memory database, one thread (the CI machine has two cores shared by everyone). */
export async function duckdb(): Promise<TestDuckDB> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn: DuckDBConnection = await instance.connect();
  const rows = async <T>(sql: string): Promise<T[]> => (await conn.runAndReadAll(sql)).getRowObjectsJson() as T[];
  return {
    run: async (sql) => {
      await conn.run(sql);
    },
    rows,
    value: async <T>(sql: string): Promise<T> => {
      const r = await rows<Record<string, unknown>>(sql);
      const first = r[0];
      if (!first) throw new Error(`no row from: ${sql}`);
      return Object.values(first)[0] as T;
    },
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** A path as a single-quoted SQL string literal. */
export function sqlPath(path: string): string {
  return `'${path.replace(/'/g, "''")}'`;
}

// One shared connection for the helpers below (query, one, exec, lit): the directory-diff tests use them.

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
