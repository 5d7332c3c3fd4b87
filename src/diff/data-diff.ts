import { compareBytes, entryOfLine, manifestLines, mergeEntries, pathOfLine, type Manifest, type ManifestEntry } from '../objects/manifest.js';
import type { Oid } from '../objects/oid.js';
import type { DataKind, ImportSource } from '../pointer/format.js';
import type { TensorDiff } from './content/safetensors.js';
import type { ContentDiff, TableDiff } from './content/types.js';

/**
 * The file-level diff of tracked data: which data paths were added, deleted, modified or renamed
 * between two versions, and for directories which files inside them did, from their manifests. Pure:
 * callers load pointers and manifests (from Git, the cache or the workspace) and pass them in.
 */
export type ChangeKind = 'added' | 'deleted' | 'modified' | 'renamed';

/** One version of a tracked path. `manifest` is set for directories whose manifest is available. */
export interface DataVersion {
  kind: DataKind;
  oid: Oid;
  size: number;
  files?: number;
  exec?: boolean;
  manifest?: Manifest;
  /** Imported data: where it came from (`dvs import`). */
  source?: ImportSource;
  /** The transform that made this version, when its lineage was recorded. */
  lineage?: VersionLineage;
}

/** A version's lineage record, in short: what made it, from which inputs (for reports). */
export interface VersionLineage {
  transform: string;
  params: Record<string, unknown>;
  inputs: { path: string; oid: Oid; rows: number | null }[];
  /** Rows of the outputs (null when not tabular). */
  rows: number | null;
  /** ISO 8601 UTC. */
  started: string;
  commit: string | null;
}

export interface FileChange {
  /** Path relative to the tracked directory (the new path for renames). */
  path: string;
  change: ChangeKind;
  /** For renames: where the content was before. */
  oldPath?: string;
  oldOid?: Oid;
  newOid?: Oid;
  oldSize?: number;
  newSize?: number;
  sizeDelta: number;
}

export interface ChangeCounts {
  added: number;
  deleted: number;
  modified: number;
  renamed: number;
}

/** Changed tabular files whose records are the same on both sides: re-partitioned or converted only. */
export interface SameRecords {
  /** Records on each side (of the changed files). */
  rows: number;
  /** The multiset record digest of the changed files (equal on both sides). */
  digest: string;
  /** The other path, when a deleted target and an added one hold the same records (a conversion under a new name). */
  with: string | null;
}

export interface DataDiff {
  /** Data path (the new path for renames). */
  path: string;
  oldPath?: string;
  change: ChangeKind | 'unchanged';
  kind: DataKind;
  oldKind?: DataKind;
  oldOid?: Oid;
  newOid?: Oid;
  oldSize?: number;
  newSize?: number;
  sizeDelta: number;
  /** Directories: the files that changed, sorted by path. */
  files?: FileChange[];
  /** Directories: counts of `files` by change. */
  fileCounts?: ChangeCounts;
  /** Directories whose manifest was not available on one side: files cannot be listed. */
  incomplete?: { sides: Array<'old' | 'new'>; oids: Oid[] };
  /**
   * The content diff (schema, statistics, rows) of tabular data, when asked for. For a directory: that of
   * its table with the most changed files (every table is in `tables`).
   */
  content?: ContentDiff;
  /** Why the content diff could not be made, when asked for. */
  contentError?: string;
  /** Directories, content diff: one entry per table with a changed file (a TableDiff each). */
  tables?: TableDiff[];
  /** Directories, content diff: changed files that are not tabular (images, TopoJSON, …). */
  otherFiles?: string[];
  /** Content diff asked for: the changed tabular data holds the same records (docs/record-hash.md). */
  sameRecords?: SameRecords;
  /** Content diff: each changed safetensors file (the tracked file, or files of the directory). */
  tensors?: TensorDiff[];
  /** Imported data: where the newer side (else the older) came from. */
  source?: ImportSource;
  /** The recorded lineage of each version, when either has one. */
  lineage?: { before: VersionLineage | null; after: VersionLineage | null };
}

export function emptyCounts(): ChangeCounts {
  return { added: 0, deleted: 0, modified: 0, renamed: 0 };
}

/** Compare two versions of one data path (either may be absent: added or deleted). */
export function diffVersions(path: string, before: DataVersion | undefined, after: DataVersion | undefined, oldPath?: string): DataDiff {
  const base = {
    path,
    kind: (after ?? before)!.kind,
    oldKind: before?.kind,
    oldOid: before?.oid,
    newOid: after?.oid,
    oldSize: before?.size,
    newSize: after?.size,
    sizeDelta: (after?.size ?? 0) - (before?.size ?? 0),
    ...((after ?? before)!.source ? { source: (after ?? before)!.source } : {}),
    ...(before?.lineage || after?.lineage ? { lineage: { before: before?.lineage ?? null, after: after?.lineage ?? null } } : {}),
  };
  if (!before || !after) {
    const d: DataDiff = { ...base, change: before ? 'deleted' : 'added' };
    const side = before ?? after!;
    if (side.kind === 'dir') {
      if (side.manifest) {
        d.files = side.manifest.entries.map((e) => (before ? fileDeleted(e) : fileAdded(e)));
        d.fileCounts = countChanges(d.files);
      } else {
        d.incomplete = { sides: [before ? 'old' : 'new'], oids: [side.oid] };
      }
    }
    return d;
  }
  const same = before.oid === after.oid && before.kind === after.kind && (before.exec ?? false) === (after.exec ?? false);
  const d: DataDiff = { ...base, change: same ? (oldPath && oldPath !== path ? 'renamed' : 'unchanged') : 'modified' };
  if (oldPath && oldPath !== path) d.oldPath = oldPath;
  if (same || before.kind !== 'dir' || after.kind !== 'dir') {
    if (!same && (before.kind === 'dir' || after.kind === 'dir')) {
      // A file became a directory or the reverse: list the directory side's files when known.
      const dirSide = before.kind === 'dir' ? before : after;
      if (dirSide.manifest) {
        d.files = dirSide.manifest.entries.map((e) => (dirSide === before ? fileDeleted(e) : fileAdded(e)));
        d.fileCounts = countChanges(d.files);
      }
    }
    return d;
  }
  const missing: Array<'old' | 'new'> = [];
  if (!before.manifest) missing.push('old');
  if (!after.manifest) missing.push('new');
  if (missing.length) {
    d.incomplete = { sides: missing, oids: missing.map((s) => (s === 'old' ? before.oid : after.oid)) };
    return d;
  }
  d.files = diffManifests(before.manifest!, after.manifest!);
  d.fileCounts = countChanges(d.files);
  return d;
}

/**
 * Files added, deleted and modified between two manifests (a merge walk over the sorted entries), with
 * a deleted and an added file of the same content paired as a rename.
 */
export function diffManifests(before: Manifest, after: Manifest): FileChange[] {
  const changes: FileChange[] = [];
  const added: ManifestEntry[] = [];
  const deleted: ManifestEntry[] = [];
  const modified = (x: ManifestEntry, y: ManifestEntry) => {
    if (x.oid !== y.oid || x.exec !== y.exec) {
      changes.push({ path: y.path, change: 'modified', oldOid: x.oid, newOid: y.oid, oldSize: x.size, newSize: y.size, sizeDelta: y.size - x.size });
    }
  };
  if (before.text !== undefined && after.text !== undefined) {
    // Both read from the cache and known valid: the same merge walk over their lines, where an identical
    // line (same oid, size, bit and path) is passed over without building its entry.
    const a = manifestLines(before.text);
    const b = manifestLines(after.text);
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) {
        i++;
        j++;
        continue;
      }
      const cmp = i >= a.length ? 1 : j >= b.length ? -1 : compareBytes(pathOfLine(a[i]), pathOfLine(b[j]));
      if (cmp < 0) deleted.push(entryOfLine(a[i++]));
      else if (cmp > 0) added.push(entryOfLine(b[j++]));
      else modified(entryOfLine(a[i++]), entryOfLine(b[j++]));
    }
  } else {
    mergeEntries(before.entries, after.entries, { onlyA: (e) => deleted.push(e), onlyB: (e) => added.push(e), both: modified });
  }
  // Pair renames: same content under a new path. Several copies pair in path order.
  const deletedByOid = new Map<Oid, ManifestEntry[]>();
  for (const e of deleted) {
    const list = deletedByOid.get(e.oid);
    if (list) list.push(e);
    else deletedByOid.set(e.oid, [e]);
  }
  for (const e of added) {
    const from = deletedByOid.get(e.oid)?.shift();
    if (from) {
      changes.push({ path: e.path, change: 'renamed', oldPath: from.path, oldOid: e.oid, newOid: e.oid, oldSize: from.size, newSize: e.size, sizeDelta: 0 });
    } else {
      changes.push(fileAdded(e));
    }
  }
  for (const list of deletedByOid.values()) for (const e of list) changes.push(fileDeleted(e));
  changes.sort((x, y) => compareBytes(x.path, y.path));
  return changes;
}

function fileAdded(e: ManifestEntry): FileChange {
  return { path: e.path, change: 'added', newOid: e.oid, newSize: e.size, sizeDelta: e.size };
}

function fileDeleted(e: ManifestEntry): FileChange {
  return { path: e.path, change: 'deleted', oldOid: e.oid, oldSize: e.size, sizeDelta: -e.size };
}

export function countChanges(files: FileChange[]): ChangeCounts {
  const counts = emptyCounts();
  for (const f of files) counts[f.change]++;
  return counts;
}

/** The directory's diff limited to the files under `subs` (paths inside it); the directory keeps its path. */
export function narrowFiles(d: DataDiff, subs: string[]): DataDiff {
  if (!d.files) return d;
  const keep = (p?: string) => p !== undefined && subs.some((sub) => p === sub || p.startsWith(sub + '/'));
  const files = d.files.filter((f) => keep(f.path) || keep(f.oldPath));
  let sizeDelta = 0;
  for (const f of files) sizeDelta += f.sizeDelta;
  return { ...d, files, fileCounts: countChanges(files), sizeDelta, change: files.length ? d.change : 'unchanged' };
}

/**
 * Pair a deleted data path with an added one of the same content as a rename (a pointer moved with
 * its data). Returns the list with such pairs merged.
 */
export function pairRenames(diffs: DataDiff[]): DataDiff[] {
  const deleted = diffs.filter((d) => d.change === 'deleted');
  const used = new Set<DataDiff>();
  const out: DataDiff[] = [];
  for (const d of diffs) {
    if (d.change !== 'added') continue;
    const from = deleted.find((x) => !used.has(x) && x.oldOid === d.newOid && x.kind === d.kind);
    if (!from) continue;
    used.add(from);
    used.add(d);
    out.push({ ...d, change: 'renamed', oldPath: from.path, oldOid: from.oldOid, oldSize: from.oldSize, oldKind: from.oldKind, sizeDelta: 0, files: undefined, fileCounts: undefined, incomplete: undefined });
  }
  for (const d of diffs) if (!used.has(d)) out.push(d);
  return out.sort((x, y) => compareBytes(x.path, y.path));
}
