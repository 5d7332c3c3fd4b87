/**
 * The public shapes of the content diff. Everything a caller receives is a plain, JSON-serialisable object
 * whose keys are always present (null when not known), so `dvs diff --content --json` has a stable shape.
 * Every key is documented in docs/content-diff.md; change both together.
 */
import type { ProgressListener } from '../../events.js';

export type TabularFormat = 'csv' | 'tsv' | 'jsonl' | 'json' | 'parquet' | 'arrow';

/** One version of one file. The content diff never touches Git or the cache: it only opens these. */
export interface ContentSource {
  /** Logical path (used for the format, messages and sample rows), e.g. `data/train.csv`. */
  path: string;
  /** Size in bytes (needed to find a Parquet footer). */
  size: number;
  /** A fresh stream over the whole content on every call; the diff may read a version more than once. */
  open(): Promise<NodeJS.ReadableStream>;
  /**
   * The same content as open(), read into two buffers used in turn: a chunk is valid only until the next
   * one is asked for. For readers that are done with a chunk by then (the text decoding); a fresh 1 MB
   * buffer per read, as a stream makes, cost a diff more CPU time in page faults and cache misses than
   * the reads themselves. Optional: without it, open() is used.
   */
  chunks?(): AsyncIterable<Uint8Array>;
  /** Bytes [start, end) — lets Parquet read only its footer. Without it, Parquet files are read whole. */
  readRange?(start: number, end: number): Promise<Uint8Array>;
  /** The format, when the caller knows better than the extension of `path`. */
  format?: TabularFormat;
  /**
   * A local file holding exactly these bytes (a workspace file, a cache object). Optional: with it, a
   * big version can be scanned in a worker thread while the other version is scanned on this one.
   */
  file?: string;
}

export interface ContentDiffOptions {
  /** How many sample rows to show for each of added, removed and changed (default 5; 0 = counts only). */
  rows?: number;
  /** Match rows by this column (Dolt-style): reports changed cells instead of remove+add pairs. */
  key?: string;
  /**
   * Compute rows added/removed. Default: true for CSV/TSV/JSONL (they are streamed for statistics anyway);
   * for Parquet (otherwise footer only) true when `rows` > 0 is given. Setting `key` implies true.
   */
  rowLevel?: boolean;
  /** Memory for the row-level hash tables; beyond it the row diff becomes a documented estimate. */
  maxMemoryBytes?: number;
  /**
   * Scan the two versions in parallel, the second in a worker thread (needs `file` on its sources).
   * Default: when that version's files add up to 16 MB or more.
   */
  parallel?: boolean;
  /**
   * Compare CSV/TSV numbers by value in the row diff: `1`, `1.0` and `1e0` are then the same cell (by
   * default they are different text, and the statistics report the column as reformatted).
   */
  normalizeNumbers?: boolean;
  /** Progress for long reads (phase 'diff', bytes read). */
  onProgress?: ProgressListener;
}

/** Inferred or declared column type. `mixed`: values of different kinds (JSONL, never CSV). */
export type ColumnType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'mixed';

/** A cell as it appears in samples: CSV cells are text, JSONL/Parquet cells keep their JSON type. */
export type Cell = string | number | boolean | null;

export interface ColumnSchema {
  name: string;
  type: ColumnType;
}

export interface TopValue {
  value: string;
  count: number;
}

/**
 * Histogram of a numeric column: bin i covers [(start + i) × width, (start + i + 1) × width). Leading and
 * trailing empty bins are trimmed; the counts add up to the finite numbers of the column.
 */
export interface Histogram {
  /** A power of two, so that any two histograms can be put on the same bins exactly. */
  width: number;
  start: number;
  counts: number[];
}

/** Statistics of one column in one version. Keys not applicable to the column are null. */
export interface ColumnStats {
  name: string;
  type: ColumnType;
  /** Where the numbers come from: the data itself, or a Parquet footer (no rows read). */
  source: 'data' | 'footer';
  /** Non-null values. */
  count: number | null;
  nulls: number | null;
  /** Values of each kind (data only). */
  kinds: { boolean: number; integer: number; number: number; string: number } | null;
  /** Numbers: smallest/largest value. Parquet footers also give string bounds (possibly truncated). */
  min: number | string | boolean | null;
  max: number | string | boolean | null;
  /** Numeric columns only (data only); Welford's streaming algorithm, population standard deviation. */
  mean: number | null;
  stddev: number | null;
  /** Distinct non-null values; exact while `distinctExact`, else a HyperLogLog estimate (~1.6% error). */
  distinct: number | null;
  distinctExact: boolean | null;
  /** String values only: mean length in UTF-16 code units. */
  meanLength: number | null;
  /** Most frequent values (up to 10), most frequent first; counts are exact while `topExact`, else estimates. */
  top: TopValue[] | null;
  topExact: boolean | null;
  /** Hash of the multiset of values (order-independent): equal fingerprints mean the same values. */
  fingerprint: string | null;
  /**
   * Numeric columns (data only): counts of the numbers in power-of-two-wide bins, so that two versions'
   * histograms can be put on the same bins exactly (`sharedBins`). Null from a footer.
   */
  histogram: Histogram | null;
  /**
   * The same with CSV/TSV numbers hashed by value, so `1` and `1.0` count alike: equal value
   * fingerprints with different fingerprints mean the same numbers written differently.
   */
  valueFingerprint: string | null;
}

export interface ContentError {
  side: 'before' | 'after';
  path: string;
  /** One line saying why the file could not be read. */
  message: string;
}

/** What `summarize` returns, and what the diff computes for each side. */
export interface TableSummary {
  format: TabularFormat | null;
  /** Files summed into this summary (1 for a file, N for a partitioned directory). */
  files: number;
  /** Data rows (header excluded); null when no file could be read. */
  rows: number | null;
  /** In file order. */
  columns: ColumnStats[];
  source: 'data' | 'footer';
  errors: ContentError[];
  notes: string[];
}

export interface RenamedColumn {
  from: string;
  to: string;
  type: ColumnType;
  /** `values`: identical value fingerprints; `footer`: same type, nulls, min and max in Parquet footers. */
  evidence: 'values' | 'footer';
}

export interface TypeChange {
  name: string;
  before: ColumnType;
  after: ColumnType;
}

export interface SchemaDiff {
  before: ColumnSchema[] | null;
  after: ColumnSchema[] | null;
  added: ColumnSchema[];
  removed: ColumnSchema[];
  renamed: RenamedColumn[];
  typeChanged: TypeChange[];
  /** The columns both versions have appear in another order (rows are compared by column name, so a
   * reorder alone changes no row). */
  reordered: boolean;
}

export interface ColumnDiff {
  /** The column's name after the change (before, for a removed column). */
  name: string;
  change: 'added' | 'removed' | 'renamed' | 'changed' | 'unchanged';
  renamedFrom: string | null;
  /** How far the column moved, 0 (same) to 1 (schema change); see docs/content-diff.md. Sorted by it. */
  score: number;
  /**
   * The same numbers written differently (`1` → `1.0`, `1e3` → `1000`): a formatting change, not a
   * change of values. Its score is at most 0.01, below any real change.
   */
  reformatted: boolean;
  before: ColumnStats | null;
  after: ColumnStats | null;
}

export interface SampleRow {
  /** The file the row came from (differs from the diffed path for partitioned directories). */
  file: string;
  /** 1-based data row number within that file (header excluded). */
  row: number;
  values: Record<string, Cell>;
}

export interface CellChange {
  column: string;
  before: Cell;
  after: Cell;
}

export interface ChangedRow {
  key: Cell;
  before: SampleRow;
  after: SampleRow;
  /** Only the cells that differ. */
  cells: CellChange[];
}

/** Key mode: how many changed keys differ in one column, and by how much on average for numbers. */
export interface ColumnCellChanges {
  column: string;
  /** Changed keys whose cell in this column differs. */
  rows: number;
  /** Mean of (after − before) over those cells where both are numbers; null when none are. */
  meanDelta: number | null;
}

export interface RowDiff {
  mode: 'multiset' | 'key';
  key: string | null;
  /** Rows are compared on the columns both versions share (a schema change alone changes no row). */
  comparedColumns: string[];
  added: number;
  removed: number;
  /** Key mode: rows whose key is in both versions with different cells; null in multiset mode. */
  changed: number | null;
  unchanged: number;
  /** Key mode: keys that occur more than once in a version (compared as a group). */
  duplicateKeys: { before: number; after: number } | null;
  samples: { added: SampleRow[]; removed: SampleRow[]; changed: ChangedRow[] };
  /**
   * Key mode: per compared column, the changed keys whose cell there differs (every changed key, up to
   * 100,000 of them; see `cellChangesOf`), most changed first; null in multiset mode.
   */
  cellChanges: ColumnCellChanges[] | null;
  /** Key mode: how many changed keys `cellChanges` counts (keys occurring more than once are left out). */
  cellChangesOf: number | null;
  /** True when the memory budget was exceeded and counts are extrapolated from a hash-prefix sample. */
  estimated: boolean;
  /** Fraction of the row (or key) hash space that was counted: 1 when exact, 1/2^k when estimated. */
  sampleRate: number;
}

/**
 * A partitioned table's totals: rows and statistics over all its files at each version (ContentDiff's
 * own figures cover the changed files only), and what it cost: which files were read now and which
 * came from the stats cache.
 */
export interface DatasetTotals {
  files: { before: number; after: number };
  rows: { before: number | null; after: number | null; delta: number | null };
  /** Every column of either version, compared over all files, sorted as ContentDiff.columns. */
  columns: ColumnDiff[];
  /** Files whose statistics were computed by this diff (read now), one entry per distinct content. */
  read: string[];
  /** Files whose statistics came from the stats cache (not read), one entry per distinct content. */
  cached: string[];
  /** Files whose bytes were not available, or could not be read at all: left out of the totals. */
  unavailable: string[];
  /** Files whose statistics come from Parquet footers only (no rows read). */
  footerOnly: number;
}

/** One column's statistics plus what merging needs. */
export interface PartialColumn extends ColumnStats {
  /** Numbers fed to the mean (Welford's n) and the sum of squared deviations. */
  n: number;
  m2: number;
  /** Summed length of the string values. */
  strLen: number;
  /** Every distinct value with its count, when the column has few; else null (see hll). */
  values: TopValue[] | null;
  /** HyperLogLog registers (base64) when `values` is null; null from a footer. */
  hll: string | null;
  /** CSV/TSV: text cells, types inferred. */
  textual: boolean;
}

/** The statistics of one file, as kept in the stats cache. */
export interface FileStats {
  format: TabularFormat;
  /** Data rows; null when the file could not be read. */
  rows: number | null;
  source: 'data' | 'footer';
  columns: PartialColumn[];
  /** Why the file could not be read (fully), one line; else null. */
  error: string | null;
  notes: string[];
}

/** One table of a tracked directory (tables.ts groups its files), with its content diff. */
export interface TableDiff {
  /** The path of a one-file table, else the pattern its files share (`date=*\/part-*.parquet`), relative to the directory. */
  name: string;
  layout: 'file' | 'partitioned' | 'converted' | 'moved';
  /** Files of the table in each version, and how many of them changed. */
  files: { before: number; after: number; changed: number };
  /** `converted` and `moved`: true when both versions hold the same records (multiset of rows), false when not; else null. */
  sameRecords: boolean | null;
  content: ContentDiff | null;
  /** Why the content could not be compared (objects missing, …); null when it was. */
  contentError: string | null;
}

export interface ContentDiff {
  format: TabularFormat | null;
  change: 'added' | 'deleted' | 'modified';
  files: { before: number; after: number };
  schema: SchemaDiff;
  rows: { before: number | null; after: number | null; delta: number | null };
  /** Columns sorted by `score`, highest first; ties keep file order. */
  columns: ColumnDiff[];
  /** Null when row-level diff was not asked for (or impossible: see errors/notes). */
  rowDiff: RowDiff | null;
  estimated: boolean;
  estimateReason: string | null;
  errors: ContentError[];
  notes: string[];
  /**
   * A partitioned table: its totals over all files (the figures above cover the changed files only).
   * Null for a single file, where the figures above are the totals.
   */
  dataset: DatasetTotals | null;
}
