/**
 * The second, cheap pass of the row diff: once the tables know which row (or key) hashes differ, read
 * each side again and keep the first N such rows. It stops as soon as it has them, so when differences
 * are spread through the file it reads only a small prefix.
 */
import { canonical, detach } from './hash.js';
import { classifySpan, INTEGER, NUM, NUMBER } from './stats.js';
import { Columns } from './reader.js';
import type { KeyTable, MultisetTable } from './rowdiff.js';
import type { HashConsumer, RetainedRows, RowHashes, RowView } from './scan.js';
import type { Cell, CellChange, ChangedRow, ColumnCellChanges, SampleRow } from './types.js';

/** A sample row as JSON: CSV empty cells become null, like everywhere else in the diff. */
export function sampleRow(values: readonly (Cell | string)[], rowNumber: number, file: string, columns: Columns, textual: boolean): SampleRow {
  const out: Record<string, Cell> = {};
  columns.names.forEach((name, i) => {
    const v = i < values.length ? values[i] : null;
    out[name] = v === undefined || (textual && v === '') ? null : (v as Cell);
  });
  return { file, row: rowNumber, values: out };
}

/** Rows of one side whose hash has a count of that side's sign (removed rows of before, added of after). */
export class MultisetSampler implements HashConsumer {
  readonly rows: SampleRow[] = [];
  private readonly taken = new Set<number>();

  /** `want`: sample size, already capped by the number of differing hashes. */
  constructor(
    private readonly table: MultisetTable,
    private readonly side: 'before' | 'after',
    private readonly want: number,
    private readonly textual: (file: string) => boolean,
  ) {}

  row(h: RowHashes, view: RowView, rowNumber: number, file: string, columns: Columns): boolean {
    const s = this.table.lookup(h.r1, h.r2);
    if (s < 0 || this.taken.has(s)) return true;
    const c = this.table.count(s);
    if (this.side === 'before' ? c <= 0 : c >= 0) return true;
    this.taken.add(s);
    this.rows.push(sampleRow(view.cells(), rowNumber, file, columns, this.textual(file)));
    return this.rows.length < this.want;
  }
}

/**
 * Feed the rows a scan kept (ScanPlan.retain) to `consumer`, as a second pass would; `names`: the side's
 * columns. True when that is all the pass would give it: it said stop, or the rows are the whole side.
 */
export function replayRetained(kept: RetainedRows, names: readonly string[], consumer: HashConsumer): boolean {
  const h: RowHashes = { r1: 0, r2: 0, hasKey: false, k1: 0, k2: 0 };
  let cells: (Cell | string)[] = [];
  const view: RowView = { cells: () => [...cells] };
  // A pass meets the columns as the scan did: at each row, those known then.
  const known = new Map<number, Columns>();
  const columnsAt = (n: number): Columns => {
    let c = known.get(n);
    if (c === undefined) {
      c = new Columns();
      for (const name of names.slice(0, n)) c.indexOf(name);
      known.set(n, c);
    }
    return c;
  };
  for (const r of kept.rows) {
    h.r1 = r.r1;
    h.r2 = r.r2;
    cells = r.cells;
    if (consumer.row(h, view, r.row, r.file, columnsAt(r.columns)) === false) return true;
  }
  return kept.complete;
}

/**
 * Key mode. On `before`: the first removed keys, and the before-rows of the first changed keys. On
 * `after`: the first added keys, and the after-rows of exactly those changed keys.
 */
export class KeySampler implements HashConsumer {
  side: 0 | 1 = 0;
  readonly removed: SampleRow[] = [];
  readonly added: SampleRow[] = [];
  private readonly changedBefore = new Map<number, SampleRow>();
  private readonly changedAfter = new Map<number, SampleRow>();
  private readonly taken = new Set<number>();

  constructor(
    private readonly table: KeyTable,
    private readonly want: { removed: number; added: number; changed: number },
    private readonly textual: (file: string) => boolean,
  ) {}

  row(h: RowHashes, view: RowView, rowNumber: number, file: string, columns: Columns): boolean {
    if (!h.hasKey) return true;
    const s = this.table.lookup(h.k1, h.k2);
    if (s < 0) return true;
    const status = this.table.status(s);
    const w = this.want;
    const sample = (): SampleRow => sampleRow(view.cells(), rowNumber, file, columns, this.textual(file));
    if (this.side === 0) {
      if (status === 'removed' && this.removed.length < w.removed && !this.taken.has(s)) {
        this.taken.add(s);
        this.removed.push(sample());
      } else if (status === 'changed' && this.changedBefore.size < w.changed && !this.changedBefore.has(s)) {
        this.changedBefore.set(s, sample());
      }
      return this.removed.length < w.removed || this.changedBefore.size < w.changed;
    }
    if (status === 'added' && this.added.length < w.added && !this.taken.has(s)) {
      this.taken.add(s);
      this.added.push(sample());
    } else if (status === 'changed' && this.changedBefore.has(s) && !this.changedAfter.has(s)) {
      this.changedAfter.set(s, sample());
    }
    return this.added.length < w.added || this.changedAfter.size < this.changedBefore.size;
  }

  /** Changed rows in the order `before` met them, with only the cells that differ. */
  changed(key: string, compared: ReadonlySet<string>, normalize?: (cell: string | null) => string | null): ChangedRow[] {
    const out: ChangedRow[] = [];
    for (const [s, before] of this.changedBefore) {
      const after = this.changedAfter.get(s);
      if (after) out.push({ key: before.values[key] ?? null, before, after, cells: cellChanges(before, after, key, compared, normalize) });
    }
    return out;
  }
}

/**
 * `--normalize-numbers`: a cell's text as the number it writes (`1.0`, `1e0`, `+1` → `1`), so numbers
 * written differently compare equal. Integers beyond 2^53 keep their text: as doubles, neighbours would
 * become equal.
 */
export function normalizedCell(text: string | null): string | null {
  if (text === null || text === '') return text;
  const kind = classifySpan(text, 0, text.length);
  if (kind !== INTEGER && kind !== NUMBER) return text;
  if (kind === INTEGER && !Number.isSafeInteger(NUM)) return text;
  return String(NUM);
}

function same(a: Cell | undefined, b: Cell | undefined, normalize?: (cell: string | null) => string | null): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  return normalize ? normalize(canonical(a)) === normalize(canonical(b)) : canonical(a) === canonical(b);
}

/**
 * Cells that differ between two versions of a row, over the compared columns: a column that only one
 * version has is a schema change, reported once, not once per row.
 */
export function cellChanges(before: SampleRow, after: SampleRow, key: string, compared: ReadonlySet<string>, normalize?: (cell: string | null) => string | null): CellChange[] {
  const out: CellChange[] = [];
  for (const column of Object.keys(before.values)) {
    if (column === key || !compared.has(column)) continue;
    const a = before.values[column];
    const b = after.values[column];
    if (!same(a, b, normalize)) out.push({ column, before: a ?? null, after: b ?? null });
  }
  return out;
}

/** Changed keys whose cells are counted per column; past it, the counts cover the first ones met. */
export const MAX_COUNTED_KEYS = 100_000;

/** A cell as compared: null for a missing cell (and an empty CSV cell), else its canonical text. */
function comparable(v: Cell | string | undefined, textual: boolean): string | null {
  if (v === undefined || v === null || (textual && v === '')) return null;
  return canonical(v);
}

function asNumber(v: string | null): number | undefined {
  if (v === null || v.trim() === '') return undefined;
  const x = Number(v);
  return Number.isFinite(x) ? x : undefined;
}

/**
 * Key mode, per compared column: how many changed keys have a different cell there, and for numbers the
 * mean change (after − before). A full pass over each version: `before` keeps the compared cells of each
 * changed key (up to MAX_COUNTED_KEYS of them), `after` compares. Keys occurring more than once in a
 * version are compared as groups by the table and left out here: which row pairs with which is unknown.
 */
export class CellChangeCounter implements HashConsumer {
  side: 0 | 1 = 0;
  /** Changed keys whose cells were compared. */
  examined = 0;
  private readonly kept = new Map<number, (string | null)[]>();
  private readonly done = new Set<number>();
  private readonly tally: { rows: number; sum: number; comp: number; n: number }[];

  constructor(
    private readonly table: KeyTable,
    private readonly compared: readonly string[],
    private readonly textual: (file: string) => boolean,
    private readonly normalize: (cell: string | null) => string | null = (c) => c,
  ) {
    this.tally = compared.map(() => ({ rows: 0, sum: 0, comp: 0, n: 0 }));
  }

  row(h: RowHashes, view: RowView, _rowNumber: number, file: string, columns: Columns): boolean {
    if (!h.hasKey) return true;
    const s = this.table.lookup(h.k1, h.k2);
    if (s < 0 || this.table.status(s) !== 'changed' || this.table.duplicate(s)) return true;
    if (this.side === 0 ? this.kept.has(s) || this.kept.size >= MAX_COUNTED_KEYS : this.done.has(s) || !this.kept.has(s)) return true;
    const raw = view.cells();
    const textual = this.textual(file);
    const cells = this.compared.map((name) => {
      const i = columns.find(name);
      return this.normalize(i === undefined ? null : comparable(raw[i], textual));
    });
    if (this.side === 0) {
      // Own copies: a CSV cell is a slice of its decoded 64 KB chunk, and V8 keeps the whole chunk alive
      // for it. With 1% of keys changed every chunk of `before` has one, so 10 M rows kept 1 GB of text.
      this.kept.set(s, cells.map((c) => (c === null ? null : detach(c))));
      return true;
    }
    this.done.add(s);
    this.examined++;
    const before = this.kept.get(s)!;
    cells.forEach((after, j) => {
      if (after === before[j]) return;
      const t = this.tally[j]!;
      t.rows++;
      const a = asNumber(before[j]!);
      const b = asNumber(after);
      if (a === undefined || b === undefined) return;
      const d = b - a;
      const sum = t.sum + d; // Neumaier: deltas of large, close numbers
      t.comp += Math.abs(t.sum) >= Math.abs(d) ? t.sum - sum + d : d - sum + t.sum;
      t.sum = sum;
      t.n++;
    });
    return true;
  }

  /** Columns with at least one changed cell, most changed first. */
  result(): ColumnCellChanges[] {
    return this.compared
      .map((column, j) => {
        const t = this.tally[j]!;
        return { column, rows: t.rows, meanDelta: t.n > 0 ? (t.sum + t.comp) / t.n : null };
      })
      .filter((c) => c.rows > 0)
      .sort((x, y) => y.rows - x.rows);
  }
}

/** Runs two consumers over one pass: the sampler until it has its rows, the counter to the end. */
export class BothConsumers implements HashConsumer {
  private firstDone = false;
  constructor(
    private readonly first: HashConsumer,
    private readonly second: HashConsumer,
  ) {}

  row(h: RowHashes, view: RowView, rowNumber: number, file: string, columns: Columns): boolean {
    if (!this.firstDone && this.first.row(h, view, rowNumber, file, columns) === false) this.firstDone = true;
    this.second.row(h, view, rowNumber, file, columns);
    return true;
  }
}
