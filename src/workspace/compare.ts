import { lstatSync, statSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import type { ProgressListener, Warning } from '../events.js';
import { hashFiles } from '../objects/hash-files.js';
import { directoryOids, listingOf, snapshotCoversAll, stampsOf } from './dir-oids.js';
import { mergeEntries, serializeManifest, type Manifest, type ManifestEntry, loadManifest } from '../objects/manifest.js';
import { sha256Hex, stampOf } from '../objects/hash.js';
import type { Oid } from '../objects/oid.js';
import type { StatCache } from '../objects/stat-cache.js';
import type { Pointer } from '../pointer/format.js';
import type { Repo } from '../repo/repo.js';
import { manifestOf, scanDirectory, type ScannedFile } from './scan.js';

/**
 * What the workspace holds at a tracked path right now, compared with its pointer. Shared by status,
 * checkout and the hooks: one definition of "modified".
 */
export type WorkspaceStatus = 'unchanged' | 'modified' | 'missing';

export interface FileChanges {
  added: string[];
  removed: string[];
  modified: string[];
  /** Those of `modified` whose bytes match: only the executable bit differs. */
  modeOnly: string[];
}

export interface WorkspaceComparison {
  workspace: WorkspaceStatus;
  /** The oid of what is in the workspace (file content or directory manifest), when it exists. */
  currentOid?: Oid;
  /** Files: the bytes match the pointer and only the executable bit differs (the data is `modified`). */
  modeOnly?: boolean;
  /**
   * For directories: the workspace's files and their oids (in manifest order). Absent when the
   * directory's snapshot showed it unchanged without reading anything (then `recorded` is absent too).
   */
  current?: { files: ScannedFile[]; oids: Array<Oid | undefined>; manifest: Manifest };
  /** For directories: the pointer's manifest, when it is in the cache. */
  recorded?: Manifest;
  changes?: FileChanges;
  warnings: Warning[];
  /** For directories: dvs temp files found inside (see DirectoryScan.temps). */
  temps?: string[];
}

export interface CompareOptions {
  state: StatCache;
  onProgress?: ProgressListener;
  /**
   * Also compute `currentOid` of a modified directory (serialising and hashing its whole manifest).
   * Status does not need it; diff does.
   */
  needOid?: boolean;
}

/** Compare the workspace at `dataPath` with `pointer`. Reads only files the stat cache cannot vouch for. */
export async function compareWorkspace(repo: Repo, dataPath: string, pointer: Pointer, options: CompareOptions): Promise<WorkspaceComparison> {
  const abs = repo.abs(dataPath);
  let isDir: boolean;
  try {
    isDir = lstatSync(abs).isDirectory() || (pointer.kind === 'file' && statSync(abs).isDirectory());
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return { workspace: 'missing', warnings: [] };
    throw err;
  }
  if (pointer.kind === 'file') {
    if (isDir) return { workspace: 'modified', warnings: [] };
    const st = statSync(abs, { bigint: true });
    const r = await hashFiles([{ abs, stamp: stampOf(st) }], { state: options.state, onProgress: options.onProgress });
    const currentOid = r.oids[0];
    if (currentOid !== pointer.oid) return { workspace: 'modified', currentOid, warnings: [] };
    // The executable bit is part of the data (as in Git): a script that lost it is not what was tracked.
    if (isExecutable(st.mode) !== (pointer.exec === true)) return { workspace: 'modified', currentOid, modeOnly: true, warnings: [] };
    return { workspace: 'unchanged', currentOid, warnings: [] };
  }
  if (!isDir) return { workspace: 'modified', warnings: [] };
  const scan = scanDirectory(repo, dataPath);
  const listing = listingOf(scan.files);
  const snap = options.state.getDirectory(dataPath);
  if (snap?.manifest === pointer.oid && snapshotCoversAll(snap, scan.files, listing)) {
    // Same files, same stamps as when the directory last matched its pointer: nothing else to read.
    return { workspace: 'unchanged', currentOid: pointer.oid, warnings: scan.warnings, temps: scan.temps };
  }
  const r = await directoryOids(repo, dataPath, scan.files, { state: options.state, onProgress: options.onProgress });
  const manifest = manifestOf(scan.files, r.oids);
  const result: WorkspaceComparison = { workspace: 'modified', current: { files: scan.files, oids: r.oids, manifest }, warnings: scan.warnings, temps: scan.temps };
  if (repo.cache.has(pointer.oid)) {
    // Compare entry by entry: cheaper than serialising and hashing 100,000 lines to learn nothing changed.
    result.recorded = r.known?.oid === pointer.oid ? r.known.manifest : loadManifest(repo.cache, pointer.oid, dataPath);
    result.changes = compareManifests(result.recorded, manifest);
    const c = result.changes;
    result.workspace = c.added.length + c.removed.length + c.modified.length === 0 ? 'unchanged' : 'modified';
    if (result.workspace === 'unchanged') result.currentOid = pointer.oid;
    else if (options.needOid) result.currentOid = sha256Hex(serializeManifest(manifest));
  } else {
    result.currentOid = sha256Hex(serializeManifest(manifest));
    result.workspace = result.currentOid === pointer.oid ? 'unchanged' : 'modified';
  }
  // Keep the directory's snapshot in step with what it holds, when that is a version the cache knows.
  if (result.workspace === 'unchanged') {
    const stamps = stampsOf(scan.files, r.oids);
    if (stamps) options.state.setDirectory(dataPath, pointer.oid, listing, stamps);
  }
  return result;
}

/** Files added, removed and modified from `before` to `after` (both sorted; a merge walk). */
export function compareManifests(before: Manifest, after: Manifest): FileChanges {
  const changes: FileChanges = { added: [], removed: [], modified: [], modeOnly: [] };
  mergeEntries(before.entries, after.entries, {
    onlyA: (e) => changes.removed.push(e.path),
    onlyB: (e) => changes.added.push(e.path),
    both: (x, y) => {
      if (sameEntry(x, y)) return;
      changes.modified.push(x.path);
      if (x.oid === y.oid) changes.modeOnly.push(x.path);
    },
  });
  return changes;
}

function sameEntry(x: ManifestEntry, y: ManifestEntry): boolean {
  return x.oid === y.oid && x.exec === y.exec;
}

/** The owner's executable bit, the one dvs records (as Git does). */
export function isExecutable(mode: number | bigint): boolean {
  return (Number(mode) & 0o100) !== 0;
}
