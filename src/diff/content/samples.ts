/**
 * The second, cheap pass of the row diff: once the tables know which row (or key) hashes differ, read
 * each side again and keep the first N such rows. It stops as soon as it has them, so when differences
 * are spread through the file it reads only a small prefix.
 */
import { canonical } from './hash.js';
import type { Columns } from './reader.js';
import type { KeyTable, MultisetTable } from './rowdiff.js';
import type { HashConsumer, RowHashes, RowView } from './scan.js';
import type { Cell, CellChange, ChangedRow, SampleRow } from './types.js';

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
  changed(key: string, compared: ReadonlySet<string>): ChangedRow[] {
    const out: ChangedRow[] = [];
    for (const [s, before] of this.changedBefore) {
      const after = this.changedAfter.get(s);
      if (after) out.push({ key: before.values[key] ?? null, before, after, cells: cellChanges(before, after, key, compared) });
    }
    return out;
  }
}

function same(a: Cell | undefined, b: Cell | undefined): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (b === undefined || b === null) return false;
  return canonical(a) === canonical(b);
}

/**
 * Cells that differ between two versions of a row, over the compared columns: a column that only one
 * version has is a schema change, reported once, not once per row.
 */
export function cellChanges(before: SampleRow, after: SampleRow, key: string, compared: ReadonlySet<string>): CellChange[] {
  const out: CellChange[] = [];
  for (const column of Object.keys(before.values)) {
    if (column === key || !compared.has(column)) continue;
    const a = before.values[column];
    const b = after.values[column];
    if (!same(a, b)) out.push({ column, before: a ?? null, after: b ?? null });
  }
  return out;
}
