import { existsSync, lstatSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DvsError, fromSystemError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { isInside, realpathOfExisting } from '../../base/paths.js';
import { hashFiles, recordObject } from '../../objects/hash-files.js';
import { stampOf } from '../../objects/hash.js';
import { HashPool } from '../../objects/hash-pool.js';
import { manifestTotals, serializeManifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { StatCache } from '../../objects/stat-cache.js';
import { POINTER_SUFFIX, pointerPathOf, type DataKind, type Pointer } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import { gitignorePathOf, ignoreInGit } from '../../repo/gitignore.js';
import type { Repo } from '../../repo/repo.js';
import { trackedByGit } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { scanOutside } from '../../workspace/scan-outside.js';
import { manifestOf, scanDirectory, type ScannedFile } from '../../workspace/scan.js';
import { trackedAncestor, workspacePointers } from '../../workspace/targets.js';
import { refuseUnlessAppended } from './append-only.js';
import { checkout } from './checkout.js';
import { stageAndAudit, TrackJournal } from './track-journal.js';
import type { TrackedItem, TrackResult } from './track.js';

/**
 * `dvs track <source> -o <path>`: data from anywhere (another disk, a mount) becomes tracked data at a
 * path inside the repository. The source is only read: its bytes are copied into the cache while hashed
 * (never hard-linked, which would make the source read-only), then placed at the path as checkout would
 * place them (cache.type). The helpers here are shared with `dvs track --to-remote`.
 */
export interface TrackExternalOptions {
  source: string;
  out: string;
  /** Replace what is at `out`. */
  force?: boolean;
}

/** Where tracked data comes from: a file or folder, read only. */
export interface DataSource {
  arg: string;
  abs: string;
  kind: DataKind;
  /** Inside the repository, the data path it is tracked as (`dvs track data --to-remote`). */
  rel?: string;
}

/** The path inside the repository that data is tracked as. */
export interface OutPath {
  arg: string;
  rel: string;
  abs: string;
  pointerPath: string;
  exists: boolean;
}

export async function trackExternal(ctx: OpContext, options: TrackExternalOptions): Promise<TrackResult> {
  const { repo } = ctx;
  const source = resolveSource(ctx.cwd, options.source);
  const out = await checkOut(repo, ctx.cwd, options.out, source, { force: options.force === true });
  const result = await repo.withLock({ ...ctx.lock, command: 'dvs track' }, async () => {
    const state = await repo.statCache();
    const hashed = await hashSource(repo, source, { state, store: true, onProgress: ctx.onProgress });
    refuseUnlessAppended(repo, out.rel, previousPointer(repo, out.pointerPath), hashed);
    const item = itemOf(out, hashed, source.arg);
    const journal = new TrackJournal(repo);
    writeTrackedPointer(repo, journal, out, hashed, item);
    return finishTrack(repo, journal, [item], hashed.warnings);
  });
  // Placed after the lock is let go: checkout takes it. Killed in between, `dvs checkout` places the data.
  if (out.exists) rmSync(out.abs, { recursive: true, force: true });
  const placed = await checkout(ctx, { pointers: [{ ref: { dataPath: out.rel, pointerPath: out.pointerPath } }] });
  const failure = placed.failures[0];
  if (failure) {
    throw new DvsError(failure.code, `${out.arg}: tracked, but not placed in the workspace: ${failure.message}`, { hint: failure.hint ?? 'Run `dvs checkout` to place it.', data: { path: out.rel } });
  }
  return result;
}

/** A source given on the command line: it must exist and be a file or a folder (links are followed). */
export function resolveSource(cwd: string, arg: string): DataSource {
  const abs = resolve(cwd, arg);
  let st;
  try {
    st = statSync(abs);
  } catch (err) {
    throw fromSystemError(err, arg, 'reading');
  }
  if (!st.isFile() && !st.isDirectory()) throw new DvsError('TRACK_SPECIAL', `${arg}: not a regular file or directory`);
  return { arg, abs, kind: st.isDirectory() ? 'dir' : 'file' };
}

/** Everything that makes `out` an unusable destination, checked before anything is read or written. */
export async function checkOut(repo: Repo, cwd: string, arg: string, source: DataSource, options: { force: boolean }): Promise<OutPath> {
  const { abs, rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  const pointerPath = pointerPathOf(rel);
  repo.guard.check(rel, pointerPath);
  if (rel.endsWith(POINTER_SUFFIX)) {
    throw new DvsError('TRACK_POINTER', `${arg}: names a dvs pointer, not data`, { hint: `Name the data path: -o ${arg.slice(0, -POINTER_SUFFIX.length)}` });
  }
  const realSource = realpathSync(source.abs);
  const realOut = realpathOfExisting(abs);
  if (isInside(realSource, realOut) || isInside(realOut, realSource)) {
    throw new DvsError('TRACK_OUT_OVERLAPS', `${arg}: ${isInside(realSource, realOut) ? 'inside' : 'holds'} the source ${source.arg}; the source is only read, and the copy must go elsewhere`, {
      hint: 'Name a destination that neither contains the source nor lies inside it.',
      data: { path: rel, source: source.arg },
    });
  }
  const owner = trackedAncestor(repo, rel);
  if (owner) {
    throw new DvsError('INSIDE_TRACKED_DIR', `${arg}: inside the tracked directory ${owner}`, { hint: 'Name a destination outside tracked data.', data: { path: rel, owner } });
  }
  const exists = existsOrLink(abs);
  if (exists && !options.force) {
    throw new DvsError('TRACK_OUT_EXISTS', `${arg}: already exists; dvs will not replace it`, {
      hint: `Name another destination, or replace it: dvs track ${source.arg} -o ${arg} --force`,
      data: { path: rel },
    });
  }
  if (exists && lstatSync(abs).isDirectory()) {
    const nested = workspacePointers(repo, rel);
    const inner = [...nested.pointers, ...nested.refused][0];
    if (inner) {
      throw new DvsError('CONTAINS_TRACKED_DATA', `${arg}: contains data tracked on its own (${inner.pointerPath})`, {
        hint: `Remove the inner pointers first (dvs remove ${inner.pointerPath}), or name another destination.`,
        data: { path: rel },
      });
    }
  }
  const gitPath = (await trackedByGit(repo.root, [rel]))[0];
  if (gitPath) {
    throw new DvsError('TRACKED_BY_GIT', `${arg}: ${gitPath === rel ? 'already tracked by Git' : `Git tracks files in it (${gitPath})`}`, {
      hint: `Name another destination, or stop tracking it in Git first: git rm -r --cached ${rel}`,
      data: { path: rel, gitPath },
    });
  }
  return { arg, rel, abs, pointerPath, exists };
}

/** What hashing a source found: its oid and totals, and each file's oid (what an upload sends). */
export interface HashedSource {
  kind: DataKind;
  oid: Oid;
  size: number;
  files?: number;
  exec: boolean;
  parts: Array<{ abs: string; rel: string; oid: Oid; size: number }>;
  hashedFiles: number;
  hashedBytes: number;
  warnings: Warning[];
}

/**
 * Hash a source, with `store` copying its bytes into the cache as they are read. A directory's manifest
 * goes into the cache either way: it is small, and the pointer names it.
 */
export async function hashSource(repo: Repo, source: DataSource, options: { state: StatCache; store: boolean; onProgress?: OpContext['onProgress'] }): Promise<HashedSource> {
  const cache = options.store ? repo.cache : undefined;
  let pool: HashPool | undefined;
  try {
    const hashOptions = { state: options.state, cache, storeMode: 'copy' as const, onProgress: options.onProgress, pool: () => (pool ??= new HashPool()) };
    if (source.kind === 'file') {
      const stamp = stampOf(statSync(source.abs, { bigint: true }));
      const r = await hashFiles([{ abs: source.abs, stamp }], hashOptions);
      failOnReadErrors(r.errors.map(() => source.arg), r.errors);
      const exec = (Number(statSync(source.abs).mode) & 0o100) !== 0;
      const oid = r.oids[0]!;
      return { kind: 'file', oid, size: stamp.size, exec, parts: [{ abs: source.abs, rel: '', oid, size: stamp.size }], hashedFiles: r.hashedFiles, hashedBytes: r.hashedBytes, warnings: [] };
    }
    const scan = source.rel !== undefined ? scanDirectory(repo, source.rel) : scanOutside(source.abs, source.arg);
    const unnamable = scan.warnings.find((w) => w.code === 'NAME_NOT_UTF8');
    if (unnamable) {
      throw new DvsError('NAME_NOT_UTF8', `${unnamable.message.replace(/, skipped$/, '')}; dvs records names as UTF-8 text and will not track the directory without it`, { hint: unnamable.hint, data: { path: unnamable.path } });
    }
    const files: ScannedFile[] = scan.files;
    const r = await hashFiles(files.map((f) => ({ abs: f.abs, stamp: f.stamp })), hashOptions);
    failOnReadErrors(r.errors.map((e) => `${source.arg}/${files[e.index].rel}`), r.errors);
    const manifest = manifestOf(files, r.oids);
    const oid = repo.cache.addBuffer(serializeManifest(manifest));
    recordObject(repo.cache, options.state, oid);
    if (cache) options.state.markComplete(oid);
    const totals = manifestTotals(manifest);
    const parts = files.map((f, i) => ({ abs: f.abs, rel: f.rel, oid: r.oids[i]!, size: f.stamp.size }));
    return { kind: 'dir', oid, size: totals.size, files: totals.files, exec: false, parts, hashedFiles: r.hashedFiles, hashedBytes: r.hashedBytes, warnings: scan.warnings };
  } finally {
    await pool?.close();
  }
}

export function itemOf(out: { rel: string; pointerPath: string }, hashed: HashedSource, source?: string): TrackedItem {
  return {
    path: out.rel,
    pointerPath: out.pointerPath,
    kind: hashed.kind,
    oid: hashed.oid,
    size: hashed.size,
    ...(hashed.files !== undefined ? { files: hashed.files } : {}),
    changed: true,
    hashedFiles: hashed.hashedFiles,
    hashedBytes: hashed.hashedBytes,
    ...(source !== undefined ? { source } : {}),
  };
}

/**
 * Write the pointer of a tracked item (after every object it names is where it must be), with a journal
 * line first so that a killed run is staged and audited by the next track (finishTrack closes the
 * journal).
 */
export function writeTrackedPointer(repo: Repo, journal: TrackJournal, out: { rel: string; pointerPath: string }, hashed: HashedSource, item: TrackedItem): void {
  const previous = previousPointer(repo, out.pointerPath);
  item.changed = !previous || previous.oid !== hashed.oid || previous.kind !== hashed.kind || (hashed.kind === 'file' && previous.exec !== hashed.exec);
  if (item.changed) {
    journal.add({ path: item.path, pointerPath: item.pointerPath, kind: item.kind, oid: item.oid, size: item.size });
    const data = hashed.kind === 'file' ? { kind: 'file' as const, oid: hashed.oid, size: hashed.size, exec: hashed.exec } : { kind: 'dir' as const, oid: hashed.oid, size: hashed.size, files: hashed.files ?? 0 };
    // A destination in a folder that does not exist yet (the path judge checked every folder that does).
    mkdirSync(dirname(repo.abs(out.pointerPath)), { recursive: true });
    writePointer(repo.root, out.pointerPath, data, previous);
  }
}

/** Ignore the data in Git, stage the pointer and .gitignore, record the audit event, close the journal. */
export async function finishTrack(repo: Repo, journal: TrackJournal, items: TrackedItem[], warnings: Warning[]): Promise<TrackResult> {
  const changedFiles = new Set<string>();
  for (const e of journal.unfinished) {
    ignoreInGit(repo.root, e.path);
    changedFiles.add(e.pointerPath).add(gitignorePathOf(e.path));
  }
  for (const item of items) {
    changedFiles.add(item.pointerPath);
    const ignoreFile = ignoreInGit(repo.root, item.path);
    if (ignoreFile) changedFiles.add(ignoreFile);
  }
  return { items, ...(await stageAndAudit(repo, journal, changedFiles, items)), warnings };
}

/** The pointer a track replaces, if any (a broken one is replaced without a question). */
export function previousPointer(repo: Repo, pointerPath: string): Pointer | undefined {
  if (!existsSync(repo.abs(pointerPath))) return undefined;
  try {
    return readPointer(repo.root, pointerPath);
  } catch {
    return undefined; // replaced by the new one
  }
}

function failOnReadErrors(paths: string[], errors: Array<{ code?: string; message: string }>): void {
  if (errors.length === 0) return;
  const mapped = fromSystemError(Object.assign(new Error(errors[0].message), { code: errors[0].code }), paths[0], 'reading');
  if (mapped instanceof DvsError) throw mapped;
  throw new DvsError('READ_FAILED', `${paths[0]}: ${errors[0].message}`, { data: { failed: paths } });
}

function existsOrLink(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}
