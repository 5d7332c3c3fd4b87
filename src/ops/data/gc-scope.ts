import { rowIndexesOf } from '../../lineage/row-record.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DvsError, isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { realpathOfExisting } from '../../base/paths.js';
import { findRoot, Repo } from '../../repo/repo.js';
import type { RepoLock } from '../../repo/lock.js';
import { parseRun, runPath, RUNS_DIR } from '../../runs/record.js';
import { loadRun, runIds } from '../../runs/store.js';
import { BlobReader, runGit } from '../../scm/git.js';
import {
  commitsInScope,
  objectsOf,
  pointersAtCommits,
  workspacePointersRead,
  type NeededData,
  type ReferencedObjects,
  type RevisionScope,
} from '../../workspace/references.js';
import type { OpContext } from '../context.js';
import type { RunDataOrigin } from './gc-origins.js';

/** What gc keeps, beyond the workspace's pointers (always kept). */
export interface GcScope extends RevisionScope {
  /** Keep nothing for run records (default: the datasets of every run record in scope are kept). */
  noRuns?: boolean;
  /**
   * Other dvs repositories that share this cache (paths, relative to the current directory): what their
   * scope needs is kept too. `revs` name commits of this repository only.
   */
  projects?: string[];
  /** Go on past a missing manifest or an unreadable run record (what they name is then not kept). */
  force?: boolean;
}

/** A repository whose scope gc keeps. */
export interface GcProject {
  root: string;
  pointers: number;
  /** Run records whose datasets were kept. */
  runs: number;
}

export interface KeptObjects {
  refs: ReferencedObjects;
  /** What the objects were counted from (to count again once missing manifests were fetched). */
  needed: NeededData[];
  /** This repository first, then the other projects. */
  projects: GcProject[];
  /** The other projects' repositories, for reading their history (never written). */
  others: Repo[];
  /** With `noRuns`: the datasets of run records that were not kept, to name what gc collects. */
  runData: RunDataOrigin[];
  warnings: Warning[];
  /** Locks of the other projects, held until `release`. */
  release(): void;
}

/** The objects the needed data names, with the row indexes their lineage records name (kept with the data). */
export function keptRefs(repo: Repo, needed: NeededData[]): ReferencedObjects {
  const refs = objectsOf(repo, needed);
  for (const n of needed) for (const oid of rowIndexesOf(n.pointer)) refs.oids.add(oid);
  return refs;
}

/**
 * What a gc keeps: the objects named by the pointers of the workspace and of the commits in scope, and
 * by the run records there, in this repository and in every other project sharing its cache. The other
 * projects are locked too while gc runs (a `dvs track` there must not add objects gc cannot see yet);
 * nothing of theirs is written but their lock.
 */
export async function keptObjects(ctx: OpContext, scope: GcScope): Promise<KeptObjects> {
  const { repo } = ctx;
  if (scope.since !== undefined) checkDate(scope.since);
  const others = openProjects(ctx, scope.projects ?? []);
  const locks: RepoLock[] = [];
  const release = () => locks.splice(0).forEach((l) => l.release());
  try {
    for (const other of others) locks.push(await lockOther(ctx, other));
    const warnings: Warning[] = [];
    const needed: NeededData[] = [];
    const projects: GcProject[] = [];
    const runData: RunDataOrigin[] = [];
    for (const [i, project] of [repo, ...others].entries()) {
      const own = await neededBy(project, i === 0 ? scope : { ...scope, revs: undefined }, warnings);
      projects.push({ root: project.root, pointers: own.pointers, runs: own.runs });
      needed.push(...own.needed);
      for (const d of own.notKept) runData.push({ dataPath: d.dataPath, kind: d.pointer.kind, oid: d.pointer.oid, run: d.pointerPath ?? '', commit: d.commit, ...(i ? { project: project.root } : {}) });
    }
    return { refs: keptRefs(repo, needed), needed, projects, others, runData, warnings, release };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * Lock another project. A wait is bounded: two gcs naming each other's repository would otherwise each
 * hold its own lock and wait for the other's forever.
 */
async function lockOther(ctx: OpContext, other: Repo): Promise<RepoLock> {
  const lock = other.lock();
  try {
    await lock.acquire({ ...ctx.lock, timeoutMs: ctx.lock?.wait ? ctx.lock.timeoutMs ?? OTHER_LOCK_WAIT_MS : undefined, command: `dvs gc --projects (from ${ctx.repo.root})` });
  } catch (err) {
    if (!isDvsError(err) || err.code !== 'REPO_LOCKED') throw err;
    throw new DvsError('REPO_LOCKED', `--projects: ${other.root}: ${err.message}`, { hint: err.hint, data: { ...err.data, project: other.root } });
  }
  return lock;
}

const OTHER_LOCK_WAIT_MS = 5 * 60 * 1000;

/** A calendar day, YYYY-MM-DD, that exists (not 2024-02-30). */
export function checkDate(date: string): void {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
  if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== date) {
    throw new DvsError('INVALID_DATE', `--date ${date}: not a calendar date (use YYYY-MM-DD, e.g. 2024-05-13)`, {
      hint: 'gc keeps what commits made on or after that day need (the day as git log shows the commit).',
      data: { date },
    });
  }
}

/** The manifest of kept data missing from the cache, in words: where it is named, and at which commit. */
export function describeUnknownManifest(m: ReferencedObjects['unknownManifests'][number]): string {
  const run = m.pointerPath?.startsWith(`${RUNS_DIR}/`) ? ` (a dataset of ${m.pointerPath})` : '';
  return `${m.dataPath}${run}${m.commit ? ` at ${m.commit.slice(0, 10)}` : ''}`;
}

/** The other projects: dvs repositories (each once, not this one) using the very same cache directory. */
function openProjects(ctx: OpContext, paths: string[]): Repo[] {
  const { repo } = ctx;
  const cache = realpathOfExisting(repo.cache.root);
  const seen = new Set([repo.realRoot]);
  const out: Repo[] = [];
  for (const path of paths) {
    const abs = resolve(ctx.cwd, path);
    if (!existsSync(abs)) {
      throw new DvsError('PATH_NOT_FOUND', `--projects ${path}: no such directory (${abs})`, { hint: 'Name the folder of another dvs repository that shares this cache.', data: { path: abs } });
    }
    const root = findRoot(abs);
    if (!root) {
      throw new DvsError('PROJECT_NOT_DVS_REPO', `--projects ${path}: ${abs} is not inside a dvs repository (no .dvs/config above it)`, {
        hint: 'Name the folder of another dvs repository that shares this cache (dvs init there first).',
        data: { path: abs },
      });
    }
    let other: Repo;
    let otherCache: string;
    try {
      other = Repo.open(root);
      if (seen.has(other.realRoot)) continue;
      otherCache = realpathOfExisting(other.cache.root);
    } catch (err) {
      if (!isDvsError(err)) throw err;
      throw new DvsError(err.code, `--projects ${path}: ${err.message}`, { hint: err.hint, data: { ...err.data, project: root } });
    }
    if (otherCache !== cache) {
      throw new DvsError('PROJECT_OTHER_CACHE', `--projects ${path}: the repository at ${root} uses the cache ${otherCache}, not this repository's ${cache}`, {
        hint: 'gc --projects is for repositories that share one cache (cache.dir); collect that one from inside it.',
        data: { path: root, cache: otherCache, expected: cache },
      });
    }
    seen.add(other.realRoot);
    out.push(other);
  }
  return out;
}

/**
 * What one repository's scope needs: its pointers and, unless `noRuns`, its run records' datasets (with
 * `noRuns` they are read anyway, best effort, only to name what gc collects).
 */
async function neededBy(repo: Repo, scope: GcScope, warnings: Warning[]): Promise<{ needed: NeededData[]; notKept: NeededData[]; pointers: number; runs: number }> {
  const commits = await commitsInScope(repo.root, scope);
  const needed: NeededData[] = [...workspacePointersRead(repo), ...(await pointersAtCommits(repo, commits))];
  const pointers = needed.length;
  if (scope.noRuns) return { needed, notKept: (await runDatasets(repo, commits, true, [])).needed, pointers, runs: 0 };
  const runs = await runDatasets(repo, commits, scope.force === true, warnings);
  needed.push(...runs.needed);
  return { needed, notKept: [], pointers, runs: runs.records };
}

/**
 * The datasets named by the run records of the workspace and of the commits: what reproducing those
 * runs needs. A record gc cannot read stops it (it cannot tell what the run needs) unless forced.
 */
async function runDatasets(repo: Repo, commits: string[], force: boolean, warnings: Warning[]): Promise<{ needed: NeededData[]; records: number }> {
  const needed: NeededData[] = [];
  let records = 0;
  const unreadable = (err: unknown, file: string, commit?: string) => {
    if (!isDvsError(err)) throw err;
    const where = `${file}${commit ? ` at ${commit.slice(0, 10)}` : ''}`;
    if (!force) {
      throw new DvsError(err.code, `gc cannot tell which data the run record ${where} needs: ${err.message}`, {
        hint: 'Fix the record, pass --no-runs to keep no data for runs, or --force to skip records that cannot be read.',
        data: { ...err.data, file, commit },
      });
    }
    warnings.push({ code: 'RUN_RECORD_SKIPPED', path: file, message: `run record ${where} skipped: ${err.message}; the data it names was not kept for it` });
  };
  const add = (datasets: Array<{ path: string; kind: 'file' | 'dir'; oid: string }>, file: string, commit?: string) => {
    records++;
    for (const d of datasets) needed.push({ dataPath: d.path, pointerPath: file, pointer: { kind: d.kind, oid: d.oid }, commit });
  };
  for (const id of await runIds(repo)) {
    try {
      add(loadRun(repo, id).record.datasets, runPath(id));
    } catch (err) {
      unreadable(err, runPath(id));
    }
  }
  if (commits.length === 0) return { needed, records };
  const reader = new BlobReader(repo.root);
  const seenBlobs = new Set<string>();
  try {
    for (const commit of commits) {
      for (const { file, id, blob } of await runFilesAt(repo, commit)) {
        if (seenBlobs.has(blob)) continue; // the same record at many commits needs reading once
        seenBlobs.add(blob);
        try {
          const text = await reader.read(blob);
          if (!text) continue;
          add(parseRun(text.toString('utf8'), `${file} at ${commit.slice(0, 10)}`, id, commit).record.datasets, file, commit);
        } catch (err) {
          unreadable(err, file, commit);
        }
      }
    }
  } finally {
    reader.close();
  }
  return { needed, records };
}

/** The run records in a commit's tree, with their blob ids (one `git ls-tree`). */
async function runFilesAt(repo: Repo, commit: string): Promise<Array<{ file: string; id: string; blob: string }>> {
  const out = await runGit(repo.root, ['ls-tree', '-z', '--full-tree', commit, '--', `${RUNS_DIR}/`]).catch(() => '');
  const files: Array<{ file: string; id: string; blob: string }> = [];
  for (const rec of out.split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const [, type, blob] = rec.slice(0, tab).split(' ');
    const file = rec.slice(tab + 1);
    const name = file.slice(RUNS_DIR.length + 1);
    if (type !== 'blob' || !name.endsWith('.yaml')) continue;
    const id = name.slice(0, -5);
    if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) files.push({ file, id, blob });
  }
  return files;
}
