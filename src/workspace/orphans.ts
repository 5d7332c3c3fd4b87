import { existsSync, lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode, isDvsError } from '../errors.js';
import type { Warning } from '../events.js';
import { hashFiles, type FileToHash } from '../objects/hash-files.js';
import { loadManifestIfPresent, type ManifestEntry } from '../objects/manifest.js';
import type { StatCache } from '../objects/stat-cache.js';
import { dataPathOf, POINTER_SUFFIX, pointerPathOf, type DataKind, type Pointer } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';
import { currentStamp, PlacedRecord, sameStamp, type PlacedEntry } from './placed.js';
import { trackedAncestor } from './targets.js';

/** Data dvs removed because its pointer is gone. */
export interface OrphanRemoval {
  path: string;
  kind: DataKind;
  /** Files removed (1 for a file). */
  files: number;
}

export interface OrphanOutcome {
  removed: OrphanRemoval[];
  warnings: Warning[];
}

/**
 * Remove data whose pointer is gone (a `git checkout` to a commit without it), as DVC's checkout does,
 * but only what dvs itself placed there (the record, workspace/placed.ts) and only while it is exactly
 * what dvs placed and its content is in the cache: a file the user changed or made at that path, a file
 * the user added to a directory, or content nowhere else stays, with a warning. Once looked at, the path
 * is dropped from the record: whatever is left there is the user's from then on.
 *
 * `tracked`: the data paths of the pointers in the workspace; a path is also still tracked when a pointer
 * is beside it or above it (a pointer the scan did not walk to, an enclosing tracked directory).
 */
export async function removeOrphans(repo: Repo, state: StatCache, record: PlacedRecord, tracked: Set<string>): Promise<OrphanOutcome> {
  const outcome: OrphanOutcome = { removed: [], warnings: [] };
  for (const path of record.paths()) {
    if (tracked.has(path) || existsSync(repo.abs(pointerPathOf(path)))) continue;
    const entry = record.get(path)!;
    record.forget(path);
    // Inside a directory tracked now: its files are that directory's, checked out with it.
    if (trackedAncestor(repo, path)) continue;
    const refusal = repo.guard.refusal(path);
    if (refusal) {
      outcome.warnings.push({ code: refusal.code, path, message: `${path}: its pointer is gone, but dvs will not touch it: ${refusal.message}` });
      continue;
    }
    let isDir: boolean;
    try {
      const st = lstatSync(repo.abs(path));
      isDir = st.isDirectory();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') continue; // already gone
      throw err;
    }
    if (entry.kind === 'file') {
      if (isDir) outcome.warnings.push(kept(path, 'changed'));
      else await removeFile(repo, state, path, entry, outcome);
    } else {
      if (!isDir) outcome.warnings.push(kept(path, 'changed'));
      else await removeDirectoryFiles(repo, state, path, entry, outcome);
    }
  }
  record.save();
  return outcome;
}

async function removeFile(repo: Repo, state: StatCache, path: string, entry: PlacedEntry, outcome: OrphanOutcome): Promise<void> {
  const abs = repo.abs(path);
  const stamp = currentStamp(abs);
  // The same stamp is the same file dvs left; another stamp (copied back, touched) may still hold the same bytes.
  const unchanged = stamp !== undefined && (sameStamp(stamp, entry.stamp) || (await oidsOf(state, [{ abs, stamp }]))[0] === entry.oid);
  if (!unchanged) outcome.warnings.push(kept(path, 'changed'));
  else if (!repo.cache.has(entry.oid)) outcome.warnings.push(kept(path, 'unsaved'));
  else if (!removeChecked(repo, path)) outcome.warnings.push(kept(path, 'changed'));
  else outcome.removed.push({ path, kind: 'file', files: 1 });
}

/**
 * A directory: only the files its recorded manifest lists, each unchanged and in the cache, then the
 * folders that leaves empty. Files the user added or changed, and data tracked on its own inside, stay.
 */
async function removeDirectoryFiles(repo: Repo, state: StatCache, path: string, entry: PlacedEntry, outcome: OrphanOutcome): Promise<void> {
  const manifest = loadManifestIfPresent(repo.cache, entry.oid, path);
  if (!manifest) {
    outcome.warnings.push(kept(path, 'unsaved'));
    return;
  }
  const ownedInside = new Map<string, boolean>();
  const candidates: Array<{ full: string; entry: ManifestEntry; file: FileToHash }> = [];
  for (const e of manifest.entries) {
    const full = `${path}/${e.path}`;
    if (trackedBelow(repo, path, e.path, ownedInside)) continue;
    const stamp = repo.guard.linkOnTheWay(full) ? undefined : currentStamp(repo.abs(full));
    if (!stamp) continue; // gone, or not a file any more (then it is counted with what is left)
    candidates.push({ full, entry: e, file: { abs: repo.abs(full), stamp } });
  }
  const oids = await oidsOf(state, candidates.map((c) => c.file));
  const emptied = new Set<string>();
  let removed = 0;
  candidates.forEach((c, i) => {
    if (oids[i] !== c.entry.oid || !repo.cache.has(c.entry.oid) || !removeChecked(repo, c.full)) return;
    removed++;
    emptied.add(dirname(c.full));
  });
  pruneEmptyFolders(repo, path, emptied);
  if (removed) outcome.removed.push({ path, kind: 'dir', files: removed });
  const left = existsSync(repo.abs(path)) ? countUserFiles(repo, path, '', ownedInside) : 0;
  if (left > 0) {
    const what = removed ? `removed ${removed} file${removed === 1 ? '' : 's'} dvs placed; kept` : 'kept';
    outcome.warnings.push({
      code: 'POINTER_GONE_MODIFIED',
      path,
      message: `${path}: its pointer is gone; ${what} ${left} file${left === 1 ? '' : 's'} changed, added or not in the cache since dvs placed ${left === 1 ? 'it' : 'them'}`,
      hint: `Delete ${path} if you do not need it, or track it again: dvs track ${path}`,
    });
  }
}

function kept(path: string, why: 'changed' | 'unsaved'): Warning {
  return why === 'changed'
    ? {
        code: 'POINTER_GONE_MODIFIED',
        path,
        message: `${path}: its pointer is gone, but it was changed or replaced since dvs placed it; left as it is`,
        hint: `Delete it if you do not need it, or track it again: dvs track ${path}`,
      }
    : {
        code: 'POINTER_GONE_UNSAVED',
        path,
        message: `${path}: its pointer is gone, but its content is not in the cache (nowhere to get it back from); left as it is`,
        hint: `Delete it if you do not need it, or track it again: dvs track ${path}`,
      };
}

/** Remove one workspace file, after the path judge; false when it refuses (a link appeared on the way). */
function removeChecked(repo: Repo, path: string): boolean {
  try {
    repo.guard.check(path);
  } catch (err) {
    if (isDvsError(err)) return false;
    throw err;
  }
  rmSync(repo.abs(path), { force: true });
  return true;
}

/** Oids of workspace files, from the stat cache where it vouches for them, else by reading them. */
async function oidsOf(state: StatCache, files: FileToHash[]): Promise<Array<string | undefined>> {
  if (files.length === 0) return [];
  return (await hashFiles(files, { state })).oids;
}

/** Whether a file of a directory is inside data tracked on its own now (a pointer between the two). */
function trackedBelow(repo: Repo, dir: string, rel: string, memo: Map<string, boolean>): boolean {
  const parts = rel.split('/');
  for (let n = 1; n <= parts.length; n++) {
    const candidate = `${dir}/${parts.slice(0, n).join('/')}`;
    let owned = memo.get(candidate);
    if (owned === undefined) memo.set(candidate, (owned = existsSync(repo.abs(pointerPathOf(candidate)))));
    if (owned) return true;
  }
  return false;
}

/** Remove folders emptied by the removal, deepest first, up to and including the directory itself. */
function pruneEmptyFolders(repo: Repo, top: string, folders: Set<string>): void {
  const all = new Set<string>();
  for (let d of folders) {
    while (d === top || d.startsWith(top + '/')) {
      all.add(d);
      if (d === top) break;
      d = dirname(d);
    }
  }
  for (const d of [...all].sort((a, b) => b.length - a.length)) {
    try {
      if (!repo.guard.linkOnTheWay(`${d}/x`) && readdirSync(repo.abs(d)).length === 0) rmdirSync(repo.abs(d));
    } catch {
      // not empty, or already gone
    }
  }
  repo.guard.forget();
}

/**
 * Files (of any kind but folders) left under a directory whose pointer is gone, not following links:
 * what the warning is about. Data tracked on its own inside, its pointer and its .gitignore are not.
 */
function countUserFiles(repo: Repo, dir: string, rel: string, owned: Map<string, boolean>): number {
  let n = 0;
  let entries;
  try {
    entries = readdirSync(repo.abs(rel ? `${dir}/${rel}` : dir), { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === '.gitignore' || e.name.endsWith(POINTER_SUFFIX) || trackedBelow(repo, dir, child, owned)) continue;
    n += e.isDirectory() ? countUserFiles(repo, dir, child, owned) : 1;
  }
  return n;
}
export interface AfterCheckout {
  /** The pointers the checkout went through. */
  targets: Array<{ ref: { dataPath: string; pointerPath: string } }>;
  /** Pointers the path judge refused: still pointers, their data is not an orphan. */
  refused: string[];
  /** What the checkout wrote or deleted (data paths, or paths inside tracked directories). */
  changed: { added: string[]; modified: string[]; deleted: string[] };
  /** The checkout covered every pointer of the workspace: data whose pointer is gone may go. */
  wholeRepository: boolean;
}

/**
 * The checkout's part in the record of what dvs placed: the targets it wrote are recorded (a file with
 * its stamp, a directory with its manifest); then, over the whole repository, data whose pointer is gone
 * is removed (see removeOrphans). Call holding the repository lock.
 */
export async function afterCheckout(repo: Repo, state: StatCache, run: AfterCheckout): Promise<OrphanOutcome> {
  const record = PlacedRecord.load(repo);
  const written = new Set([...run.changed.added, ...run.changed.modified]);
  // Every folder holding a written or deleted path: a directory target among them was touched.
  const touched = new Set<string>();
  for (const p of [...written, ...run.changed.deleted]) {
    touched.add(p);
    for (let d = dirname(p); d !== '.' && !touched.has(d); d = dirname(d)) touched.add(d);
  }
  for (const { ref } of run.targets) {
    if (!touched.has(ref.dataPath) && !record.get(ref.dataPath)) continue;
    const pointer = tryReadPointer(repo, ref.pointerPath);
    if (!pointer) continue;
    if (pointer.kind === 'dir') record.record(ref.dataPath, { kind: 'dir', oid: pointer.oid });
    else if (written.has(ref.dataPath)) record.recordFile(repo, ref.dataPath, pointer.oid);
  }
  if (!run.wholeRepository) {
    record.save();
    return { removed: [], warnings: [] };
  }
  const tracked = new Set([...run.targets.map((t) => t.ref.dataPath), ...run.refused.map(dataPathOf)]);
  return removeOrphans(repo, state, record, tracked);
}

function tryReadPointer(repo: Repo, pointerPath: string): Pointer | undefined {
  try {
    return readPointer(repo.root, pointerPath);
  } catch {
    return undefined; // checkout reported it
  }
}
