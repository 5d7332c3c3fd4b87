/**
 * Column statistics from Parquet footers, without reading a row: per file, nulls summed and min/max
 * merged over the row groups; per partitioned directory, the same over its files.
 */
import { lessBound } from './exact.js';
import type { ParquetFile } from './parquet.js';
import type { Columns } from './reader.js';
import type { ColumnStats, ColumnType } from './types.js';

type Bound = number | string | boolean;

function toBound(v: unknown): Bound | undefined {
  if (v === undefined || v === null) return undefined;
  // Beyond 2^53 the exact digits (exact.ts orders them by value).
  if (typeof v === 'bigint') return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return v.toISOString();
  return undefined; // raw bytes: no meaningful order to show
}

const less: (a: Bound, b: Bound) => boolean = lessBound;

/** Column statistics from the footer: nulls summed and min/max merged over row groups. */
export function footerStats(pf: ParquetFile): ColumnStats[] {
  interface Acc {
    nulls: number | null;
    min: Bound | null;
    max: Bound | null;
    chunks: number;
    boundsUnknown: boolean;
  }
  const byName = new Map<string, Acc>();
  for (const c of pf.columns) if (!c.json) byName.set(c.name, { nulls: 0, min: null, max: null, chunks: 0, boundsUnknown: false });
  for (const rg of pf.metadata.row_groups) {
    for (const chunk of rg.columns) {
      const md = chunk.meta_data;
      const acc = md && byName.get(md.path_in_schema.join('.'));
      if (!md || !acc) continue;
      acc.chunks++;
      const st = md.statistics;
      const nulls = st?.null_count === undefined ? undefined : Number(st.null_count);
      acc.nulls = acc.nulls === null || nulls === undefined ? null : acc.nulls + nulls;
      if (nulls !== undefined && nulls >= Number(md.num_values)) continue; // all null: no bounds to merge
      const min = toBound(st?.min_value ?? st?.min);
      const max = toBound(st?.max_value ?? st?.max);
      if (min === undefined || max === undefined) {
        acc.boundsUnknown = true; // one chunk without bounds leaves the file's bounds unknown
        continue;
      }
      if (acc.min === null || less(min, acc.min)) acc.min = min;
      if (acc.max === null || less(acc.max, max)) acc.max = max;
    }
  }
  const groups = pf.metadata.row_groups.length;
  return pf.columns.map((c) => {
    const acc = byName.get(c.name);
    const complete = acc !== undefined && acc.chunks === groups;
    const nulls = complete ? acc.nulls : null;
    const bounds = complete && !acc.boundsUnknown;
    return {
      name: c.name,
      type: c.type,
      source: 'footer',
      count: nulls === null ? null : pf.rows - nulls,
      nulls,
      kinds: null,
      min: bounds ? acc.min : null,
      max: bounds ? acc.max : null,
      mean: null,
      stddev: null,
      distinct: null,
      distinctExact: null,
      meanLength: null,
      top: null,
      topExact: null,
      fingerprint: null,
      histogram: null,
      valueFingerprint: null,
    };
  });
}

/** Sum footer statistics over partitions; a partition without a column counts its rows as nulls there. */
export function mergeFooters(columns: Columns, footers: { rows: number; stats: ColumnStats[] }[], declared: Map<string, ColumnType>): ColumnStats[] {
  return columns.names.map((name) => {
    let nulls: number | null = 0;
    let rows = 0;
    let min: ColumnStats['min'] = null;
    let max: ColumnStats['max'] = null;
    let bounds = true;
    for (const f of footers) {
      rows += f.rows;
      const s = f.stats.find((c) => c.name === name);
      if (!s) {
        if (nulls !== null) nulls += f.rows;
        continue;
      }
      nulls = nulls === null || s.nulls === null ? null : nulls + s.nulls;
      if (s.count === 0) continue;
      if (s.min === null || s.max === null) bounds = false;
      else {
        if (min === null || less(s.min, min)) min = s.min;
        if (max === null || less(max, s.max)) max = s.max;
      }
    }
    const base = footers.find((f) => f.stats.some((c) => c.name === name))?.stats.find((c) => c.name === name);
    return {
      ...(base as ColumnStats),
      type: declared.get(name) ?? base?.type ?? 'null',
      count: nulls === null ? null : rows - nulls,
      nulls,
      min: bounds ? min : null,
      max: bounds ? max : null,
    };
  });
}
