import type { ContentDiff, ContentSource } from '../../diff/content/index.js';
import { diffVersions, type DataDiff, type DataVersion } from '../../diff/data-diff.js';
import { isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { diffValues, type ValueChange } from '../../lineage/params.js';
import { removedPercent } from '../../lineage/walk.js';
import type { Manifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import { recordDigestOfFiles, type RecordFile } from '../data/record-hash.js';
import type { DataKind } from '../../pointer/format.js';
import type { Repo } from '../../repo/repo.js';
import type { RunIntegrity } from '../../runs/integrity.js';
import type { LoadedRun, RunDataset, RunLineageStep, RunRecord } from '../../runs/record.js';
import { loadRunRef, parseRunRef } from '../../runs/store.js';
import { BlobReader, runGit } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { integrityOf } from './run-show.js';
import { loadManifest } from '../../objects/manifest.js';

export interface RunCompareOptions {
  /** `<id>` or `<id>@<rev>` (read from Git without a checkout). */
  a: string;
  b: string;
  /** Compare the contents of tabular datasets (schema, statistics, rows) when both versions are in the cache. Default true. */
  content?: boolean;
  /** Sample rows per kind in the content diff (default 3). */
  rows?: number;
}

export interface RunSide {
  id: string;
  rev: string | null;
  commit: string | null;
  model: string;
  status: RunRecord['status'];
  started: string;
  finished: string | null;
  user: string;
  integrity: RunIntegrity['status'];
}

export interface LineageStepChange {
  transform: string;
  /** The step's outputs, joined by ", ". */
  outputs: string;
  change: 'added' | 'removed' | 'modified' | 'unchanged';
  params: ValueChange[];
  before: { step: string; rowsIn: number | null; rowsOut: number | null; removedPercent: number | null } | null;
  after: { step: string; rowsIn: number | null; rowsOut: number | null; removedPercent: number | null } | null;
}

export interface DatasetVersion {
  oid: Oid;
  kind: DataKind;
  size: number;
  files?: number;
  rows: number | null;
}

export interface RunDatasetChange {
  path: string;
  change: 'added' | 'removed' | 'modified' | 'unchanged';
  before: DatasetVersion | null;
  after: DatasetVersion | null;
  rows: { before: number | null; after: number | null; delta: number | null; percent: number | null };
  /** The file-level diff (directories: files added, deleted, modified, renamed). */
  files: DataDiff | null;
  /** How each run's lineage of this dataset differs, step by step (nearest step first). */
  lineage: LineageStepChange[];
  /** Schema, statistics and rows, when both versions are tabular and in the cache. */
  content: ContentDiff | null;
  /** Why there is no content diff for a modified dataset. */
  contentNote?: string;
  /**
   * Modified tabular datasets: their record hashes (docs/record-hash.md). `same` true means a re-encoding
   * (re-partitioned, converted, reordered), not a data change; the content diff is then left out.
   */
  records: RecordsChange | null;
}

export interface RecordsChange {
  same: boolean;
  before: { digest: string; rows: number };
  after: { digest: string; rows: number };
}

export interface MetricDelta {
  key: string;
  before: number | null;
  after: number | null;
  delta: number | null;
  /** Relative change in percent (null when before is 0 or missing). */
  percent: number | null;
}

export interface RunCompareResult {
  a: RunSide;
  b: RunSide;
  datasets: RunDatasetChange[];
  params: ValueChange[];
  code: {
    before: RunRecord['code'];
    after: RunRecord['code'];
    same: boolean;
    /** Commits reachable from b and not from a, and the reverse (null when either commit is unknown here). */
    ahead: number | null;
    behind: number | null;
  };
  metrics: MetricDelta[];
  hardware: ValueChange[];
  warnings: Warning[];
}

const round = (n: number) => Math.round(n * 1e9) / 1e9;

function versionOf(d: RunDataset): DatasetVersion {
  const v: DatasetVersion = { oid: d.oid, kind: d.kind, size: d.size, rows: d.rows };
  if (d.files !== undefined) v.files = d.files;
  return v;
}

function stepKey(s: RunLineageStep): string {
  return `${s.transform}\0${s.outputs.map((o) => o.path).sort().join('\0')}`;
}

function stepSide(s: RunLineageStep) {
  return { step: s.step, rowsIn: s.rowsIn, rowsOut: s.rowsOut, removedPercent: removedPercent(s.rowsIn, s.rowsOut) };
}

/** Steps matched by transform type and output paths; their parameters and row counts compared. */
export function compareLineage(before: RunLineageStep[], after: RunLineageStep[]): LineageStepChange[] {
  const out: LineageStepChange[] = [];
  const remaining = new Map<string, RunLineageStep>();
  for (const s of before) if (!remaining.has(stepKey(s))) remaining.set(stepKey(s), s);
  for (const s of after) {
    const key = stepKey(s);
    const old = remaining.get(key);
    remaining.delete(key);
    const outputs = s.outputs.map((o) => o.path).join(', ');
    if (!old) {
      out.push({ transform: s.transform, outputs, change: 'added', params: diffValues({}, s.params), before: null, after: stepSide(s) });
      continue;
    }
    const params = diffValues(old.params, s.params);
    out.push({ transform: s.transform, outputs, change: old.step === s.step ? 'unchanged' : 'modified', params, before: stepSide(old), after: stepSide(s) });
  }
  for (const s of remaining.values()) {
    out.push({ transform: s.transform, outputs: s.outputs.map((o) => o.path).join(', '), change: 'removed', params: diffValues(s.params, {}), before: stepSide(s), after: null });
  }
  return out;
}

function rowsDelta(before: number | null, after: number | null) {
  const delta = before !== null && after !== null ? after - before : null;
  const percent = delta !== null && before ? Math.round((delta / before) * 10000) / 100 : null;
  return { before, after, delta, percent };
}

function manifestOrUndefined(repo: Repo, oid: Oid, path: string): Manifest | undefined {
  if (!repo.cache.has(oid)) return undefined;
  try {
    return loadManifest(repo.cache, oid, path);
  } catch (err) {
    if (isDvsError(err)) return undefined;
    throw err;
  }
}

function dataVersion(repo: Repo, path: string, d: RunDataset | undefined): DataVersion | undefined {
  if (!d) return undefined;
  const v: DataVersion = { kind: d.kind, oid: d.oid, size: d.size };
  if (d.files !== undefined) v.files = d.files;
  if (d.kind === 'dir') v.manifest = manifestOrUndefined(repo, d.oid, path);
  return v;
}

/** The content diff of two versions from the cache; a note instead when it cannot be made. */
async function contentDiff(repo: Repo, path: string, before: DataVersion, after: DataVersion, rows: number): Promise<{ content: ContentDiff | null; note?: string }> {
  const content = await import('../../diff/content/index.js');
  const sourcesOf = async (v: DataVersion): Promise<ContentSource[] | string> => {
    if (v.kind === 'file') {
      if (!content.detectFormat(path)) return 'not a tabular file';
      if (!repo.cache.has(v.oid)) return `version ${v.oid.slice(0, 10)} is not in the cache (dvs fetch it to compare contents)`;
      return [await content.fileSource(repo.cache.pathOf(v.oid), path)];
    }
    if (!v.manifest) return `the manifest of ${v.oid.slice(0, 10)} is not in the cache`;
    const files = v.manifest.entries.filter((e) => content.detectFormat(e.path));
    if (files.length === 0) return 'no tabular files';
    const missing = files.find((e) => !repo.cache.has(e.oid));
    if (missing) return `${path}/${missing.path} of ${v.oid.slice(0, 10)} is not in the cache`;
    return Promise.all(files.map((e) => content.fileSource(repo.cache.pathOf(e.oid), `${path}/${e.path}`)));
  };
  const a = await sourcesOf(before);
  if (typeof a === 'string') return { content: null, note: a };
  const b = await sourcesOf(after);
  if (typeof b === 'string') return { content: null, note: b };
  return { content: await content.diffPartitions(a, b, { rows }) };
}

/** The tabular files of a version in the cache, and what else it holds; a note when they cannot be read. */
async function recordFilesOf(repo: Repo, path: string, v: DataVersion): Promise<{ files: RecordFile[]; others: string } | string> {
  const { detectFormat } = await import('../../diff/content/format.js');
  const entries = v.kind === 'file' ? [{ path, oid: v.oid }] : v.manifest?.entries.map((e) => ({ path: `${path}/${e.path}`, oid: e.oid }));
  if (!entries) return `the manifest of ${v.oid.slice(0, 10)} is not in the cache`;
  const tabular = entries.filter((e) => detectFormat(e.path));
  if (tabular.length === 0) return 'no tabular files';
  const missing = tabular.find((e) => !repo.cache.has(e.oid));
  if (missing) return `${missing.path} of ${v.oid.slice(0, 10)} is not in the cache`;
  const others = entries.filter((e) => !detectFormat(e.path)).map((e) => `${e.path} ${e.oid}`).join('\n');
  return { files: tabular.map((e) => ({ path: e.path, file: repo.cache.pathOf(e.oid), oid: e.oid })), others };
}

/** Record hashes of two versions: equal ones (and equal other files) mean a re-encoding, not new data. */
async function recordsChange(repo: Repo, path: string, before: DataVersion, after: DataVersion): Promise<RecordsChange | string> {
  const a = await recordFilesOf(repo, path, before);
  if (typeof a === 'string') return a;
  const b = await recordFilesOf(repo, path, after);
  if (typeof b === 'string') return b;
  const [da, db] = [await recordDigestOfFiles(repo, a.files, false), await recordDigestOfFiles(repo, b.files, false)];
  return { same: da.digest === db.digest && a.others === b.others, before: { digest: da.digest, rows: da.rows }, after: { digest: db.digest, rows: db.rows } };
}

function side(loaded: LoadedRun, rev: string | undefined, integrity: RunIntegrity): RunSide {
  const r = loaded.record;
  return { id: r.id, rev: rev ?? null, commit: loaded.commit ?? null, model: r.model, status: r.status, started: r.started, finished: r.finished, user: r.user, integrity: integrity.status };
}

async function commitsBetween(repo: Repo, from: string | null, to: string | null): Promise<number | null> {
  if (!from || !to) return null;
  try {
    return Number((await runGit(repo.root, ['rev-list', '--count', `${from}..${to}`])).trim());
  } catch {
    return null; // a commit this clone does not have
  }
}

function flatHardware(h: RunRecord['hardware']): Record<string, unknown> {
  return { cpu: h.cpu, cores: h.cores, memory: h.memory, gpus: h.gpus === null ? null : (h.gpus ?? []).map((g) => g.name).join(', '), platform: h.platform };
}

/**
 * `dvs run compare`: what differs between two runs — datasets (with the file-level diff, the lineage
 * and, for tabular data in the cache, the content diff), parameters, code and metrics. Runs are read
 * from the workspace or, as `<id>@<rev>`, from Git's objects without a checkout.
 */
export async function runCompare(ctx: OpContext, options: RunCompareOptions): Promise<RunCompareResult> {
  const { repo } = ctx;
  const refA = parseRunRef(options.a);
  const refB = parseRunRef(options.b);
  const reader = new BlobReader(repo.root);
  let loadedA: LoadedRun;
  let loadedB: LoadedRun;
  try {
    loadedA = await loadRunRef(repo, refA, reader);
    loadedB = await loadRunRef(repo, refB, reader);
  } finally {
    reader.close();
  }
  const [intA, intB] = await Promise.all([integrityOf(repo, loadedA), integrityOf(repo, loadedB)]);
  const warnings: Warning[] = [];
  for (const i of [intA, intB]) {
    if (i.status === 'mismatch') warnings.push({ code: 'RUN_RECORD_TAMPERED', message: i.message!, hint: 'Run `dvs audit verify` for the whole trail.' });
    if (i.status === 'unrecorded') warnings.push({ code: 'RUN_RECORD_UNRECORDED', message: i.message! });
  }
  const a = loadedA.record;
  const b = loadedB.record;

  const datasets: RunDatasetChange[] = [];
  const paths = [...new Set([...a.datasets.map((d) => d.path), ...b.datasets.map((d) => d.path)])].sort();
  for (const path of paths) {
    const da = a.datasets.find((d) => d.path === path);
    const db = b.datasets.find((d) => d.path === path);
    const change: RunDatasetChange['change'] = !da ? 'added' : !db ? 'removed' : da.oid === db.oid && da.kind === db.kind ? 'unchanged' : 'modified';
    const entry: RunDatasetChange = {
      path,
      change,
      before: da ? versionOf(da) : null,
      after: db ? versionOf(db) : null,
      rows: rowsDelta(da?.rows ?? null, db?.rows ?? null),
      files: null,
      lineage: compareLineage(da?.lineage ?? [], db?.lineage ?? []),
      content: null,
      records: null,
    };
    if (change === 'modified') {
      const va = dataVersion(repo, path, da)!;
      const vb = dataVersion(repo, path, db)!;
      entry.files = diffVersions(path, va, vb);
      if (options.content !== false) {
        try {
          const r = await recordsChange(repo, path, va, vb);
          if (typeof r !== 'string') entry.records = r;
        } catch (err) {
          if (!(err instanceof Error)) throw err;
          warnings.push({ code: 'RECORD_HASH_FAILED', path, message: `${path}: record hash failed: ${err.message.split('\n')[0]}` });
        }
      }
      if (options.content !== false && !entry.records?.same) {
        try {
          const c = await contentDiff(repo, path, va, vb, options.rows ?? 3);
          entry.content = c.content;
          if (c.note) entry.contentNote = c.note;
        } catch (err) {
          // The comparison of everything else stands without it.
          if (!isDvsError(err) && !(err instanceof Error)) throw err;
          entry.contentNote = `the content diff failed: ${(err as Error).message}`;
        }
      }
    }
    for (const d of [da, db]) {
      if (d?.staleLineage) warnings.push({ code: 'STALE_LINEAGE', path, message: `${path}: its lineage was stale when run ${d === da ? a.id : b.id} started (an input had changed since its transform ran)` });
    }
    datasets.push(entry);
  }

  const metricKeys = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].sort();
  const metrics: MetricDelta[] = metricKeys.map((key) => {
    const before = a.metrics[key] ?? null;
    const after = b.metrics[key] ?? null;
    const delta = before !== null && after !== null ? round(after - before) : null;
    const percent = delta !== null && before ? Math.round((delta / Math.abs(before)) * 10000) / 100 : null;
    return { key, before, after, delta, percent };
  });

  return {
    a: side(loadedA, refA.rev, intA),
    b: side(loadedB, refB.rev, intB),
    datasets,
    params: diffValues(a.params, b.params),
    code: {
      before: a.code,
      after: b.code,
      same: a.code.commit === b.code.commit && !a.code.dirty && !b.code.dirty,
      ahead: await commitsBetween(repo, a.code.commit, b.code.commit),
      behind: await commitsBetween(repo, b.code.commit, a.code.commit),
    },
    metrics,
    hardware: diffValues(flatHardware(a.hardware), flatHardware(b.hardware)),
    warnings,
  };
}
