import { readFileSync } from 'node:fs';
import { DvsError } from '../errors.js';
import type { Warning } from '../events.js';
import { detectFormat } from '../diff/content/format.js';
import { sha256Hex } from '../objects/hash.js';
import type { Oid } from '../objects/oid.js';
import { pointerPathOf, type Pointer } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';
import { lineageOf, type LineageIO, type LineageRecord } from './record.js';
import { loadManifestIfPresent } from '../objects/manifest.js';
import { buildRowIndex, concatScans, decodeRowIndex, encodeRowIndex, modeName, scanOfIndex, StoredRowIndex, type FingerprintMode, type RowIndex, type RowScan } from './row-index.js';
import { scanFileRows, type RowFile } from './row-scan.js';

/**
 * How a row index reads a file: CSV/TSV/JSONL plain or gzip-compressed, or Parquet; undefined for
 * anything else (a directory, JSON arrays, Arrow).
 */
export function rowFormatOf(io: Pick<LineageIO, 'path' | 'kind'>): RowFile | undefined {
  if (io.kind !== 'file') return undefined;
  const f = detectFormat(io.path);
  if (f === 'parquet') return { format: 'parquet', gzip: false };
  return f === 'csv' || f === 'tsv' || f === 'jsonl' ? { format: f, gzip: /\.(gz|gzip)$/i.test(io.path) } : undefined;
}

/** One tabular file of an indexed dataset: `rel` is its path in the directory ('' for a file dataset). */
export interface RowSource {
  rel: string;
  oid: Oid;
  file: RowFile;
}

/**
 * The tabular files a row index reads of a version: the file itself, or a directory's tabular files in
 * manifest order (its other files are not rows). Empty when there are none, or a directory's manifest is
 * not in the cache.
 */
export function rowSourcesOf(repo: Repo, io: Pick<LineageIO, 'path' | 'kind' | 'oid'>): RowSource[] {
  if (io.kind === 'file') {
    const file = rowFormatOf(io);
    return file ? [{ rel: '', oid: io.oid, file }] : [];
  }
  const manifest = loadManifestIfPresent(repo.cache, io.oid, io.path);
  return (manifest?.entries ?? []).flatMap((e) => {
    const file = rowFormatOf({ path: e.path, kind: 'file' });
    return file ? [{ rel: e.path, oid: e.oid, file }] : [];
  });
}

/** Fingerprint a version's tabular files in the workspace: a file's scan, or its directory's files' one after another. */
async function scanSources(repo: Repo, io: LineageIO, sources: RowSource[], mode: FingerprintMode): Promise<RowScan> {
  if (io.kind === 'file') return scanFileRows(repo.abs(io.path), sources[0].file, mode, io.path);
  const files: Array<{ path: string; oid: Oid; scan: RowScan }> = [];
  for (const s of sources) {
    const path = `${io.path}/${s.rel}`;
    files.push({ path: s.rel, oid: s.oid, scan: await scanFileRows(repo.abs(path), s.file, mode, path) });
  }
  return concatScans(files);
}

/** Read a row index from the cache; undefined when the cache lacks it. */
export function loadRowIndex(repo: Repo, oid: Oid): RowIndex | undefined {
  if (!repo.cache.has(oid)) return undefined;
  return decodeRowIndex(readFileSync(repo.cache.pathOf(oid)), oid);
}

/**
 * The fingerprints of an input's rows: from the row index recorded when it was made (same fingerprint
 * mode), which costs no read of the data, else by reading its workspace file (checked unchanged).
 */
async function inputScan(repo: Repo, io: LineageIO, sources: RowSource[], mode: FingerprintMode): Promise<RowScan> {
  try {
    const made = lineageOf(readPointer(repo.root, pointerPathOf(io.path))).record?.outputs.find((o) => o.path === io.path && o.oid === io.oid);
    const index = made?.rowIndex ? loadRowIndex(repo, made.rowIndex) : undefined;
    if (index && index.fingerprint === modeName(mode)) return scanOfIndex(index);
  } catch {
    // An unreadable earlier index only costs a read of the data.
  }
  return scanSources(repo, io, sources, mode);
}

/**
 * Build a row index for each tabular file output (setting its `rowIndex`), matching its rows to the
 * tabular file inputs' rows by fingerprint. A failure leaves that output without an index and warns.
 * Rows are named by their bytes, or by their record digest when a file of the step is Parquet (bytes
 * cannot match across formats), or by the `--row-id` column's value.
 * Returns the objects to store: the caller adds them to the cache under the repository lock, so that a
 * gc cannot collect one before the pointer naming it is written.
 */
export async function buildRowIndexes(repo: Repo, inputs: LineageIO[], outputs: LineageIO[], given: FingerprintMode, warnings: Warning[]): Promise<Buffer[]> {
  const sourcesOf = new Map([...inputs, ...outputs].map((io) => [io, rowSourcesOf(repo, io)]));
  const targets = outputs.filter((o) => sourcesOf.get(o)!.length);
  const objects: Buffer[] = [];
  if (targets.length === 0) return objects;
  const parquet = [...sourcesOf.values()].some((sources) => sources.some((s) => s.file.format === 'parquet'));
  const mode: FingerprintMode = given.rowId === undefined && parquet ? { records: true } : given;
  const scans: Array<{ path: string; oid: Oid; scan: RowScan }> = [];
  try {
    for (const io of inputs) {
      const sources = sourcesOf.get(io)!;
      if (sources.length) scans.push({ path: io.path, oid: io.oid, scan: await inputScan(repo, io, sources, mode) });
    }
  } catch (err) {
    if (!(err instanceof DvsError)) throw err;
    for (const o of targets) warnings.push({ code: 'ROW_INDEX_SKIPPED', path: o.path, message: `${o.path}: no row index recorded (${err.message})` });
    return objects;
  }
  for (const o of targets) {
    try {
      const scan = await scanSources(repo, o, sourcesOf.get(o)!, mode);
      const data = encodeRowIndex(buildRowIndex(mode, { path: o.path, oid: o.oid, scan }, scans));
      o.rowIndex = sha256Hex(data);
      objects.push(data);
    } catch (err) {
      if (!(err instanceof DvsError)) throw err;
      warnings.push({ code: 'ROW_INDEX_SKIPPED', path: o.path, message: `${o.path}: no row index recorded (${err.message})` });
    }
  }
  return objects;
}

/**
 * The row index objects a pointer's lineage record names (for its own version only): push sends them and
 * gc keeps them with the data. Accepts any pointer-like value; only parsed pointers carry a record.
 */
export function rowIndexesOf(pointer: { oid: Oid } | Pointer): Oid[] {
  if (!('doc' in pointer)) return [];
  const record = lineageOf(pointer).record;
  return record ? record.outputs.flatMap((o) => (o.oid === pointer.oid && o.rowIndex ? [o.rowIndex] : [])) : [];
}

/**
 * The `--row-id` column a step was recorded with, read from the header of its outputs' row indexes (the
 * record does not name it): `dvs repro` passes it again. Undefined when the step fingerprinted rows by
 * content, or no index of it is in the cache.
 */
export function recordedRowId(repo: Repo, record: LineageRecord): string | undefined {
  for (const o of record.outputs) {
    if (!o.rowIndex || !repo.cache.has(o.rowIndex)) continue;
    try {
      const index = new StoredRowIndex(repo.cache.pathOf(o.rowIndex), o.rowIndex);
      index.close();
      return index.fingerprint.startsWith('row-id:') ? index.fingerprint.slice('row-id:'.length) : undefined;
    } catch {
      // An unreadable index says nothing: the next output's may.
    }
  }
  return undefined;
}
