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
