import { lstatSync, statSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { hashFiles } from '../objects/hash-files.js';
import { directoryOids, listingOf, snapshotStillHolds, stampsOf } from './dir-oids.js';
import { mergeEntries, serializeManifest, type Manifest, type ManifestEntry, loadManifest, STREAM_ABOVE } from '../objects/manifest.js';
import { sha256Hex, stampOf } from '../objects/hash.js';
import type { Pointer } from '../pointer/format.js';
import type { Repo } from '../repo/repo.js';
import { manifestOf, scanDirectory } from './scan.js';
import { compareDirectoryStream } from './compare-stream.js';
import type { CompareOptions, FileChanges, WorkspaceComparison } from './comparison.js';

export type { CompareOptions, FileChanges, WorkspaceComparison, WorkspaceStatus } from './comparison.js';

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
  if (options.changesOnly && repo.cache.has(pointer.oid) && (repo.cache.sizeOf(pointer.oid) ?? 0) > (options.streamAbove ?? STREAM_ABOVE)) {
    return compareDirectoryStream(repo, dataPath, pointer.oid, options);
  }
  const snap = options.state.getDirectory(dataPath);
  if (snap?.manifest === pointer.oid) {
    // Same files, same stamps as when the directory last matched its pointer: nothing else to read.
    const found = { warnings: [], temps: [] };
    if (snapshotStillHolds(repo, dataPath, snap, found)) return { workspace: 'unchanged', currentOid: pointer.oid, ...found };
  }
  const scan = scanDirectory(repo, dataPath);
  const listing = listingOf(scan.files);
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
