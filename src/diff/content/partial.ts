/**
 * Mergeable statistics: the state of one file's column statistics from which a whole dataset's
 * statistics are made without reading its rows again. A file's statistics are a pure function of its
 * bytes, so they can be kept by content hash (stats-cache.ts) and the totals of a partitioned dataset
 * cost only the reads of the partitions that are new.
 *
 * Merging is exact for counts, nulls, kinds, min/max and the fingerprint; mean and standard deviation
 * merge with Chan et al.'s parallel update (exact up to rounding); distinct values and top values are
 * exact while every part kept its full value list (columns of at most PARTIAL_VALUES distinct values),
 * else the distinct count merges HyperLogLog registers (an estimate) and top values are summed over the
 * parts' lists (lower bounds).
 */
import { lessBound } from './exact.js';
import { HyperLogLog, mergeHistograms } from './sketches.js';
import { TOP_N } from './stats.js';
import type { ColumnStats, ColumnType, FileStats, PartialColumn, TopValue } from './types.js';

export type { FileStats, PartialColumn };

/** Footer statistics (no rows read) as partials: only count, nulls and bounds merge. */
export function footerPartials(stats: ColumnStats[]): PartialColumn[] {
  return stats.map((s) => ({ ...s, n: 0, m2: 0, strLen: 0, values: null, hll: null, textual: false }));
}

const less = lessBound;

function mergeType(types: ColumnType[], textual: boolean): ColumnType {
  const seen = new Set(types.filter((t) => t !== 'null'));
  if (seen.size === 0) return 'null';
  if (seen.size === 1) return [...seen][0]!;
  if ([...seen].every((t) => t === 'integer' || t === 'number')) return 'number';
  return textual ? 'string' : 'mixed';
}

function sortTop(list: TopValue[]): TopValue[] {
  return list.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}

function hllOf(parts: PartialColumn[]): number {
  const merged = new HyperLogLog();
  for (const p of parts) {
    if (!p.hll) continue; // a part with a full value list: its distinct count bounds the union from below
    const r = Buffer.from(p.hll, 'base64');
    for (let i = 0; i < r.length && i < merged.registers.length; i++) if (r[i]! > merged.registers[i]!) merged.registers[i] = r[i]!;
  }
  return merged.estimate();
}

/** One column over several files; `rowsWithout` rows of files lacking the column count as nulls. */
function mergeColumn(name: string, parts: PartialColumn[], rowsWithout: number): ColumnStats {
  const footer = parts.every((p) => p.source === 'footer');
  const textual = parts.every((p) => p.textual);
  const type = mergeType(
    parts.map((p) => p.type),
    textual,
  );
  let count: number | null = 0;
  let nulls: number | null = rowsWithout;
  for (const p of parts) {
    count = count === null || p.count === null ? null : count + p.count;
    nulls = nulls === null || p.nulls === null ? null : nulls + p.nulls;
  }
  let min: ColumnStats['min'] = null;
  let max: ColumnStats['max'] = null;
  let bounds = true;
  for (const p of parts) {
    if (p.count === 0) continue;
    if (p.min === null || p.max === null) {
      bounds = false;
      continue;
    }
    if (min === null || less(p.min, min)) min = p.min;
    if (max === null || less(max, p.max)) max = p.max;
  }
  const base: ColumnStats = {
    name,
    type,
    source: footer ? 'footer' : 'data',
    count,
    nulls,
    kinds: null,
    min: bounds ? min : null,
    max: bounds ? max : null,
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
  if (footer) return base;
  const data = dataMerge(parts, type);
  // Statistics from rows give bounds for numbers and ordered columns (dates, timestamps) only; footers
  // also give string bounds, which rows without bounds must not leave standing alone.
  const rowBounds = data.mean !== null || parts.some((p) => p.source === 'data' && p.min !== null);
  return rowBounds ? { ...base, ...data } : { ...base, ...data, min: null, max: null };
}

/** What only statistics computed from rows can merge: kinds, moments, lengths, values, fingerprint. */
function dataMerge(parts: PartialColumn[], type: ColumnType): Omit<ColumnStats, 'name' | 'type' | 'source' | 'count' | 'nulls' | 'min' | 'max'> {
  const kinds = { boolean: 0, integer: 0, number: 0, string: 0 };
  let n = 0;
  let mean = 0;
  let m2 = 0;
  let strLen = 0;
  let fp1 = 0;
  let fp2 = 0;
  let vfp1 = 0;
  let vfp2 = 0;
  for (const p of parts) {
    if (p.kinds) for (const k of Object.keys(kinds) as (keyof typeof kinds)[]) kinds[k] += p.kinds[k];
    strLen += p.strLen;
    if (p.n > 0 && p.mean !== null) {
      // Chan et al.: combine two (n, mean, M2) without revisiting the values.
      const total = n + p.n;
      const delta = p.mean - mean;
      mean += (delta * p.n) / total;
      m2 += p.m2 + (delta * delta * n * p.n) / total;
      n = total;
    }
    if (p.fingerprint) {
      fp1 = (fp1 + parseInt(p.fingerprint.slice(0, 8), 16)) | 0;
      fp2 = (fp2 + parseInt(p.fingerprint.slice(8), 16)) | 0;
    }
    // Both fingerprints are sums of per-value hashes: the sums of the partitions' sums.
    const vfp = p.valueFingerprint ?? p.fingerprint;
    if (vfp) {
      vfp1 = (vfp1 + parseInt(vfp.slice(0, 8), 16)) | 0;
      vfp2 = (vfp2 + parseInt(vfp.slice(8), 16)) | 0;
    }
  }
  const numeric = n > 0 && (type === 'integer' || type === 'number' || type === 'mixed');
  const count = parts.reduce((s, p) => s + (p.count ?? 0), 0);
  const full = parts.every((p) => p.values !== null || p.count === 0);
  let top: TopValue[];
  let distinct: number;
  if (full) {
    const all = new Map<string, number>();
    for (const p of parts) for (const v of p.values ?? []) all.set(v.value, (all.get(v.value) ?? 0) + v.count);
    top = sortTop([...all].map(([value, c]) => ({ value, count: c })));
    distinct = all.size;
  } else {
    const all = new Map<string, number>();
    for (const p of parts) for (const v of p.values ?? p.top ?? []) all.set(v.value, (all.get(v.value) ?? 0) + v.count);
    top = sortTop([...all].map(([value, c]) => ({ value, count: c })));
    distinct = Math.max(hllOf(parts), ...parts.map((p) => p.distinct ?? 0));
  }
  return {
    kinds,
    mean: numeric ? mean : null,
    stddev: numeric ? Math.sqrt(m2 / n) : null,
    distinct,
    distinctExact: full,
    meanLength: kinds.string > 0 ? strLen / kinds.string : null,
    top: top.slice(0, TOP_N),
    topExact: full,
    fingerprint: count > 0 ? hex(fp1) + hex(fp2) : null,
    valueFingerprint: count > 0 ? hex(vfp1) + hex(vfp2) : null,
    histogram: numeric ? mergeHistograms(parts.map((p) => p.histogram ?? null)) : null,
  };
}

function hex(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}

export interface MergedTotals {
  rows: number | null;
  columns: ColumnStats[];
}

/**
 * A dataset's statistics from its files' statistics. Columns in first-seen order; a file that lacks a
 * column counts its rows as nulls there. Rows are null when no file could be read.
 */
export function mergeFileStats(files: FileStats[]): MergedTotals {
  const readable = files.filter((f) => f.rows !== null);
  if (readable.length === 0) return { rows: files.length === 0 ? 0 : null, columns: [] };
  const order: string[] = [];
  const byName = new Map<string, PartialColumn[]>();
  for (const f of readable) {
    for (const c of f.columns) {
      let list = byName.get(c.name);
      if (!list) byName.set(c.name, (list = [])), order.push(c.name);
      list.push(c);
    }
  }
  const rows = readable.reduce((s, f) => s + f.rows!, 0);
  const columns = order.map((name) => {
    const parts = byName.get(name)!;
    const without = readable.filter((f) => !f.columns.some((c) => c.name === name)).reduce((s, f) => s + f.rows!, 0);
    return mergeColumn(name, parts, without);
  });
  return { rows, columns };
}
