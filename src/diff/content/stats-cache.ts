/**
 * Where the statistics of files are kept by content (an oid): a file's statistics are a pure function of
 * its bytes, so once computed they hold for every version of every dataset containing that object. The
 * engine only asks and tells through this interface; dvs keeps them under `.dvs/tmp/content-stats/`
 * (src/ops/data/content-stats.ts).
 */
import type { FileStats } from './types.js';

/** Bump when the statistics computed from the same bytes change (a reader fix, a new statistic): older entries are then ignored. */
export const STATS_ENGINE_VERSION = 2;

/** `footer`: a Parquet file's footer statistics; `data`: statistics from every row. */
export type StatsKind = 'data' | 'footer';

export interface StatsStore {
  get(key: string, kind: StatsKind): FileStats | undefined;
  put(key: string, kind: StatsKind, stats: FileStats): void;
}
