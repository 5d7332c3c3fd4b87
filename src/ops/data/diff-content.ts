import { join } from 'node:path';
import type { DataDiff } from '../../diff/data-diff.js';
import type { Warning } from '../../events.js';
import type { Manifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { ContentDiff, ContentSource, FileStats, Grouping, SchemaOf, StatsStore, TableDiff, TableGroup, TabularFormat, TotalsEntry } from '../../diff/content/index.js';
import type { OpContext } from '../context.js';
import { DirStatsStore } from './content-stats.js';
import { isDvsError } from '../../errors.js';
import { fetchMissing } from './fetch-missing.js';
import type { RecordFile } from './record-hash.js';

type ContentModule = typeof import('../../diff/content/index.js');

/** One version of one file: a cache object, or a workspace file when the newer side is the workspace. */
interface Side {
  /** Logical path, relative to the repository root (format detection, messages). */
  path: string;
  oid?: Oid;
  workspacePath?: string;
}

/** One table to compare: its changed files (the diff) and all its files (the totals of a partitioned table). */
interface Job {
  change: DataDiff;
  before: Side[];
  after: Side[];
  /** Directories: the table and every file of it in each version. */
  table?: { group: TableGroup; diff: TableDiff; all: { before: Side[]; after: Side[] } };
}

/** What the content diff needs of `dvs diff`'s options. */
export interface ContentDiffOptions {
  /** Sample size of added/removed rows. */
  rows?: number;
  /** Match rows by this column and show changed cells. */
  key?: string;
  /** Compare CSV/TSV numbers by value in the row diff (`1` = `1.0`). */
  normalizeNumbers?: boolean;
  /** Fetch objects missing from the cache (default true). */
  fetch?: boolean;
  /** The newer side is the workspace: its files are read where they are. */
  workspace: boolean;
}

/** The manifests of a changed directory's two versions, where they were loaded. */
export interface DirVersions {
  before?: Manifest;
  after?: Manifest;
}

/**
 * Attach the content diff (schema, statistics, rows) to changed tabular data. A tracked file's two
 * versions are compared. A tracked directory is a set of tables (diff/content/tables.ts): each table with
 * a changed file gets its own diff of the changed files, and a partitioned table also its totals over all
 * its files, from the stats cache where it has them (`.dvs/tmp/content-stats/`). Changed files that are
 * not tabular are listed apart. The content engine is loaded only here, and objects missing from the
 * cache are fetched lazily, only those needed.
 */
export async function attachContentDiffs(
  ctx: OpContext,
  changes: DataDiff[],
  options: ContentDiffOptions,
  warnings: Warning[],
  manifests: ReadonlyMap<string, DirVersions> = new Map(),
): Promise<void> {
  const { repo } = ctx;
  const content = await import('../../diff/content/index.js');
  const store = new DirStatsStore(join(repo.paths.tmp, 'content-stats'));
  const { markSameRecords } = await import('./diff-records.js');
  // Re-partitioned or converted data: one line ("same records") says more than a diff of nothing.
  const same = await markSameRecords(ctx, changes, options.workspace, options.fetch !== false, warnings);
  const jobs: Job[] = [];
  const tensorJobs: TensorJob[] = [];
  for (const change of changes) {
    if (change.change === 'renamed' && !change.files?.length) continue; // same bytes under a new name
    // Same records in other files (re-partitioned, converted): the one line says it all. Files changed
    // in place keep their content diff too, which says how (rows or columns reordered, numbers re-spelled).
    if (same.has(change) && !changedInPlace(change)) continue;
    tensorJobs.push(...tensorJobsOf(content, change, options.workspace));
    if (change.kind === 'file' && (change.oldKind ?? 'file') === 'file') {
      const job = fileJob(content, change, options.workspace);
      if (job) jobs.push(job);
      continue;
    }
    if (change.files?.length) jobs.push(...tableJobs(content, change, manifests.get(change.path) ?? {}, options.workspace));
  }
  if (jobs.length === 0 && tensorJobs.length === 0) return;

  const needed = new Set<Oid>();
  for (const t of tensorJobs) for (const s of [t.before, t.after]) if (s?.oid && !s.workspacePath && !repo.cache.has(s.oid)) needed.add(s.oid);
  for (const j of jobs) {
    for (const s of [...j.before, ...j.after]) if (s.oid && !repo.cache.has(s.oid)) needed.add(s.oid);
    // Totals: only files whose statistics are not in the stats cache need their bytes.
    for (const s of [...(j.table?.all.before ?? []), ...(j.table?.all.after ?? [])]) {
      if (s.oid && !s.workspacePath && !repo.cache.has(s.oid) && !store.get(s.oid, statsKind(content, s.path))) needed.add(s.oid);
    }
  }
  if (needed.size && options.fetch !== false) await fetchMissing(ctx, [...needed], 'the content diff', warnings);

  const open = async (s: Side): Promise<ContentSource | undefined> => {
    if (s.workspacePath) return content.fileSource(repo.abs(s.workspacePath), s.path);
    if (!s.oid || !repo.cache.has(s.oid)) return undefined;
    return content.fileSource(repo.cache.pathOf(s.oid), s.path);
  };
  // The paths gave the candidate tables; the columns of their files decide them (diff/content/tables.ts).
  const computed = new Map<string, FileStats>();
  for (const change of new Set(jobs.filter((j) => j.table?.group.layout === 'partitioned').map((j) => j.change))) {
    const schemaOf = await schemasOf(content, jobs.filter((j) => j.change === change), open, store, computed);
    const regrouped = tableJobs(content, change, manifests.get(change.path) ?? {}, options.workspace, (g) => content.splitBySchema(g, schemaOf));
    jobs.splice(0, jobs.length, ...jobs.filter((j) => j.change !== change), ...regrouped);
  }
  for (const t of tensorJobs) {
    const [before, after] = [t.before && (await open(t.before)), t.after && (await open(t.after))];
    if ((t.before && !before) || (t.after && !after)) {
      t.change.contentError ??= `${t.path}: a version is not in the cache (dvs fetch brings it)`;
      continue;
    }
    (t.change.tensors ??= []).push(await content.diffTensors(t.path, before, after));
  }
  for (const job of jobs) {
    const result = await diffJob(content, job, open, options, ctx, store, computed);
    if (job.table) {
      job.table.diff.content = result.content;
      job.table.diff.contentError = result.error;
      job.table.diff.sameRecords = counterparts(job) && result.content ? await convertedSameRecords(ctx, job, result.content) : null;
    } else {
      if (result.content) job.change.content = result.content;
      if (result.error) job.change.contentError = result.error;
    }
  }
  // A directory's `content` is its table with the most changed files (the one diff a single-table
  // reader looks at); `tables` has them all.
  for (const change of changes) {
    const tables = change.tables as TableDiff[] | undefined;
    if (!tables?.length) continue;
    const main = [...tables].sort((a, b) => b.files.changed - a.files.changed)[0]!;
    if (main.content) change.content = main.content;
    else if (main.contentError) change.contentError = main.contentError;
  }
}

interface TensorJob {
  change: DataDiff;
  path: string;
  before?: Side;
  after?: Side;
}

/** The changed safetensors files of a change: the tracked file itself, or files of the directory. */
function tensorJobsOf(content: ContentModule, change: DataDiff, workspace: boolean): TensorJob[] {
  const after = (path: string, oid: Oid): Side => (workspace ? { path, workspacePath: path, oid } : { path, oid });
  if (change.kind === 'file' && (change.oldKind ?? 'file') === 'file') {
    if (!content.isSafetensors(change.path)) return [];
    const before = change.oldOid ? { path: change.oldPath ?? change.path, oid: change.oldOid } : undefined;
    return [{ change, path: change.path, before, after: change.newOid ? after(change.path, change.newOid) : undefined }];
  }
  return (change.files ?? [])
    .filter((f) => f.change !== 'renamed' && content.isSafetensors(f.path))
    .map((f) => {
      const path = `${change.path}/${f.path}`;
      return { change, path, before: f.oldOid ? { path, oid: f.oldOid } : undefined, after: f.newOid ? after(path, f.newOid) : undefined };
    });
}

function statsKind(content: ContentModule, path: string): 'data' | 'footer' {
  return content.detectFormat(path) === 'parquet' ? 'footer' : 'data';
}

/**
 * Same records: no row only in one version. Rows are compared by the engine's cell hashes, so a value
 * typed differently by the two formats (CSV text `1.0`, Parquet double 1) counts as a difference here;
 * convertedSameRecords then asks the record hash, which normalises that.
 */
function sameRecords(diff: ContentDiff): boolean | null {
  if (diff.rows.before === null || diff.rows.after === null) return null;
  if (diff.rows.before !== diff.rows.after) return false;
  const r = diff.rowDiff;
  return r ? !r.estimated && r.added === 0 && r.removed === 0 : null;
}

/**
 * A converted table (`flights.csv` → `flights.parquet`): the engine's answer, unless it sees differing
 * rows among as many rows; then the record hash (docs/record-hash.md) decides, which reads every format's
 * values canonically (CSV `5.0` and a Parquet double 5 are one number), and a note says why the rows the
 * content diff lists are not a change of records.
 */
async function convertedSameRecords(ctx: OpContext, job: Job, diff: ContentDiff): Promise<boolean | null> {
  const engine = sameRecords(diff);
  if (engine !== false || diff.rows.before !== diff.rows.after) return engine;
  const { repo } = ctx;
  const files = (sides: Side[]): RecordFile[] =>
    sides.map((s) => ({ path: s.path, file: s.workspacePath ? repo.abs(s.workspacePath) : repo.cache.pathOf(s.oid!), oid: s.oid }));
  try {
    const { recordDigestOfFiles } = await import('./record-hash.js');
    const [a, b] = [await recordDigestOfFiles(repo, files(job.before), false), await recordDigestOfFiles(repo, files(job.after), false)];
    if (a.digest !== b.digest) return false;
    diff.notes.push('same records by the record hash (values compared canonically across formats: CSV 5.0 = Parquet 5): the rows listed differ in how the formats write them, not in value');
    return true;
  } catch (err) {
    if (isDvsError(err)) return engine; // a file the record hash cannot read: the engine's answer stands
    throw err;
  }
}

function fileJob(content: ContentModule, change: DataDiff, workspace: boolean): Job | undefined {
  const format = content.detectFormat(change.path) ?? (change.oldPath ? content.detectFormat(change.oldPath) : undefined);
  if (!format) return undefined;
  return {
    change,
    before: change.oldOid ? [{ path: change.oldPath ?? change.path, oid: change.oldOid }] : [],
    after: change.newOid ? [workspace ? { path: change.path, workspacePath: change.path } : { path: change.path, oid: change.newOid }] : [],
  };
}

/**
 * The column names of every file of the change's partitioned tables, each version, from the stats cache
 * or read now (one pass, whose statistics the totals then reuse: `computed`).
 */
async function schemasOf(
  content: ContentModule,
  jobs: Job[],
  open: (s: Side) => Promise<ContentSource | undefined>,
  store: StatsStore,
  computed: Map<string, FileStats>,
): Promise<SchemaOf> {
  const names = new Map<string, readonly string[] | undefined>();
  const prefix = `${jobs[0]!.change.path}/`;
  const tasks: Array<{ side: 'before' | 'after'; s: Side }> = [];
  for (const j of jobs) {
    if (j.table?.group.layout !== 'partitioned') continue;
    for (const side of ['before', 'after'] as const) for (const s of j.table.all[side]) tasks.push({ side, s });
  }
  const statsOf = async (s: Side): Promise<FileStats | undefined> => {
    const format = content.detectFormat(s.path)!;
    const kind = statsKind(content, s.path);
    const hit = s.oid ? (computed.get(`${s.oid}.${kind}`) ?? store.get(s.oid, kind)) : undefined;
    if (hit && hit.format === format) return hit;
    const source = await open(s);
    if (!source) return undefined;
    const stats = await content.fileStats(source, format);
    if (s.oid) {
      computed.set(`${s.oid}.${kind}`, stats);
      if (stats.error === null) store.put(s.oid, kind, stats);
    }
    return stats;
  };
  const worker = async (): Promise<void> => {
    for (let t = tasks.shift(); t; t = tasks.shift()) {
      // A file that cannot be summarised has unknown columns: it stays in its table, whose diff says why.
      const stats = await statsOf(t.s).catch(() => undefined);
      names.set(`${t.side}\u0000${t.s.path.slice(prefix.length)}`, stats && stats.rows !== null ? stats.columns.map((c) => c.name) : undefined);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return (path, side) => names.get(`${side}\u0000${path}`);
}

/** One job per table of the directory that has a changed file; the changed files that are not tabular, listed. */
function tableJobs(content: ContentModule, change: DataDiff, versions: DirVersions, workspace: boolean, regroup: (g: Grouping) => Grouping = (g) => g): Job[] {
  const changedBefore = new Map<string, Oid>();
  const changedAfter = new Map<string, Oid>();
  for (const f of change.files ?? []) {
    if (f.change === 'renamed') continue; // same bytes: no row changed
    if (f.oldOid) changedBefore.set(f.oldPath ?? f.path, f.oldOid);
    if (f.newOid) changedAfter.set(f.path, f.newOid);
  }
  // Without a manifest (not loaded), a side is known only by its changed files.
  const allBefore = new Map(versions.before ? versions.before.entries.map((e) => [e.path, e.oid]) : changedBefore);
  const allAfter = new Map(versions.after ? versions.after.entries.map((e) => [e.path, e.oid]) : changedAfter);
  const grouping = regroup(content.groupTables([...allBefore.keys()], [...allAfter.keys()]));
  const full = (p: string) => `${change.path}/${p}`;
  const beforeSide = (p: string, oid: Oid): Side => ({ path: full(p), oid });
  const afterSide = (p: string, oid: Oid): Side => (workspace ? { path: full(p), workspacePath: full(p), oid } : { path: full(p), oid });
  const other = [...grouping.other.before.filter((p) => changedBefore.has(p)), ...grouping.other.after.filter((p) => changedAfter.has(p))].filter((p) => !content.isSafetensors(p));
  if (other.length) change.otherFiles = [...new Set(other)].sort();

  const jobs: Job[] = [];
  const tables: TableDiff[] = [];
  for (const group of grouping.tables) {
    const before = group.before.filter((p) => changedBefore.has(p));
    const after = group.after.filter((p) => changedAfter.has(p));
    if (before.length === 0 && after.length === 0) continue;
    const diff: TableDiff = {
      name: group.name,
      layout: group.layout,
      files: { before: group.before.length, after: group.after.length, changed: new Set([...before, ...after]).size },
      sameRecords: null,
      content: null,
      contentError: null,
    };
    tables.push(diff);
    jobs.push({
      change,
      before: before.map((p) => beforeSide(p, changedBefore.get(p)!)),
      after: after.map((p) => afterSide(p, changedAfter.get(p)!)),
      table: {
        group,
        diff,
        all: { before: group.before.map((p) => beforeSide(p, allBefore.get(p)!)), after: group.after.map((p) => afterSide(p, allAfter.get(p)!)) },
      },
    });
  }
  change.tables = tables.length ? tables : undefined;
  return jobs;
}

async function diffJob(
  content: ContentModule,
  job: Job,
  open: (s: Side) => Promise<ContentSource | undefined>,
  options: ContentDiffOptions,
  ctx: OpContext,
  store: StatsStore,
  computed: ReadonlyMap<string, FileStats>,
): Promise<{ content: ContentDiff | null; error: string | null }> {
  try {
    const before = await Promise.all(job.before.map(open));
    const after = await Promise.all(job.after.map(open));
    const missing = [...before, ...after].filter((s) => s === undefined).length;
    if (missing) return { content: null, error: `${missing} version(s) of the changed files are not in the cache (dvs fetch brings them)` };
    const formatOf = (s: ContentSource): TabularFormat | undefined => content.detectFormat(s.path);
    const withFormat = (list: Array<ContentSource | undefined>) => list.map((s) => ({ ...s!, format: formatOf(s!) }));
    if (before.length === 0 && after.length === 0) return { content: null, error: null };
    const asked = options.rows !== undefined || options.key !== undefined;
    const run = (rowLevel: boolean | undefined) =>
      content.diffPartitions(withFormat(before), withFormat(after), { rows: options.rows, key: options.key, normalizeNumbers: options.normalizeNumbers, rowLevel, onProgress: ctx.onProgress });
    let diff: ContentDiff;
    if (counterparts(job) && !asked) {
      // A converted (or moved) file: statistics first (a Parquet side from its footer); the records are compared only
      // when the row counts leave it possible that they are the same.
      diff = await run(false);
      if (diff.rows.before !== null && diff.rows.before === diff.rows.after) diff = await run(true);
    } else {
      diff = await run(asked ? true : undefined);
    }
    const all = job.table?.all;
    if (all && job.table!.group.layout === 'partitioned') {
      const entry = (s: Side): TotalsEntry => ({ path: s.path, format: content.detectFormat(s.path)!, key: s.oid, open: () => open(s) });
      diff.dataset = await content.datasetTotals(all.before.map(entry), all.after.map(entry), { store, computed, onProgress: ctx.onProgress });
    }
    if (job.table?.group.notes) diff.notes.push(...job.table.group.notes.map((n) => `${job.change.path}/${n}`));
    return { content: diff, error: null };
  } catch (err) {
    return { content: null, error: (err as Error).message.split('\n')[0]! };
  }
}

/** A table whose two versions are other files (converted, moved): are they the same records? */
function counterparts(job: Job): boolean {
  const layout = job.table?.group.layout;
  return layout === 'converted' || layout === 'moved';
}

/** Every changed file of `change` is on both sides under the same name: nothing was added, removed or renamed. */
function changedInPlace(change: DataDiff): boolean {
  if (change.kind === 'file' && (change.oldKind ?? 'file') === 'file') return change.change === 'modified';
  return (change.files ?? []).every((f) => f.change === 'modified');
}
