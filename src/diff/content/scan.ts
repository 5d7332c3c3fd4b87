/**
 * One pass over one side of the diff (a file, or every file of a partitioned directory): feeds each cell
 * to its column's statistics and, when asked, hashes each row for the row diff. Every cell is hashed once
 * and the hash serves the distinct-count sketch, the column fingerprint and the row hash alike.
 *
 * A row's hash is the wrapping sum, over the compared columns, of fmix(cell hash XOR column-name seed).
 * The sum makes it independent of column order (a reordered CSV changes no row), the seed of the column
 * name makes swapping two columns' values a change, and null cells contribute nothing, so a missing cell
 * and an empty one hash alike.
 */
import type { ProgressListener } from '../../events.js';
import { readCsv } from './csv.js';
import { footerStats, mergeFooters } from './footer.js';
import { canonical, fmix32, H1, H2, hashBytes, hashSpan, hashString } from './hash.js';
import { readArrow } from './arrow.js';
import { readJsonArray } from './json-array.js';
import { readJsonl } from './jsonl.js';
import { openParquet, readParquetRows, type ParquetFile } from './parquet.js';
import { Columns, ContentParseError, type ReadContext, type RowSink } from './reader.js';
import { footerPartials, type PartialColumn } from './partial.js';
import { classifySpan, ColumnAccumulator, INTEGER, NUM, NUMBER } from './stats.js';
import type { Cell, ColumnStats, ColumnType, ContentError, ContentSource, TableSummary, TabularFormat } from './types.js';

export interface SideFile {
  source: ContentSource;
  format: TabularFormat;
}

/** The hashes of the current row, reused for every row (no allocation per row). */
export interface RowHashes {
  r1: number;
  r2: number;
  hasKey: boolean;
  k1: number;
  k2: number;
}

/** The current row's cells, made on demand: most rows are only hashed, never materialised. */
export interface RowView {
  cells(): (Cell | string)[];
}

/**
 * A row of the first rows of a side, kept by the scan (ScanPlan.retain): its row hash and its cells, so
 * that the sample pass can take its samples from them instead of reading the side again.
 */
export interface RetainedRow {
  r1: number;
  r2: number;
  row: number;
  file: string;
  cells: (Cell | string)[];
  /** Columns known when the row was read (a later file or JSONL line may add more). */
  columns: number;
}

export interface RetainedRows {
  rows: RetainedRow[];
  /** `rows` is every row of the side: nothing was left out. */
  complete: boolean;
}

/** Text kept in retained rows at most (their cells pin the decoded chunks they lie in). */
const RETAINED_CHARS = 1 << 20;

export interface HashConsumer {
  /** Return false to stop reading this side. */
  row(h: RowHashes, view: RowView, rowNumber: number, file: string, columns: Columns): boolean | void;
}

export interface ScanPlan {
  side: 'before' | 'after';
  stats: boolean;
  /** Read Parquet rows; otherwise Parquet files contribute their footer only. */
  parquetRows: boolean;
  /** Columns whose cells make up the row hash; null: all columns. Ignored without a consumer. */
  compare: ReadonlySet<string> | null;
  key?: string;
  /** CSV/TSV: hash numeric cells by their value in the row hash (`1` = `1.0`); statistics keep the text. */
  normalizeNumbers?: boolean;
  consumer?: HashConsumer;
  /** Footers already read (by the column pre-scan), by path. */
  parquet: Map<string, ParquetFile>;
  /**
   * The consumer reads the key's hash only (key mode's sampling and cell-counting pass): without
   * statistics, the other cells are then not hashed at all, which makes that pass a fraction of the first.
   */
  keyOnly?: boolean;
  /** Also return the mergeable state of the statistics (needs `stats`). */
  partials?: boolean;
  /**
   * Keep the row hashes and cells of the first this many rows (SideScan.retained): the multiset sample
   * pass takes its samples from them when they hold enough, and reads the side a second time only when
   * they do not.
   */
  retain?: number;
  onProgress?: ProgressListener;
}

export interface SideScan {
  summary: TableSummary;
  columns: Columns;
  /** Files that could be read at least in part. */
  readable: number;
  /** With `plan.partials`: the statistics in mergeable form (partial.ts). */
  partials?: PartialColumn[];
  /** With `plan.retain` (and a consumer): the first rows, hashed as the consumer saw them. */
  retained?: RetainedRows;
}

const PROGRESS_STEP = 16 * 1024 * 1024;

/**
 * Turns rows into statistics and row hashes. A class with plain fields rather than closures: this is
 * the per-cell hot path, and V8 optimises field access on one object shape best.
 */
class RowProcessor implements RowSink, RowView {
  readonly accs: ColumnAccumulator[] = [];
  readonly h: RowHashes = { r1: 0, r2: 0, hasKey: false, k1: 0, k2: 0 };
  rows = 0;
  stopped = false;
  file = '';
  /** CSV/TSV: strings are text to infer types from, and '' is null. */
  textual = false;
  /** CSV/TSV numbers go into the row hash by value (plan.normalizeNumbers, for the current file). */
  normalize = false;
  private mask = new Uint8Array(0);
  private seed1 = new Int32Array(0);
  private seed2 = new Int32Array(0);
  private keyIdx = -1;
  private r1 = 0;
  private r2 = 0;
  private present = 0;
  // The current row, for cells().
  private curValues: readonly (Cell | string)[] | undefined;
  private curText = '';
  private curStart: Int32Array = new Int32Array(0);
  private curEnd: Int32Array = new Int32Array(0);

  /** plan.keyOnly without statistics: only the key cell is hashed. */
  private readonly keyOnly: boolean;
  /** plan.retain: the first rows, while `retaining`. */
  readonly retained: RetainedRows | undefined;
  private retaining: boolean;
  private retainedChars = 0;

  constructor(
    readonly columns: Columns,
    private readonly plan: ScanPlan,
  ) {
    this.keyOnly = plan.keyOnly === true && !plan.stats && plan.key !== undefined;
    this.retaining = plan.consumer !== undefined && (plan.retain ?? 0) > 0;
    this.retained = this.retaining ? { rows: [], complete: true } : undefined;
  }

  /** Per-column state grows as readers discover columns (JSONL, ragged CSV, later partitions). */
  grow(): void {
    const n = this.columns.length;
    if (this.mask.length === n) return;
    const m = new Uint8Array(n);
    const s1 = new Int32Array(n);
    const s2 = new Int32Array(n);
    m.set(this.mask);
    s1.set(this.seed1);
    s2.set(this.seed2);
    for (let i = this.mask.length; i < n; i++) {
      const name = this.columns.names[i]!;
      if (this.plan.stats) {
        const acc = new ColumnAccumulator(name);
        acc.nulls = this.rows; // a column first seen now was missing, so null, in every earlier row
        this.accs.push(acc);
      }
      m[i] = this.plan.consumer && (this.plan.compare === null || this.plan.compare.has(name)) ? 1 : 0;
      hashString(name);
      s1[i] = H1;
      s2[i] = H2;
      if (name === this.plan.key) this.keyIdx = i;
    }
    this.mask = m;
    this.seed1 = s1;
    this.seed2 = s2;
  }

  private startRow(): void {
    if (this.mask.length !== this.columns.length) this.grow();
    this.r1 = 0;
    this.r2 = 0;
    this.present = 0;
    this.h.hasKey = false;
  }

  /**
   * `normalizeNumbers`: the row-hash contribution of a numeric CSV cell t[s, e) is the hash of the number
   * it writes, so `1` and `1.0` are the same cell. Integers beyond 2^53 keep their text (as doubles,
   * neighbours would collide). Leaves the hash in H1/H2 when it changes it; returns whether it did.
   */
  private normalized(i: number, t: string, s: number, e: number): boolean {
    if (this.mask[i] !== 1 && i !== this.keyIdx) return false;
    const kind = classifySpan(t, s, e);
    if (kind !== NUMBER && !(kind === INTEGER && Number.isSafeInteger(NUM))) return false;
    hashString(String(NUM));
    return true;
  }

  /** Fold a non-null cell's hash into the row hash (and the key). */
  private hashed(i: number, h1: number, h2: number): void {
    if (this.mask[i] === 1) {
      this.r1 = (this.r1 + fmix32(h1 ^ this.seed1[i]!)) | 0;
      this.r2 = (this.r2 + fmix32(h2 ^ this.seed2[i]!)) | 0;
      this.present++;
    }
    if (i === this.keyIdx) {
      this.h.hasKey = true;
      this.h.k1 = h1;
      this.h.k2 = h2;
    }
  }

  private endRow(rowNumber: number): boolean {
    this.rows++;
    const consumer = this.plan.consumer;
    if (!consumer) return true;
    this.h.r1 = fmix32(this.r1 ^ 0x9e3779b9);
    this.h.r2 = fmix32(this.r2 ^ Math.imul(this.present, 0x27d4eb2d));
    if (this.retaining) this.retain(rowNumber);
    if (consumer.row(this.h, this, rowNumber, this.file, this.columns) === false) this.stopped = true;
    return !this.stopped;
  }

  /** Keep the current row (plan.retain), until the rows or their text reach the limit. */
  private retain(rowNumber: number): void {
    const kept = this.retained!;
    const cells = kept.rows.length < this.plan.retain! ? this.cells() : undefined;
    if (cells !== undefined) for (const c of cells) if (typeof c === 'string') this.retainedChars += c.length;
    if (cells === undefined || this.retainedChars > RETAINED_CHARS) {
      this.retaining = false;
      kept.complete = false;
      return;
    }
    kept.rows.push({ r1: this.h.r1, r2: this.h.r2, row: rowNumber, file: this.file, cells, columns: this.columns.length });
  }

  /** Only the key cell's hash, for a consumer that needs nothing else (plan.keyOnly, no statistics). */
  private keyCell(i: number, t: string, s: number, e: number): void {
    if (i < 0 || s === e) return;
    if (this.normalize && this.normalized(i, t, s, e)) this.hashed(i, H1, H2);
    else {
      hashSpan(t, s, e);
      this.hashed(i, H1, H2);
    }
  }

  spans(text: string, start: Int32Array, end: Int32Array, rowNumber: number, ascii?: Uint8Array): boolean {
    this.startRow();
    if (this.keyOnly) {
      const k = this.keyIdx;
      if (k >= 0) this.keyCell(k, text, start[k]!, end[k]!);
      this.curValues = undefined;
      this.curText = text;
      this.curStart = start;
      this.curEnd = end;
      return this.endRow(rowNumber);
    }
    const stats = this.plan.stats;
    const n = this.columns.length;
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const e = end[i]!;
      if (s === e) {
        if (stats) this.accs[i]!.nulls++;
        continue;
      }
      if (ascii !== undefined) hashBytes(ascii, s, e);
      else hashSpan(text, s, e);
      const h1 = H1;
      const h2 = H2;
      if (stats) this.accs[i]!.addText(text, s, e, h1, h2);
      if (this.normalize && this.normalized(i, text, s, e)) this.hashed(i, H1, H2);
      else this.hashed(i, h1, h2);
    }
    this.curValues = undefined;
    this.curText = text;
    this.curStart = start;
    this.curEnd = end;
    return this.endRow(rowNumber);
  }

  values(values: readonly (Cell | string)[], rowNumber: number): boolean {
    this.startRow();
    if (this.keyOnly) {
      const k = this.keyIdx;
      const v = k >= 0 && k < values.length ? values[k] : undefined;
      if (v !== undefined && v !== null && !(this.textual && v === '')) {
        const key = typeof v === 'string' ? v : canonical(v);
        this.keyCell(k, key, 0, key.length);
      }
      this.curValues = values;
      return this.endRow(rowNumber);
    }
    const stats = this.plan.stats;
    const textual = this.textual;
    const bounded = this.columns.bounded.size !== 0 ? this.columns.bounded : null;
    const n = this.columns.length;
    const len = values.length;
    for (let i = 0; i < n; i++) {
      const v = i < len ? values[i] : undefined;
      if (v === undefined || v === null || (textual && v === '')) {
        if (stats) this.accs[i]!.nulls++;
        continue;
      }
      const key = typeof v === 'string' ? v : canonical(v);
      hashString(key);
      const h1 = H1;
      const h2 = H2;
      if (stats) {
        if (textual) this.accs[i]!.addText(key, 0, key.length, h1, h2);
        else if (typeof v === 'string' && this.columns.numericText.has(i)) this.accs[i]!.addNumericText(key, h1, h2);
        else this.accs[i]!.addValue(v, key, h1, h2);
        if (bounded !== null && bounded.has(i) && typeof v !== 'boolean') this.accs[i]!.addBound(v);
      }
      if (textual && this.normalize && this.normalized(i, key, 0, key.length)) this.hashed(i, H1, H2);
      else this.hashed(i, h1, h2);
    }
    this.curValues = values;
    return this.endRow(rowNumber);
  }

  cells(): (Cell | string)[] {
    if (this.curValues) return [...this.curValues];
    const out: string[] = [];
    for (let i = 0; i < this.columns.length; i++) out.push(this.curText.slice(this.curStart[i]!, this.curEnd[i]!));
    return out;
  }
}

export async function scanSide(files: SideFile[], plan: ScanPlan): Promise<SideScan> {
  const columns = new Columns();
  const proc = new RowProcessor(columns, plan);
  const declared = new Map<string, ColumnType>();
  const footers: { rows: number; stats: ColumnStats[] }[] = [];
  const errors: ContentError[] = [];
  const notes: string[] = [];
  const textualSide = files.every((f) => f.format === 'csv' || f.format === 'tsv');
  let readable = 0;
  let bytes = 0;
  let reported = 0;

  for (const file of files) {
    if (proc.stopped) break;
    const path = file.source.path;
    proc.file = path;
    proc.textual = file.format === 'csv' || file.format === 'tsv';
    proc.normalize = proc.textual && plan.normalizeNumbers === true;
    const ctx: ReadContext = {
      source: file.source,
      columns,
      sink: proc,
      notes,
      side: plan.side,
      onBytes: (n) => {
        bytes += n;
        if (plan.onProgress && bytes - reported >= PROGRESS_STEP) {
          reported = bytes;
          plan.onProgress({ phase: 'diff', done: readable, total: files.length, bytes, item: path });
        }
      },
    };
    const rowsBefore = proc.rows;
    try {
      if (file.format === 'parquet') {
        let pf = plan.parquet.get(path);
        if (!pf) {
          pf = await openParquet(file.source);
          plan.parquet.set(path, pf);
        }
        for (const c of pf.columns) {
          columns.indexOf(c.name);
          const prev = declared.get(c.name);
          declared.set(c.name, prev === undefined || prev === c.type ? c.type : 'mixed');
        }
        if (!plan.parquetRows) {
          footers.push({ rows: pf.rows, stats: footerStats(pf) });
          proc.rows += pf.rows;
        } else {
          await readParquetRows(ctx, pf);
        }
      } else if (file.format === 'jsonl') {
        await readJsonl(ctx);
      } else if (file.format === 'json') {
        await readJsonArray(ctx);
      } else if (file.format === 'arrow') {
        await readArrow(ctx);
      } else {
        await readCsv(ctx, file.format === 'tsv' ? '\t' : ',');
      }
      readable++;
    } catch (err) {
      if (!(err instanceof ContentParseError) && !isSystemError(err)) throw err;
      const got = proc.rows - rowsBefore;
      errors.push({ side: plan.side, path, message: oneLine((err as Error).message) + (got > 0 ? ` (the ${got} rows before the error are included)` : '') });
      if (got > 0) readable++;
    }
    proc.grow();
  }

  const summary: TableSummary = {
    format: files[0]?.format ?? null,
    files: files.length,
    rows: readable > 0 ? proc.rows : null,
    columns: [],
    source: files.length > 0 && files.every((f) => f.format === 'parquet') && !plan.parquetRows ? 'footer' : 'data',
    errors,
    notes,
  };
  if (plan.stats) {
    summary.columns =
      summary.source === 'footer'
        ? mergeFooters(columns, footers, declared)
        : proc.accs.map((a) => a.finish(textualSide, declared.get(a.name)));
  }
  const formats = new Set(files.map((f) => f.format));
  if (formats.size > 1) notes.push(`files of different formats: ${[...formats].join(', ')}`);
  const retained = proc.retained;
  if (!plan.partials || !plan.stats) return { summary, columns, readable, retained };
  const partials = summary.source === 'footer' ? footerPartials(summary.columns) : proc.accs.map((a) => a.partial(textualSide, declared.get(a.name)));
  return { summary, columns, readable, partials, retained };
}

function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? line.slice(0, 297) + '...' : line;
}
