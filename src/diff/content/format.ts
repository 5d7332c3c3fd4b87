import type { TabularFormat } from './types.js';

/**
 * The tabular format of a path, by extension: `.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.json` (an array of records), `.parquet`/`.pq`, `.arrow`/`.arrows`/`.feather`/`.ipc` (Arrow IPC),
 * case-insensitive, and `.csv.gz`, `.tsv.gz`, `.jsonl.gz`, `.ndjson.gz` for gzip-compressed text.
 * Undefined for anything else (a gzip-compressed Parquet file cannot be read by range, so it is not one).
 */
export function detectFormat(path: string): TabularFormat | undefined {
  let name = path.toLowerCase().slice(path.lastIndexOf('/') + 1);
  let gz = false;
  if (name.endsWith('.gz') || name.endsWith('.gzip')) {
    name = name.slice(0, name.lastIndexOf('.'));
    gz = true;
  }
  const dot = name.lastIndexOf('.');
  if (dot < 0) return undefined;
  const ext = name.slice(dot + 1);
  switch (ext) {
    case 'csv':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    case 'jsonl':
    case 'ndjson':
      return 'jsonl';
    case 'json':
      return 'json';
    case 'arrow':
    case 'arrows':
    case 'feather':
    case 'ipc':
      return gz ? undefined : 'arrow';
    case 'parquet':
    case 'pq':
      return gz ? undefined : 'parquet';
    default:
      return undefined;
  }
}
