import { lstatSync, statSync } from 'node:fs';
import { DvsError, errnoCode, fromSystemError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { hashFiles, recordObject, type HashFilesOptions } from '../../objects/hash-files.js';
import { stampOf } from '../../objects/hash.js';
import { loadManifestIfPresent, manifestTotals, serializeManifest, sortEntries, type Manifest, type ManifestEntry } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { StatCache } from '../../objects/stat-cache.js';
import { pointerPathOf, type Pointer } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import { compareManifests } from '../../workspace/compare.js';
import { scanDirectory } from '../../workspace/scan.js';

/**
 * Editing one part of a tracked directory's manifest: `dvs track data/sub/file` and `dvs remove
 * data/sub/file` change the entries at that path and leave every other entry as it was recorded, so
 * nothing else in the directory is read or hashed (DVC 3 does the same for `dvc add` inside a tracked
 * directory, but rehashes the whole directory to do it).
 */
export interface TrackedDirectory {
  /** The tracked directory (repository path) and its pointer. */
  owner: string;
  pointerPath: string;
  pointer: Pointer;
  manifest: Manifest;
}

/** The pointer and manifest of a tracked directory, for an edit at `arg` inside it. Throws what stops the edit. */
export function openTrackedDirectory(repo: Repo, owner: string, arg: string): TrackedDirectory {
  const pointerPath = pointerPathOf(owner);
  repo.guard.check(owner, pointerPath);
  const pointer = readPointer(repo.root, pointerPath);
  if (pointer.kind !== 'dir') {
    throw new DvsError('NOT_TRACKED', `${arg}: ${pointerPath} tracks a file, not a directory`, { data: { path: owner } });
  }
  const manifest = loadManifestIfPresent(repo.cache, pointer.oid, owner);
  if (!manifest) {
    throw new DvsError('MANIFEST_MISSING', `${arg}: the manifest of ${owner} (${pointer.oid.slice(0, 10)}) is not in the cache, so its entries cannot be edited`, {
      hint: `Fetch it first (dvs fetch ${owner}), or track the whole directory again: dvs track ${owner}`,
      data: { path: owner, oid: pointer.oid },
    });
  }
  return { owner, pointerPath, pointer, manifest };
}

/** Whether a manifest entry lies at `sub` (relative to its directory) or below it. */
export function isAtOrBelow(entryPath: string, sub: string): boolean {
  return entryPath === sub || (entryPath.startsWith(sub) && entryPath.charCodeAt(sub.length) === 47 /* / */);
}

/**
 * The manifest with the entries at or below `sub` replaced by `replacement` (paths relative to the
 * directory). A file recorded where `sub` now needs a folder (`a` when `a/b` is tracked) goes too: a
 * path cannot be both.
 */
export function spliceEntries(manifest: Manifest, sub: string, replacement: ManifestEntry[]): Manifest {
  const kept = manifest.entries.filter((e) => !isAtOrBelow(e.path, sub) && !sub.startsWith(e.path + '/'));
  return { entries: sortEntries([...kept, ...replacement]) };
}

export interface DirectoryVersion {
  oid: Oid;
  size: number;
  files: number;
  changed: boolean;
  /** Entries added, deleted and modified by the edit (paths relative to the directory). */
  added: number;
  deleted: number;
  modified: number;
}

/**
 * Store the edited manifest and rewrite the directory's pointer (keeping its other keys). The manifest
 * counts as complete (every object in the cache) only when the one it replaces was: new entries' objects
 * were stored by the caller.
 */
export function saveDirectoryVersion(repo: Repo, state: StatCache, dir: TrackedDirectory, manifest: Manifest, beforeWrite?: BeforeWrite): DirectoryVersion {
  const oid = repo.cache.addBuffer(serializeManifest(manifest));
  recordObject(repo.cache, state, oid);
  if (state.isComplete(dir.pointer.oid)) state.markComplete(oid);
  const totals = manifestTotals(manifest);
  const c = compareManifests(dir.manifest, manifest);
  const version = { oid, size: totals.size, files: totals.files, changed: oid !== dir.pointer.oid, added: c.added.length, deleted: c.removed.length, modified: c.modified.length };
  if (version.changed) {
    beforeWrite?.(version);
    writePointer(repo.root, dir.pointerPath, { kind: 'dir', oid, size: totals.size, files: totals.files }, dir.pointer);
  }
  return version;
}

/** Called with the new version just before the pointer is written (track's journal line goes first). */
export type BeforeWrite = (version: DirectoryVersion) => void;

export interface InsideTarget {
  /** The path named (repository-relative), inside `owner`. */
  rel: string;
  abs: string;
  owner: string;
}

export interface InsideTrackResult extends DirectoryVersion {
  hashedFiles: number;
  hashedBytes: number;
  warnings: Warning[];
  /** Hash failures, for the caller to turn into one error. */
  errors: Array<{ path: string; code?: string; message: string }>;
}

/**
 * `dvs track dir/sub/path` on a tracked `dir`: hash only what is at `sub` now (a file, a folder, or
 * nothing when it was deleted) and splice it into the directory's manifest.
 */
export async function trackInside(repo: Repo, target: InsideTarget, hashing: HashFilesOptions, beforeWrite?: BeforeWrite): Promise<InsideTrackResult> {
  const dir = openTrackedDirectory(repo, target.owner, target.rel);
  const sub = target.rel.slice(target.owner.length + 1);
  const found = await workspaceEntriesAt(repo, target, hashing);
  const unchanged = { oid: dir.pointer.oid, size: dir.pointer.size, files: dir.pointer.files ?? 0, changed: false, added: 0, deleted: 0, modified: 0 };
  if (found.errors.length) return { ...unchanged, ...found };
  const version = saveDirectoryVersion(repo, hashing.state, dir, spliceEntries(dir.manifest, sub, found.entries), beforeWrite);
  return { ...version, ...found };
}

export interface WorkspaceEntries {
  /** Manifest entries for what the workspace holds at the path (paths relative to the tracked directory). */
  entries: ManifestEntry[];
  hashedFiles: number;
  hashedBytes: number;
  warnings: Warning[];
  errors: Array<{ path: string; code?: string; message: string }>;
}

/**
 * What the workspace holds at a path inside a tracked directory, as manifest entries: one for a file,
 * one per file of a folder (as a directory scan sees it: `.dvsignore` applies), none when nothing is
 * there. With `hashing.cache`, the bytes read are stored too.
 */
export async function workspaceEntriesAt(repo: Repo, target: InsideTarget, hashing: HashFilesOptions): Promise<WorkspaceEntries> {
  const sub = target.rel.slice(target.owner.length + 1);
  const present = statIfPresent(target.abs, target.rel);
  const out: WorkspaceEntries = { entries: [], hashedFiles: 0, hashedBytes: 0, warnings: [], errors: [] };
  if (present?.isFile()) {
    const stamp = stampOf(statSync(target.abs, { bigint: true }));
    // A link's target is copied: linking it into the read-only cache would change a file elsewhere.
    const link = lstatSync(target.abs).isSymbolicLink();
    const r = await hashFiles([{ abs: target.abs, stamp }], { ...hashing, storeMode: link ? 'copy' : hashing.storeMode });
    out.errors.push(...r.errors.map((e) => ({ path: target.rel, ...e })));
    if (r.oids[0]) out.entries.push({ path: sub, oid: r.oids[0], size: stamp.size, exec: (Number(present.mode) & 0o100) !== 0 });
    out.hashedFiles = r.hashedFiles;
    out.hashedBytes = r.hashedBytes;
  } else if (present?.isDirectory()) {
    const scan = scanDirectory(repo, target.rel);
    out.warnings.push(...scan.warnings);
    const r = await hashFiles(scan.files, hashing);
    out.errors.push(...r.errors.map((e) => ({ path: `${target.rel}/${scan.files[e.index].rel}`, ...e })));
    scan.files.forEach((f, i) => {
      const oid = r.oids[i];
      if (oid) out.entries.push({ path: `${sub}/${f.rel}`, oid, size: f.stamp.size, exec: f.exec });
    });
    out.hashedFiles = r.hashedFiles;
    out.hashedBytes = r.hashedBytes;
  }
  return out;
}

/** What is at a path (links followed), or undefined when nothing is. */
export function statIfPresent(abs: string, rel: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(abs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw fromSystemError(err, rel, 'reading');
  }
}

/** Whether the manifest has anything at or below `sub`. */
export function hasEntriesAt(manifest: Manifest, sub: string): boolean {
  return manifest.entries.some((e) => isAtOrBelow(e.path, sub));
}
