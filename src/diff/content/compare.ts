/**
 * Schema changes and per-column movement between two summaries.
 *
 * The score says how far a column's distribution moved, from 0 (identical statistics) to 1, so that a
 * reviewer reads the columns that changed most first. Schema changes (added, removed, renamed, type
 * changed) score 1. Otherwise it is the largest of these shifts, each in [0, 1]:
 *   nulls     |null fraction after - null fraction before|
 *   mean      |mean after - mean before| / max(stddev before, stddev after), capped at 1
 *   spread    |stddev after - stddev before| / max(stddev before, stddev after)
 *   range     (|min after - min before| + |max after - max before|) / (2 × combined range) (numbers)
 *   values    total variation distance between the frequencies of the comparable top values
 *   distinct  |distinct/count after - distinct/count before|
 * rounded to 4 decimals. Each is a share of something (of rows, of a standard deviation, of the value
 * mass), so they are comparable enough to rank by; the exact definition is in docs/content-diff.md.
 */
import type { ColumnDiff, ColumnSchema, ColumnStats, RenamedColumn, SchemaDiff, TableSummary, TypeChange } from './types.js';

function schemaOf(s: TableSummary | null): ColumnSchema[] | null {
  return s && s.rows !== null ? s.columns.map((c) => ({ name: c.name, type: c.type })) : null;
}

/** A removed and an added column that hold the same values under a new name. */
function looksRenamed(a: ColumnStats, b: ColumnStats, rowsA: number | null, rowsB: number | null): RenamedColumn['evidence'] | undefined {
  if (a.type !== b.type || a.count !== b.count || a.nulls !== b.nulls) return undefined;
  if (a.fingerprint !== null && b.fingerprint !== null) return a.fingerprint === b.fingerprint ? 'values' : undefined;
  if (a.source === 'footer' && b.source === 'footer' && rowsA === rowsB && a.count !== null && a.count > 0) {
    return a.min !== null && a.min === b.min && a.max === b.max ? 'footer' : undefined;
  }
  return undefined;
}

/** Relative precision at which means and standard deviations count as equal: 9 significant digits. */
export const STAT_PRECISION = 1e-9;

function close(x: number | null, y: number | null): boolean {
  if (x === null || y === null) return x === y;
  return x === y || Math.abs(x - y) <= STAT_PRECISION * Math.max(Math.abs(x), Math.abs(y));
}

/**
 * Equal statistics. The same multiset of values (equal fingerprints, counts and nulls) is equal whatever
 * the row order: floating-point sums and the sketches past 10,000 distinct values depend on the order, the
 * values do not. Otherwise every statistic must match, means and standard deviations to STAT_PRECISION.
 */
function sameStats(a: ColumnStats, b: ColumnStats): boolean {
  if (a.type !== b.type) return false; // (a reformatted integer → number column is changed, though not a type change)
  if (a.source === 'data' && b.source === 'data' && a.fingerprint !== null && a.fingerprint === b.fingerprint && a.count === b.count && a.nulls === b.nulls) return true;
  if (!close(a.mean, b.mean) || !close(a.stddev, b.stddev)) return false;
  const rest = (c: ColumnStats) => JSON.stringify({ ...c, name: '', mean: null, stddev: null });
  return rest(a) === rest(b);
}

/** The same numbers written differently: the values differ as text, not as numbers. */
function isReformatted(a: ColumnStats, b: ColumnStats): boolean {
  return a.valueFingerprint !== null && a.valueFingerprint === b.valueFingerprint && a.fingerprint !== b.fingerprint && a.count === b.count && a.nulls === b.nulls;
}

/**
 * A column with no value has no type to speak of: `null` next to another type is not a type change; nor
 * is integer → number when the numbers are the same ones written differently (`1` → `1.0`).
 */
function typeChange(a: ColumnStats, b: ColumnStats): boolean {
  if (a.type === b.type || a.type === 'null' || b.type === 'null') return false;
  const numeric = (t: ColumnStats['type']) => t === 'integer' || t === 'number';
  return !(numeric(a.type) && numeric(b.type) && isReformatted(a, b));
}

/** The columns both versions have are in another relative order. */
function reordered(before: ColumnSchema[] | null, after: ColumnSchema[] | null): boolean {
  if (!before || !after) return false;
  const inAfter = new Set(after.map((c) => c.name));
  const inBefore = new Set(before.map((c) => c.name));
  const a = before.filter((c) => inAfter.has(c.name)).map((c) => c.name);
  const b = after.filter((c) => inBefore.has(c.name)).map((c) => c.name);
  return a.some((name, i) => name !== b[i]);
}

function frac(part: number | null, whole: number | null): number | null {
  return part === null || whole === null ? null : whole === 0 ? 0 : part / whole;
}

/** True when a top list names every distinct value, so a value missing from it has count 0. */
function completeTop(s: ColumnStats): boolean {
  return s.top !== null && s.topExact === true && s.distinct !== null && s.top.length >= s.distinct;
}

/**
 * Values whose counts can be compared between two top lists: listed in both, or listed in one while the
 * other list is complete. A value that merely fell out of a truncated top-10 is left out: its count
 * there is unknown, not zero.
 */
export function topPairs(a: ColumnStats, b: ColumnStats): { value: string; before: number; after: number }[] {
  if (!a.top || !b.top) return [];
  const pa = new Map(a.top.map((t) => [t.value, t.count]));
  const pb = new Map(b.top.map((t) => [t.value, t.count]));
  const out: { value: string; before: number; after: number }[] = [];
  for (const value of new Set([...pa.keys(), ...pb.keys()])) {
    const x = pa.get(value) ?? (completeTop(a) ? 0 : undefined);
    const y = pb.get(value) ?? (completeTop(b) ? 0 : undefined);
    if (x !== undefined && y !== undefined) out.push({ value, before: x, after: y });
  }
  return out;
}

/** Half the summed change of the comparable top values' frequencies: total variation over them. */
function topShift(a: ColumnStats, b: ColumnStats): number | null {
  if (!a.count || !b.count) return null;
  const pairs = topPairs(a, b);
  if (pairs.length === 0) return null;
  return pairs.reduce((sum, p) => sum + Math.abs(p.before / a.count! - p.after / b.count!), 0) / 2;
}

export function columnScore(a: ColumnStats, b: ColumnStats, rowsA: number | null, rowsB: number | null): number {
  if (typeChange(a, b)) return 1;
  if (sameStats(a, b)) return 0;
  const shifts: number[] = [];
  // Every value gone, or values where there were none: as far as a column can move.
  if ((a.count === 0) !== (b.count === 0) && a.count !== null && b.count !== null) shifts.push(1);
  const na = frac(a.nulls, rowsA);
  const nb = frac(b.nulls, rowsB);
  if (na !== null && nb !== null) shifts.push(Math.abs(na - nb));
  if (a.mean !== null && b.mean !== null && a.stddev !== null && b.stddev !== null) {
    const sd = Math.max(a.stddev, b.stddev);
    const dm = close(a.mean, b.mean) ? 0 : Math.abs(a.mean - b.mean);
    shifts.push(sd > 0 ? Math.min(1, dm / sd) : dm > 0 ? 1 : 0);
    if (sd > 0 && !close(a.stddev, b.stddev)) shifts.push(Math.abs(a.stddev - b.stddev) / sd);
  }
  if (typeof a.min === 'number' && typeof a.max === 'number' && typeof b.min === 'number' && typeof b.max === 'number') {
    const span = Math.max(a.max, b.max) - Math.min(a.min, b.min);
    if (span > 0) shifts.push((Math.abs(a.min - b.min) + Math.abs(a.max - b.max)) / (2 * span));
  } else if (a.min !== b.min || a.max !== b.max) {
    // Non-numeric bounds (footer strings, dates): moved or not, nothing finer to say.
    if (a.min !== null && b.min !== null) shifts.push(0.1);
  }
  const t = topShift(a, b);
  if (t !== null) shifts.push(t);
  // Distinct values as a share of the values: a unique column that lost rows is still unique (no
  // shift), a label column that gained a category barely moves here (the values shift catches it).
  if (a.distinct !== null && b.distinct !== null && a.count && b.count) {
    shifts.push(Math.min(1, Math.abs(a.distinct / a.count - b.distinct / b.count)));
  }
  return Math.round(Math.max(0, ...shifts) * 1e4) / 1e4;
}

export function compareSummaries(before: TableSummary | null, after: TableSummary | null): { schema: SchemaDiff; columns: ColumnDiff[] } {
  const schema: SchemaDiff = { before: schemaOf(before), after: schemaOf(after), added: [], removed: [], renamed: [], typeChanged: [], reordered: false };
  schema.reordered = reordered(schema.before, schema.after);
  const a = new Map((schema.before ? before!.columns : []).map((c) => [c.name, c]));
  const b = new Map((schema.after ? after!.columns : []).map((c) => [c.name, c]));
  const rowsA = before?.rows ?? null;
  const rowsB = after?.rows ?? null;
  const columns: ColumnDiff[] = [];
  // Only a real modification has schema changes: a file that was added or could not be read has none.
  const both = schema.before !== null && schema.after !== null;

  const removed = [...a.values()].filter((c) => !b.has(c.name));
  const added = [...b.values()].filter((c) => !a.has(c.name));
  const renamedTo = new Map<string, ColumnStats>();
  for (const r of removed) {
    for (const n of added) {
      if (renamedTo.has(n.name) || [...renamedTo.values()].includes(r)) continue;
      const evidence = looksRenamed(r, n, rowsA, rowsB);
      if (evidence) {
        renamedTo.set(n.name, r);
        schema.renamed.push({ from: r.name, to: n.name, type: n.type, evidence });
      }
    }
  }
  const renamedFrom = new Set([...renamedTo.values()].map((c) => c.name));

  for (const c of b.values()) {
    const old = a.get(c.name);
    const from = renamedTo.get(c.name);
    if (old) {
      if (typeChange(old, c)) schema.typeChanged.push({ name: c.name, before: old.type, after: c.type } satisfies TypeChange);
      const same = sameStats(old, c);
      const reformatted = !same && isReformatted(old, c);
      const score = columnScore(old, c, rowsA, rowsB);
      columns.push({ name: c.name, change: same ? 'unchanged' : 'changed', renamedFrom: null, score: reformatted ? Math.min(score, 0.01) : score, reformatted, before: old, after: c });
    } else if (from) {
      columns.push({ name: c.name, change: 'renamed', renamedFrom: from.name, score: 1, reformatted: false, before: from, after: c });
    } else {
      if (both) schema.added.push({ name: c.name, type: c.type });
      columns.push({ name: c.name, change: 'added', renamedFrom: null, score: 1, reformatted: false, before: null, after: c });
    }
  }
  for (const c of removed) {
    if (renamedFrom.has(c.name)) continue;
    if (both) schema.removed.push({ name: c.name, type: c.type });
    columns.push({ name: c.name, change: 'removed', renamedFrom: null, score: 1, reformatted: false, before: c, after: null });
  }
  // Array.prototype.sort is stable: equal scores keep file order (after's columns, then removed ones).
  columns.sort((x, y) => y.score - x.score);
  return { schema, columns };
}
