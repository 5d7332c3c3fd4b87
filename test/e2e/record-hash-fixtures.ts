// Fixtures of the record-hash e2e tests: one table written as CSV (any column order) and as Parquet.
import { parquetWriteFile } from 'hyparquet-writer';
import { expect } from 'vitest';
import { dvs, json } from '../helpers.js';

export interface Row {
  id: number;
  name: string | null;
  score: number;
}

export const ROWS: Row[] = Array.from({ length: 240 }, (_, i) => ({ id: i, name: i % 9 === 4 ? null : `name ${i % 13}, "q"`, score: i / 8 }));

/** CSV with the columns in the given order; names are quoted (they hold commas and quotes). */
export function csv(rows: Row[], columns: (keyof Row)[] = ['id', 'name', 'score']): string {
  const cell = (r: Row, c: keyof Row) => (r[c] === null ? '' : c === 'name' ? `"${String(r[c]).replace(/"/g, '""')}"` : String(r[c]));
  return columns.join(',') + '\n' + rows.map((r) => columns.map((c) => cell(r, c)).join(',')).join('\n') + '\n';
}

export function parquet(path: string, rows: Row[]): void {
  parquetWriteFile({
    filename: path,
    rowGroupSize: 100,
    columnData: [
      { name: 'score', data: rows.map((r) => r.score), type: 'DOUBLE' },
      { name: 'id', data: rows.map((r) => r.id), type: 'INT32' },
      { name: 'name', data: rows.map((r) => r.name), type: 'STRING' },
    ],
  });
}

export async function recordHash(repo: string, path: string, ...extra: string[]) {
  const r = await dvs(repo, ['hash', '--records', path, '--json', ...extra]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return json(r);
}

