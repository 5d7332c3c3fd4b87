/**
 * Content diff for tabular data (`dvs diff --content`): schema changes, per-column statistics and a
 * row-level diff of CSV, TSV, JSONL and Parquet files, plain or gzip-compressed, one file or a
 * partitioned directory. A library: it returns plain JSON-serialisable values, never prints, and knows
 * nothing about Git or the cache — the caller hands it a way to open each version's bytes.
 *
 * The JSON shape is specified in docs/content-diff.md.
 */
import { diffPartitions } from './diff.js';
import type { ContentDiff, ContentDiffOptions, ContentSource } from './types.js';

export type * from './types.js';
export { detectFormat } from './format.js';
export { fileSource } from './file-source.js';
export { topPairs } from './compare.js';
export { diffTensors, isSafetensors, readTensors, type TensorDiff, type TensorInfo } from './safetensors.js';
export { datasetTotals, fileStats, type TotalsEntry } from './totals.js';
export { STATS_ENGINE_VERSION, type StatsKind, type StatsStore } from './stats-cache.js';
export { groupTables, splitBySchema, tablePattern, type Grouping, type SchemaOf, type TableGroup } from './tables.js';
export { sharedBins } from './sketches.js';
export { prestartScanWorker } from './parallel.js';
export { diffPartitions, summarize, DEFAULT_MAX_MEMORY_BYTES, DEFAULT_SAMPLE_ROWS, type SummarizeOptions } from './diff.js';

/**
 * Diff two versions of one file. `undefined` stands for a file that does not exist on that side (added
 * or deleted): its statistics are null and every row of the other side is added (or removed).
 */
export function diffContent(before: ContentSource | undefined, after: ContentSource | undefined, options: ContentDiffOptions = {}): Promise<ContentDiff> {
  return diffPartitions(before ? [before] : [], after ? [after] : [], options);
}
