/**
 * The content diff of one file or one partitioned directory: statistics of both versions, schema changes,
 * and (when asked) the row-level diff. Reads each version once for statistics and row hashes, then a
 * second time only as far as needed to fetch sample rows. Bad data never throws: it becomes an entry in
 * `errors` and the rest of the diff goes on.
 */
import { DvsError } from '../../errors.js';
import { compareSummaries } from './compare.js';
import { readCsv } from './csv.js';
import { detectFormat } from './format.js';
import { canScanInWorker, takeScanWorker, type ScanWorker } from './parallel.js';
import { openParquet, type ParquetFile } from './parquet.js';
import { Columns } from './reader.js';
import { KeyTable, MultisetTable } from './rowdiff.js';
import { BothConsumers, CellChangeCounter, KeySampler, MultisetSampler, normalizedCell, replayRetained } from './samples.js';
import { scanSide, type HashConsumer, type RetainedRows, type ScanPlan, type SideFile, type SideScan } from './scan.js';
import type { ContentDiff, ContentDiffOptions, ContentError, ContentSource, RowDiff, SampleRow, TableSummary } from './types.js';

export const DEFAULT_SAMPLE_ROWS = 5;
/** Row-diff tables get this much by default: 10 M distinct rows fit exactly (about 300 MB at the peak). */
export const DEFAULT_MAX_MEMORY_BYTES = 512 * 1024 * 1024;
/**
 * The multiset scan keeps the first this many rows of each side (ScanPlan.retain): when they hold the
 * samples (differences spread through the file), the sample pass does not read the side again.
 */
const RETAINED_ROWS = 4096;
/** Parquet footers are fetched this many at a time (remote sources pay a round trip each). */
const FOOTER_CONCURRENCY = 16;

type Side = 'before' | 'after';

interface Prepared {
  files: SideFile[];
  errors: ContentError[];
  footers: Map<string, ParquetFile>;
}

function checkOptions(o: ContentDiffOptions): void {
  const bad = (what: string): never => {
    throw new DvsError('CONTENT_DIFF_OPTION', `Invalid content diff option: ${what}`, { hint: 'Check the --rows, --key and memory options.' });
  };
  if (o.rows !== undefined && !(Number.isInteger(o.rows) && o.rows >= 0)) bad(`rows must be a whole number ≥ 0 (got ${o.rows})`);
  if (o.key !== undefined && (typeof o.key !== 'string' || o.key === '')) bad('key must be a column name');
  if (o.maxMemoryBytes !== undefined && !(o.maxMemoryBytes > 0)) bad(`maxMemoryBytes must be positive (got ${o.maxMemoryBytes})`);
}

export function prepare(sources: readonly ContentSource[], side: Side): Prepared {
  const files: SideFile[] = [];
  const errors: ContentError[] = [];
  for (const source of sources) {
    const format = source.format ?? detectFormat(source.path);
    if (format) files.push({ source, format });
    else errors.push({ side, path: source.path, message: 'not a tabular file (expected .csv, .tsv, .jsonl, .ndjson or .parquet, optionally .gz)' });
  }
  return { files, errors, footers: new Map() };
}

/** Read every Parquet footer of a side up front, a few at a time; failures are reported by the scan. */
async function prefetchFooters(p: Prepared): Promise<void> {
  const queue = p.files.filter((f) => f.format === 'parquet');
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const pf = await openParquet(f.source).catch(() => undefined);
      if (pf) p.footers.set(f.source.path, pf);
    }
  };
  await Promise.all(Array.from({ length: FOOTER_CONCURRENCY }, worker));
}

/** Column names of a side without reading its rows (CSV header, Parquet footer); undefined for JSONL. */
async function knownColumns(p: Prepared): Promise<Set<string> | undefined> {
  const names = new Set<string>();
  for (const f of p.files) {
    if (f.format === 'jsonl' || f.format === 'json' || f.format === 'arrow') return undefined;
    if (f.format === 'parquet') {
      for (const c of p.footers.get(f.source.path)?.columns ?? []) names.add(c.name);
      continue;
    }
    const columns = new Columns();
    // A parse error here is reported by the real scan.
    await readCsv({ source: f.source, columns, sink: { values: () => false, spans: () => false }, notes: [] }, f.format === 'tsv' ? '\t' : ',').catch(() => undefined);
    for (const n of columns.names) names.add(n);
  }
  return names;
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  return new Set([...a].filter((x) => b.has(x)));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

export async function diffPartitions(before: readonly ContentSource[], after: readonly ContentSource[], options: ContentDiffOptions = {}): Promise<ContentDiff> {
  checkOptions(options);
  if (before.length === 0 && after.length === 0) {
    throw new DvsError('CONTENT_DIFF_EMPTY', 'Nothing to diff: neither version has a file', { hint: 'Pass the before and/or after version of a file.' });
  }
  return new PartitionDiff(before, after, options).run();
}

type RowTable = MultisetTable | KeyTable;
type Planner = (side: Side, p: Prepared, extra: Partial<ScanPlan>) => ScanPlan;

interface Scans {
  table: RowTable | undefined;
  sa: SideScan;
  sb: SideScan;
}

/** One run of diffPartitions: the steps share the prepared sides, the options and what is decided on the way. */
class PartitionDiff {
  private readonly A: Prepared;
  private readonly B: Prepared;
  /** The key column; undefined when none was asked for, or when a version lacks it (multiset instead). */
  private key: string | undefined;
  private readonly budget: number;
  private readonly allParquet: boolean;
  private readonly errors: ContentError[];
  private readonly notes: string[] = [];
  private rowLevel: boolean;
  /** The columns rows are compared on; null until both versions' columns are known (JSONL: once read). */
  private compare: Set<string> | null = null;

  constructor(
    private readonly before: readonly ContentSource[],
    private readonly after: readonly ContentSource[],
    private readonly options: ContentDiffOptions,
  ) {
    this.key = options.key;
    this.budget = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    this.A = prepare(before, 'before');
    this.B = prepare(after, 'after');
    this.errors = [...this.A.errors, ...this.B.errors];
    const all = [...this.A.files, ...this.B.files];
    this.allParquet = all.length > 0 && all.every((f) => f.format === 'parquet');
    // Text formats are streamed for statistics anyway, so the row diff costs little there; Parquet rows are
    // only decoded when rows (a sample) or a key were asked for.
    this.rowLevel = this.key !== undefined || (options.rowLevel ?? (!this.allParquet || (options.rows ?? 0) > 0));
  }

  async run(): Promise<ContentDiff> {
    // The worker thread is started first, so that its start overlaps the reading of footers and headers.
    const worker = this.A.files.length > 0 && canScanInWorker(this.B.files, this.options.parallel) ? takeScanWorker() : undefined;
    let scans: Scans;
    try {
      await Promise.all([prefetchFooters(this.A), prefetchFooters(this.B)]);
      if (this.rowLevel) await this.compareOnKnownColumns();
      scans = worker ? await this.scanAtOnce(worker) : await this.scanInTurn();
    } finally {
      worker?.end();
    }
    const { table, sa, sb } = scans;
    for (const s of [sa, sb]) {
      this.errors.push(...s.summary.errors);
      this.notes.push(...s.summary.notes);
    }
    const rowDiff = table ? await this.rowDiff(table, sa, sb) : null;
    return this.result(sa, sb, rowDiff);
  }

  /** Compare rows on the columns both versions share, when the columns can be known before reading rows. */
  private async compareOnKnownColumns(): Promise<void> {
    const [ka, kb] = await Promise.all([knownColumns(this.A), knownColumns(this.B)]);
    if (!ka || !kb) return;
    this.compare = this.sharedColumns(ka, kb);
    this.keyMissing(ka, kb);
  }

  /** The columns of a version that has files, or those of both when both have. */
  private sharedColumns(a: Set<string>, b: Set<string>): Set<string> {
    return this.A.files.length === 0 ? b : this.B.files.length === 0 ? a : intersect(a, b);
  }

  /**
   * The key column is not among the compared columns: rows are then compared as wholes (the multiset
   * diff), and the notes say why.
   */
  private keyMissing(a: Set<string>, b: Set<string>): boolean {
    if (this.key === undefined || this.compare!.has(this.key)) return false;
    this.notes.push(missingKey(this.key, a, b, this.A, this.B));
    this.key = undefined;
    return true;
  }

  private readonly plan: Planner = (side, p, extra) => ({
    side,
    stats: false,
    // Footer statistics cannot be mixed with statistics from rows: a side that is not all Parquet reads rows.
    parquetRows: this.rowLevel || !p.files.every((f) => f.format === 'parquet'),
    compare: this.compare,
    key: this.key,
    normalizeNumbers: this.options.normalizeNumbers ?? false,
    parquet: p.footers,
    onProgress: this.options.onProgress,
    ...extra,
  });

  /** Rows the first pass keeps for the samples: multiset mode, when samples are asked for. */
  private retain(): number | undefined {
    return this.rowLevel && this.key === undefined && (this.options.rows ?? DEFAULT_SAMPLE_ROWS) > 0 ? RETAINED_ROWS : undefined;
  }

  /** Both versions at once, `after` in a worker thread; each side gets half of the memory budget. */
  private async scanAtOnce(worker: ScanWorker): Promise<Scans> {
    const table = this.rowLevel ? newTable(this.key, this.budget / 2) : undefined;
    setSide(table, 0);
    const mode = !this.rowLevel ? 'none' : this.key === undefined ? 'multiset' : 'key';
    const retain = this.retain();
    const [sa, b] = await Promise.all([
      scanSide(this.A.files, this.plan('before', this.A, { stats: true, consumer: table, retain })),
      worker.scan(this.B.files, this.plan('after', this.B, { stats: true, retain }), mode, this.budget / 2),
    ]);
    if (table && b.log) table.adoptSide(1, b.log);
    return { table, sa, sb: b.scan };
  }

  /** One version after the other, for statistics and (row-level) hashing rows into one table. */
  private async scanInTurn(): Promise<Scans> {
    const table = this.rowLevel ? newTable(this.key, this.budget) : undefined;
    const [sa, sb] = await this.scanSides(table, true, this.retain());
    return { table, sa, sb };
  }

  private async scanSides(table: RowTable | undefined, stats: boolean, retain?: number): Promise<[SideScan, SideScan]> {
    setSide(table, 0);
    const sa = await scanSide(this.A.files, this.plan('before', this.A, { stats, consumer: table, retain }));
    setSide(table, 1);
    const sb = await scanSide(this.B.files, this.plan('after', this.B, { stats, consumer: table, retain }));
    return [sa, sb];
  }

  /** The row-level diff from the hashed rows; null, with a note why, when there can be none. */
  private async rowDiff(table: RowTable, sa: SideScan, sb: SideScan): Promise<RowDiff | null> {
    const unreadable = (this.A.files.length > 0 && sa.readable === 0) || (this.B.files.length > 0 && sb.readable === 0);
    if (unreadable) {
      this.notes.push('row-level diff skipped: a version could not be read (see errors)');
      return null;
    }
    const hashed = this.compare === null ? await this.hashOnReadColumns(table, sa, sb) : table;
    // Rows kept by the scan carry its hashes: of no use when the rows were hashed again.
    const kept = hashed === table ? { before: sa.retained, after: sb.retained } : {};
    return finishRowDiff(hashed, this.compare!, sa, sb, this.A, this.B, this.plan, { ...this.options, key: this.key }, this.notes, kept);
  }

  /**
   * JSONL: columns are only known now. If they differ, hash again on the shared ones; without the key
   * column, hash again as wholes.
   */
  private async hashOnReadColumns(table: RowTable, sa: SideScan, sb: SideScan): Promise<RowTable> {
    const ca = new Set(sa.columns.names);
    const cb = new Set(sb.columns.names);
    this.compare = this.sharedColumns(ca, cb);
    const noKey = this.keyMissing(ca, cb);
    if (!noKey && (this.A.files.length === 0 || this.B.files.length === 0 || sameSet(ca, cb))) return table;
    if (!noKey) this.notes.push('the versions have different columns: rows were read again to compare them on the shared columns');
    const again = newTable(this.key, this.budget);
    await this.scanSides(again, false);
    return again;
  }

  private result(sa: SideScan, sb: SideScan, rowDiff: RowDiff | null): ContentDiff {
    const { A, B, before, after } = this;
    const { schema, columns } = compareSummaries(A.files.length > 0 ? sa.summary : null, B.files.length > 0 ? sb.summary : null);
    const rowsBefore = before.length === 0 ? 0 : sa.summary.rows;
    const rowsAfter = after.length === 0 ? 0 : sb.summary.rows;
    const fa = A.files[0]?.format;
    const fb = B.files[0]?.format;
    if (fa && fb && fa !== fb) this.notes.push(`format changed from ${fa} to ${fb}`);
    if (!this.rowLevel && this.allParquet && this.options.rowLevel === undefined) {
      this.notes.push('Parquet: statistics from the footers only (no rows read); ask for rows or a key for a row-level diff, means and top values');
    }
    return {
      format: fb ?? fa ?? null,
      change: before.length === 0 ? 'added' : after.length === 0 ? 'deleted' : 'modified',
      files: { before: before.length, after: after.length },
      schema,
      rows: { before: rowsBefore, after: rowsAfter, delta: rowsBefore !== null && rowsAfter !== null ? rowsAfter - rowsBefore : null },
      columns,
      rowDiff,
      estimated: rowDiff?.estimated ?? false,
      estimateReason: rowDiff?.estimated ? estimateReason(rowDiff, this.budget) : null,
      errors: this.errors,
      notes: this.notes,
      dataset: null,
    };
  }
}

function estimateReason(rowDiff: RowDiff, budget: number): string {
  return `the row-level diff needed more than ${mib(budget)} (maxMemoryBytes), so only rows whose hash falls in 1/${1 / rowDiff.sampleRate} of the hash space were compared and the added/removed/changed/unchanged counts were scaled up; samples come from that share`;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0)} MiB`;
}

function newTable(key: string | undefined, budget: number): MultisetTable | KeyTable {
  return key === undefined ? new MultisetTable(budget) : new KeyTable(budget);
}

function setSide(table: MultisetTable | KeyTable | undefined, side: 0 | 1): void {
  if (table) table.side = side;
}

function missingKey(key: string, a: Set<string>, b: Set<string>, A: Prepared, B: Prepared): string {
  const where = [A.files.length && !a.has(key) ? 'before' : '', B.files.length && !b.has(key) ? 'after' : ''].filter(Boolean).join(' and ');
  return `key column "${key}" is not in ${where || 'both versions'}: rows were compared as wholes (multiset) instead of by key`;
}

async function finishRowDiff(
  table: MultisetTable | KeyTable,
  compare: Set<string>,
  sa: SideScan,
  sb: SideScan,
  A: Prepared,
  B: Prepared,
  plan: Planner,
  options: ContentDiffOptions,
  notes: string[],
  kept: { before?: RetainedRows; after?: RetainedRows },
): Promise<RowDiff> {
  const want = options.rows ?? DEFAULT_SAMPLE_ROWS;
  const scale = 2 ** table.shift;
  const comparedColumns = [...sa.columns.names, ...sb.columns.names.filter((n) => sa.columns.find(n) === undefined)].filter((n) => compare.has(n));
  const textualOf = (p: Prepared) => {
    const textual = new Set(p.files.filter((f) => f.format === 'csv' || f.format === 'tsv').map((f) => f.source.path));
    return (file: string) => textual.has(file);
  };
  const sample = (side: Side, p: Prepared, consumer: HashConsumer) => scanSide(p.files, plan(side, p, { consumer, keyOnly: options.key !== undefined }));
  const common = {
    key: options.key ?? null,
    comparedColumns,
    estimated: table.shift > 0,
    sampleRate: table.sampleRate,
  };

  if (table instanceof MultisetTable) {
    const t = table.totals();
    const samples: RowDiff['samples'] = { added: [], removed: [], changed: [] };
    // From the rows the scan kept when they hold the samples, else from a second pass over the side.
    const sampleRows = async (side: Side, p: Prepared, n: number, scanned: SideScan, retained: RetainedRows | undefined) => {
      const fromKept = new MultisetSampler(table, side, n, textualOf(p));
      if (retained !== undefined && replayRetained(retained, scanned.columns.names, fromKept)) return fromKept.rows;
      const s = new MultisetSampler(table, side, n, textualOf(p));
      await sample(side, p, s);
      return s.rows;
    };
    if (want > 0 && t.distinctRemoved > 0) samples.removed = await sampleRows('before', A, Math.min(want, t.distinctRemoved), sa, kept.before);
    if (want > 0 && t.distinctAdded > 0) samples.added = await sampleRows('after', B, Math.min(want, t.distinctAdded), sb, kept.after);
    samples.removed = samples.removed.map((r) => complete(r, sa.columns));
    samples.added = samples.added.map((r) => complete(r, sb.columns));
    const rowsBefore = sa.summary.rows ?? 0;
    return {
      mode: 'multiset',
      ...common,
      added: t.added,
      removed: t.removed,
      changed: null,
      unchanged: Math.max(0, rowsBefore - t.removed),
      duplicateKeys: null,
      samples,
      cellChanges: null,
      cellChangesOf: null,
    };
  }

  const t = table.totals();
  const k = options.key!;
  const textualA = textualOf(A);
  const textualB = textualOf(B);
  const sampler: KeySampler = new KeySampler(
    table,
    { removed: Math.min(want, t.removed / scale), added: Math.min(want, t.added / scale), changed: Math.min(want, t.changed / scale) },
    (file) => (sampler.side === 0 ? textualA : textualB)(file),
  );
  // Changed keys are counted per column on a second pass over each version, which also takes the samples;
  // that pass hashes the key cell only (plan.keyOnly), so it costs parsing, not a second full scan.
  const normalize = options.normalizeNumbers ? normalizedCell : undefined;
  const counter: CellChangeCounter = new CellChangeCounter(table, comparedColumns.filter((c) => c !== k), (file: string): boolean => (counter.side === 0 ? textualA : textualB)(file), normalize);
  const counting = t.changed > 0;
  const pass = (): HashConsumer => (counting ? new BothConsumers(sampler, counter) : sampler);
  if (counting || (want > 0 && t.removed > 0)) await sample('before', A, pass());
  sampler.side = 1;
  counter.side = 1;
  if (counting || (want > 0 && t.added > 0)) await sample('after', B, pass());
  const [nullBefore, nullAfter] = table.nullKeys;
  if (nullBefore || nullAfter) notes.push(`${nullBefore} row(s) before and ${nullAfter} after have no value in key column "${k}" and were not compared`);
  return {
    mode: 'key',
    ...common,
    added: t.added,
    removed: t.removed,
    changed: t.changed,
    unchanged: t.same,
    duplicateKeys: { before: t.dupBefore, after: t.dupAfter },
    cellChanges: counting ? counter.result() : [],
    cellChangesOf: counter.examined,
    samples: {
      added: sampler.added.map((r) => complete(r, sb.columns)),
      removed: sampler.removed.map((r) => complete(r, sa.columns)),
      changed: sampler.changed(k, compare, normalize).map((c) => ({ ...c, before: complete(c.before, sa.columns), after: complete(c.after, sb.columns) })),
    },
  };
}

/**
 * A sample row with every column of its version, in file order: a row read before a later partition (or
 * JSONL line) added a column would otherwise lack that key.
 */
function complete(row: SampleRow, columns: Columns): SampleRow {
  const values: SampleRow['values'] = {};
  for (const name of columns.names) values[name] = row.values[name] ?? null;
  return { ...row, values };
}

export interface SummarizeOptions {
  /** Parquet: decode rows for full statistics (mean, stddev, distinct, top values). Default: footer only. */
  readRows?: boolean;
  onProgress?: ContentDiffOptions['onProgress'];
}

/** Schema, row count and column statistics of one file (lineage uses it for row counts). */
export async function summarize(source: ContentSource, options: SummarizeOptions = {}): Promise<TableSummary> {
  const p = prepare([source], 'after');
  if (p.files.length === 0) return { format: null, files: 1, rows: null, columns: [], source: 'data', errors: p.errors, notes: [] };
  const s = await scanSide(p.files, { side: 'after', stats: true, parquetRows: options.readRows ?? false, compare: null, parquet: p.footers, onProgress: options.onProgress });
  return s.summary;
}
