/**
 * What the pictures of a content diff are drawn from, shared by the markdown sparklines (`--md`) and the
 * HTML report (`--html`): both versions' histograms on the same bins, null rates, and the top values of
 * a categorical column with their counts on each side.
 */
import { sharedBins, topPairs, type ColumnDiff, type ColumnStats } from '../../diff/content/index.js';
import { formatSigned } from '../format.js';

/** Bins of a sparkline: wide enough to show a shape, narrow enough for a table cell. */
export const SPARK_BINS = 24;
const BLOCKS = '▁▂▃▄▅▆▇█';

export interface SharedHistogram {
  edges: number[];
  before: number[] | null;
  after: number[] | null;
}

/** The column's two histograms on the same bins; null for a column with no numbers on either side. */
export function columnHistograms(c: ColumnDiff, maxBins = SPARK_BINS): SharedHistogram | null {
  const a = c.before?.histogram ?? null;
  const b = c.after?.histogram ?? null;
  const s = sharedBins(a, b, maxBins);
  if (!s) return null;
  return { edges: s.edges, before: a ? s.before : null, after: b ? s.after : null };
}

/**
 * Block characters, one per bin, for each side. Heights are shares of each side's values on one scale
 * (the larger share of either side is a full block), so a version with more rows does not look taller.
 * ▁ is an empty bin; any value at all is at least ▂.
 */
export function sparklines(h: SharedHistogram): { before: string | null; after: string | null } {
  const shares = (counts: number[] | null) => {
    if (!counts) return null;
    const total = counts.reduce((x, y) => x + y, 0);
    return counts.map((n) => (total ? n / total : 0));
  };
  const a = shares(h.before);
  const b = shares(h.after);
  const top = Math.max(...(a ?? []), ...(b ?? []), 0);
  const draw = (s: number[] | null) =>
    s && s.map((x) => (x === 0 || top === 0 ? BLOCKS[0] : BLOCKS[Math.max(1, Math.round((x / top) * (BLOCKS.length - 1)))])).join('');
  return { before: draw(a), after: draw(b) };
}

/** Nulls as a share of the rows, or null when either is unknown. */
export function nullRate(s: ColumnStats | null, rows: number | null): number | null {
  if (!s || s.nulls === null || rows === null) return null;
  return rows === 0 ? 0 : s.nulls / rows;
}

export function percent(x: number): string {
  const p = x * 100;
  return `${p !== 0 && Math.abs(p) < 0.1 ? p.toPrecision(1) : p.toFixed(1)}%`;
}

/** `1.0% → 3.5% (+2.5 pp)`; one side alone when the column exists on one side. */
export function nullRateChange(a: number | null, b: number | null): string {
  if (a === null && b === null) return '';
  if (a === null || b === null) return percent((a ?? b)!);
  if (a === b) return percent(a);
  return `${percent(a)} → ${percent(b)} (${formatSigned((b - a) * 100, (x) => x.toFixed(1))} pp)`;
}

export interface TopChange {
  value: string;
  before: number | null;
  after: number | null;
}

/**
 * The top values of a column with their counts on each side, most frequent (after) first. A value whose
 * count on one side is unknown (it fell out of a truncated top list) is left out, as in the score.
 */
export function topChanges(c: ColumnDiff, max: number): TopChange[] {
  if (c.before && c.after) {
    return topPairs(c.before, c.after)
      .sort((x, y) => Math.max(y.after, y.before) - Math.max(x.after, x.before) || (x.value < y.value ? -1 : 1))
      .slice(0, max);
  }
  const one = c.after ?? c.before;
  return (one?.top ?? []).slice(0, max).map((t) => ({ value: t.value, before: c.before ? t.count : null, after: c.after ? t.count : null }));
}

/** Columns worth a picture: a histogram (numbers), or top values (categories, booleans). */
export function isCategorical(c: ColumnDiff): boolean {
  const s = c.after ?? c.before;
  return !s?.histogram && (s?.top?.length ?? 0) > 0;
}
