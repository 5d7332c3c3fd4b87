import type { Repo } from '../repo/repo.js';
import type { DataKind } from '../pointer/format.js';
import { scanDirectory } from '../workspace/scan.js';

/**
 * Row counts of tabular data in the workspace, through the content-diff engine's `summarize` (CSV, TSV,
 * JSONL, Parquet, plain or gzip). Loaded only by the commands that record lineage, so `dvs status` and
 * the hooks never pay for the parsers.
 */

type ContentModule = typeof import('../diff/content/index.js');
let contentModule: Promise<ContentModule> | undefined;

async function content(): Promise<ContentModule> {
  contentModule ??= import('../diff/content/index.js');
  return contentModule;
}

/** Data rows of one file, or null when it is not tabular or cannot be read. */
async function rowsOfFile(abs: string, logicalPath: string): Promise<number | null> {
  const { detectFormat, fileSource, summarize } = await content();
  if (!detectFormat(logicalPath)) return null;
  try {
    const summary = await summarize(await fileSource(abs, logicalPath));
    return summary.errors.length ? null : summary.rows;
  } catch {
    return null;
  }
}

/**
 * Rows of the data at `dataPath`: of the file, or summed over a directory's tabular files (null when it
 * has none, or when any of them cannot be read: a partial count would mislead).
 */
export async function countRows(repo: Repo, dataPath: string, kind: DataKind): Promise<number | null> {
  if (kind === 'file') return rowsOfFile(repo.abs(dataPath), dataPath);
  const { detectFormat } = await content();
  let total: number | null = null;
  for (const f of scanDirectory(repo, dataPath).files) {
    const logical = `${dataPath}/${f.rel}`;
    if (!detectFormat(logical)) continue;
    const rows = await rowsOfFile(f.abs, logical);
    if (rows === null) return null;
    total = (total ?? 0) + rows;
  }
  return total;
}
