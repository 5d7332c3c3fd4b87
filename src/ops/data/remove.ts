import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { DvsError, errnoCode } from '../../errors.js';
import { loadManifestIfPresent, type ManifestEntry } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { StatCache } from '../../objects/stat-cache.js';
import { dataPathOf, isPointerPath, pointerPathOf, type DataKind, type Pointer } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import { unignoreInGit } from '../../repo/gitignore.js';
import type { Repo } from '../../repo/repo.js';
import { stage, unstage } from '../../scm/git.js';
import { compareWorkspace } from '../../workspace/compare.js';
import { trackedAncestor } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';
import { updatePlaced } from '../../workspace/placed.js';
import { refuseAppend } from './append-only.js';
import { hasEntriesAt, isAtOrBelow, openTrackedDirectory, saveDirectoryVersion, spliceEntries, workspaceEntriesAt } from './dir-edit.js';

export interface RemoveOptions {
  targets: string[];
  /** Also delete the data from the workspace (only what is safe in the cache, unless `force`). */
  outs?: boolean;
  force?: boolean;
}

export interface RemovedItem {
  /** The data no longer tracked: a tracked path, or a path inside a tracked directory. */
  path: string;
  /** The pointer deleted (whole data), or rewritten (a path inside a directory). */
  pointerPath: string;
  /** For a path inside a tracked directory: the directory, and how many manifest entries went. */
  inside?: { owner: string; deleted: number; oid: Oid };
  /** Whether the data was deleted from the workspace (--outs); false when it was not there. */
  deletedData: boolean;
  /** --outs --force deleted data whose content is not in the cache. */
  forced: boolean;
}

export interface RemoveResult {
  removed: RemovedItem[];
  staged: string[];
  toStage: string[];
}

type Planned =
  | { arg: string; path: string; pointerPath: string; whole: { pointer: Pointer } }
  | { arg: string; path: string; pointerPath: string; owner: string; sub: string };

/**
 * Stop tracking data: delete its pointer and its .gitignore entry; for a path inside a tracked directory,
 * drop its entries from the directory's manifest and rewrite the directory's pointer. The data stays in
 * the workspace unless `outs`, and its objects stay in the cache (until gc). Every target is checked
 * before anything is written, the safety of deleting data (--outs) included.
 */
export async function remove(ctx: OpContext, options: RemoveOptions): Promise<RemoveResult> {
  const { repo } = ctx;
  if (options.targets.length === 0) {
    throw new DvsError('NO_TARGETS', 'Nothing to remove', { hint: 'Name pointer files: dvs remove data.dvs' });
  }
  const named = options.targets.map((arg) => plan(repo, ctx.cwd, arg));
  // A path inside data that is removed whole in the same command has nothing left to edit.
  const whole = new Set(named.filter((p) => 'whole' in p).map((p) => p.path));
  const plans = named.filter((p, i) => ('whole' in p ? named.findIndex((q) => 'whole' in q && q.path === p.path) === i : !whole.has(p.owner)));
  return repo.withLock({ ...ctx.lock, command: 'dvs remove' }, async () => {
    const state = options.outs ? await repo.statCache() : undefined;
    const unsafe = new Set<string>();
    if (state) {
      for (const p of plans) {
        const problem = await unsavedData(repo, state, p);
        if (!problem) continue;
        if (!options.force) {
          throw new DvsError('UNSAVED_CHANGES', `${p.arg}: ${problem}; not deleted, nothing was changed`, {
            hint: `Record it first (dvs track ${p.path}) and run again, drop --outs to keep the data, or add --force to delete it anyway.`,
            data: { path: p.path },
          });
        }
        unsafe.add(p.path);
      }
    }
    const removed: RemovedItem[] = [];
    const unstaged: string[] = [];
    const toAdd = new Set<string>();
    const audit: Array<{ type: 'remove' | 'track'; path: string; oid: Oid; kind: DataKind; size: number; removed?: string }> = [];
    for (const p of plans) {
      const item: RemovedItem = { path: p.path, pointerPath: p.pointerPath, deletedData: false, forced: unsafe.has(p.path) };
      if ('whole' in p) {
        rmSync(repo.abs(p.pointerPath));
        unstaged.push(p.pointerPath);
        const changed = unignoreInGit(repo.root, p.path);
        if (changed) toAdd.add(changed);
        const { oid, kind, size } = p.whole.pointer;
        audit.push({ type: 'remove', path: p.path, oid, kind, size });
        if (options.outs) item.deletedData = deleteWholeData(repo, p.path, p.whole.pointer);
      } else {
        const dir = openTrackedDirectory(repo, p.owner, p.arg);
        const version = saveDirectoryVersion(repo, state ?? (await repo.statCache()), dir, spliceEntries(dir.manifest, p.sub, []));
        item.inside = { owner: p.owner, deleted: version.deleted, oid: version.oid };
        if (version.changed) toAdd.add(p.pointerPath);
        audit.push({ type: 'track', path: p.owner, oid: version.oid, kind: 'dir', size: version.size, removed: p.path });
        if (options.outs) item.deletedData = deletePath(repo, p.path, p.owner);
      }
      removed.push(item);
    }
    // Data left in place is the user's now: no later checkout may take it for dvs's and remove it.
    updatePlaced(repo, (record) => plans.forEach((p) => 'whole' in p && record.forget(p.path)));
    const autostage = repo.config.bool('core.autostage');
    if (autostage) {
      await unstage(repo.root, unstaged);
      await stage(repo.root, [...toAdd]);
    }
    const records = await import('../../audit/record.js');
    const gone = audit.filter((a) => a.type === 'remove');
    if (gone.length) await records.recordAuditEvent(repo, { type: 'remove', paths: gone.map(({ path, oid, kind, size }) => ({ path, oid, kind, size })) });
    const edited = audit.filter((a) => a.type === 'track');
    if (edited.length) {
      await records.recordAuditEvent(repo, { type: 'track', paths: edited.map(({ path, oid, kind, size }) => ({ path, oid, kind, size })), data: { removed: edited.map((a) => a.removed) } });
    }
    const all = [...unstaged, ...toAdd];
    return { removed, staged: autostage ? all : [], toStage: autostage ? [] : all };
  });
}

/** What an argument names: a pointer (or its data), or a path inside a tracked directory. Throws when neither. */
function plan(repo: Repo, cwd: string, arg: string): Planned {
  const { rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
  if (existsSync(repo.abs(pointerPath))) {
    const path = dataPathOf(pointerPath);
    repo.guard.check(path, pointerPath);
    // Parsing proves it is a dvs pointer and not some other file ending in .dvs.
    return { arg, path, pointerPath, whole: { pointer: readPointer(repo.root, pointerPath) } };
  }
  const owner = trackedAncestor(repo, rel);
  if (owner) {
    const dir = openTrackedDirectory(repo, owner, arg);
    const sub = rel.slice(owner.length + 1);
    // Checked before anything is removed: a command naming several paths changes none.
    if (dir.pointer.appendOnly && hasEntriesAt(dir.manifest, sub)) refuseAppend(owner, dir.manifest.entries.filter((e) => isAtOrBelow(e.path, sub)).map((e) => ({ path: e.path, reason: 'gone' as const })));
    if (hasEntriesAt(dir.manifest, sub)) return { arg, path: rel, pointerPath: dir.pointerPath, owner, sub };
    throw new DvsError('NOT_TRACKED', `${arg}: ${owner}'s manifest has no entry there`, {
      hint: `List the directory's files with: dvs status --granular ${owner}`,
      data: { path: rel, owner },
    });
  }
  throw new DvsError('NOT_TRACKED', `${arg}: no pointer ${pointerPath}`, {
    hint: 'List tracked data with `dvs status`.',
    data: { path: rel },
  });
}

/**
 * Why deleting the workspace data of a target would lose something (its content is not in the cache),
 * or undefined when it is safe (or there is nothing to delete).
 */
async function unsavedData(repo: Repo, state: StatCache, p: Planned): Promise<string | undefined> {
  if ('whole' in p) {
    const { pointer } = p.whole;
    const cmp = await compareWorkspace(repo, p.path, pointer, { state });
    if (cmp.workspace === 'missing') return undefined;
    if (cmp.workspace === 'modified') return 'differs from its pointer (changes not recorded with dvs track)';
    if (pointer.kind === 'file') return repo.cache.has(pointer.oid) ? undefined : 'its content is not in the cache';
    const manifest = cmp.recorded ?? loadManifestIfPresent(repo.cache, pointer.oid, p.path);
    return manifest ? missingFromCache(repo, manifest.entries) : 'its manifest is not in the cache';
  }
  const dir = openTrackedDirectory(repo, p.owner, p.arg);
  const found = await workspaceEntriesAt(repo, { rel: p.path, abs: repo.abs(p.path), owner: p.owner }, { state });
  if (found.errors.length) return `cannot be read (${found.errors[0].message})`;
  const recorded = new Map(dir.manifest.entries.filter((e) => isAtOrBelow(e.path, p.sub)).map((e) => [e.path, e]));
  for (const e of found.entries) {
    const r = recorded.get(e.path);
    if (!r) return `${p.owner}/${e.path} is not in ${p.owner}'s manifest`;
    if (r.oid !== e.oid) return `${p.owner}/${e.path} differs from the version recorded`;
  }
  return missingFromCache(repo, found.entries);
}

function missingFromCache(repo: Repo, entries: ManifestEntry[]): string | undefined {
  const missing = entries.find((e) => !repo.cache.has(e.oid));
  return missing ? `the content of ${missing.path} is not in the cache` : undefined;
}

/**
 * Delete tracked data from the workspace. A directory loses the files its manifest lists and the folders
 * left empty; files `.dvsignore` kept out of it were never dvs's, and stay.
 */
function deleteWholeData(repo: Repo, path: string, pointer: Pointer): boolean {
  if (pointer.kind === 'file') return deletePath(repo, path);
  const manifest = loadManifestIfPresent(repo.cache, pointer.oid, path);
  if (!manifest || !existsSync(repo.abs(path))) return deletePath(repo, path);
  for (const e of manifest.entries) rmSync(repo.abs(`${path}/${e.path}`), { force: true });
  pruneEmptyFolders(repo.abs(path));
  return true;
}

/** Delete data at `path`; inside a tracked directory (`owner`), folders it leaves empty go too, as checkout would leave none. */
function deletePath(repo: Repo, path: string, owner?: string): boolean {
  repo.guard.check(path);
  const abs = repo.abs(path);
  if (!existsSync(abs)) return false;
  rmSync(abs, { recursive: true, force: true });
  if (owner) pruneEmptyAncestors(repo, posix.dirname(path), owner);
  return true;
}

/** Remove `abs` and the folders below it that hold nothing; returns whether `abs` itself went. */
function pruneEmptyFolders(abs: string): boolean {
  let entries;
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
  let empty = true;
  for (const e of entries) if (!(e.isDirectory() && pruneEmptyFolders(`${abs}/${e.name}`))) empty = false;
  if (empty) rmdirSync(abs);
  return empty;
}

function pruneEmptyAncestors(repo: Repo, rel: string, owner: string): void {
  for (let at = rel; at.length > owner.length; at = posix.dirname(at)) {
    try {
      if (readdirSync(repo.abs(at)).length) return;
      rmdirSync(repo.abs(at));
    } catch {
      return;
    }
  }
}
