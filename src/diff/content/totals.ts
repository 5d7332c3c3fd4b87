/**
 * A dataset's totals at two versions: rows and per-column statistics over all its files (partitions),
 * not only the changed ones. Each file's statistics are computed once per content (its key, an oid) and
 * kept in a StatsStore, then merged (partial.ts); Parquet files contribute their footers only (no row
 * is read), other formats one streaming pass. Which files were read now and which came from the store
 * is part of the result, so a reviewer knows what the figures cost.
 */
import { compareSummaries } from './compare.js';
import { prepare } from './diff.js';
import { mergeFileStats, type FileStats } from './partial.js';
import { scanSide } from './scan.js';
import type { StatsKind, StatsStore } from './stats-cache.js';
import type { ContentDiffOptions, ContentSource, DatasetTotals, TabularFormat, TableSummary } from './types.js';

/** One file of one version of a dataset. */
export interface TotalsEntry {
  /** Logical path, shown to the user. */
  path: string;
  format: TabularFormat;
  /** Content key for the stats store (an oid); without one, the file is always read. */
  key?: string;
  /** The bytes; undefined when they are not available on this machine. */
  open(): Promise<ContentSource | undefined>;
}


const CONCURRENCY = 8;

/** The statistics of one file: from its footer (Parquet), else from one pass over its rows. */
export async function fileStats(source: ContentSource, format: TabularFormat): Promise<FileStats> {
  const p = prepare([{ ...source, format }], 'after');
  const parquet = format === 'parquet';
  const s = await scanSide(p.files, { side: 'after', stats: true, parquetRows: !parquet, compare: null, parquet: p.footers, partials: true });
  const error = s.summary.errors[0]?.message ?? null;
  return { format, rows: s.summary.rows, source: s.summary.source, columns: s.partials ?? [], error, notes: s.summary.notes };
}

export async function datasetTotals(
  before: readonly TotalsEntry[],
  after: readonly TotalsEntry[],
  options: {
    store?: StatsStore;
    onProgress?: ContentDiffOptions['onProgress'];
    /** Statistics this run already computed (to group files by schema), by `<key>.<kind>`: listed as read, not read again. */
    computed?: ReadonlyMap<string, FileStats>;
  } = {},
): Promise<DatasetTotals> {
  // One entry per distinct content: a changed partition read at both versions is listed twice.
  const read: string[] = [];
  const cached: string[] = [];
  const unavailable = new Set<string>();
  const memo = new Map<string, Promise<FileStats | undefined>>();
  let footerOnly = 0;

  const statsOf = (e: TotalsEntry): Promise<FileStats | undefined> => {
    const kind: StatsKind = e.format === 'parquet' ? 'footer' : 'data';
    const memoKey = e.key ? `${e.key}.${kind}` : `path:${e.path}`;
    let p = memo.get(memoKey);
    if (!p) {
      p = (async () => {
        const now = e.key ? options.computed?.get(`${e.key}.${kind}`) : undefined;
        if (now && now.format === e.format) {
          read.push(e.path);
          if (now.rows === null) unavailable.add(e.path);
          return now;
        }
        const hit = e.key ? options.store?.get(e.key, kind) : undefined;
        if (hit && hit.format === e.format) {
          cached.push(e.path);
          return hit;
        }
        const source = await e.open();
        if (!source) {
          unavailable.add(e.path);
          return undefined;
        }
        const stats = await fileStats(source, e.format);
        read.push(e.path);
        if (stats.rows === null) unavailable.add(e.path); // unreadable: the diff's errors say why
        if (e.key && stats.error === null) options.store?.put(e.key, kind, stats);
        return stats;
      })();
      memo.set(memoKey, p);
    }
    return p;
  };

  const all = [...before, ...after];
  const results = new Map<TotalsEntry, FileStats | undefined>();
  const queue = [...all];
  let done = 0;
  const worker = async (): Promise<void> => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      results.set(e, await statsOf(e));
      done++;
      options.onProgress?.({ phase: 'diff', done, total: all.length, bytes: 0, item: e.path });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  for (const p of memo.values()) if ((await p)?.source === 'footer') footerOnly++;

  const side = (entries: readonly TotalsEntry[]): TableSummary | null => {
    if (entries.length === 0) return null;
    const stats = entries.map((e) => results.get(e)).filter((s): s is FileStats => s !== undefined);
    const merged = mergeFileStats(stats);
    return { format: entries[0]!.format, files: entries.length, rows: merged.rows, columns: merged.columns, source: 'data', errors: [], notes: [] };
  };
  const sa = side(before);
  const sb = side(after);
  const { columns } = compareSummaries(sa, sb);
  const rowsBefore = sa ? sa.rows : 0;
  const rowsAfter = sb ? sb.rows : 0;
  return {
    files: { before: before.length, after: after.length },
    rows: { before: rowsBefore, after: rowsAfter, delta: rowsBefore !== null && rowsAfter !== null ? rowsAfter - rowsBefore : null },
    columns,
    read: read.sort(),
    cached: cached.sort(),
    unavailable: [...unavailable].sort(),
    footerOnly,
  };
}
