import type { ErrorCode } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { ObjectCache } from '../../objects/cache.js';
import type { Manifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import { pointerHasKey, type DataKind, type Pointer } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { OpContext } from '../context.js';
import type { FileChanges, WorkspaceStatus } from '../../workspace/compare.js';
import { selectTargets } from '../../workspace/targets.js';
import type { StaleLineage } from '../../lineage/stale.js';

export interface StatusOptions {
  targets?: string[];
}

/** Whether the cache holds everything the pointer needs. */
export type CachePresence = 'present' | 'partial' | 'missing';

export interface StatusEntry {
  path: string;
  pointerPath: string;
  kind: DataKind;
  oid: Oid;
  workspace: WorkspaceStatus;
  cache: CachePresence;
  /** Directories: files added, deleted and modified in the workspace relative to the pointer. */
  changes?: StatusChanges;
  /** Files: the bytes match the pointer, only the executable bit differs. */
  modeOnly?: boolean;
  /** Directories whose manifest is not in the cache: which files changed cannot be told. */
  manifestMissing?: boolean;
  /** Objects the pointer needs that the cache lacks. */
  missingObjects?: number;
  /** The step that made this version read inputs that changed since (`dvs repro` rebuilds it). */
  staleLineage?: StaleLineage;
}

/** In the words of `dvs diff` (and DVC): a file gone from the workspace is `deleted`. */
export interface StatusChanges {
  added: string[];
  deleted: string[];
  modified: string[];
  /** Those of `modified` whose bytes match: only the executable bit differs (absent when none). */
  modeOnly?: string[];
}

/** A pointer status will not look at: its data path is unsafe (repo/paths.ts). */
export interface RefusedEntry {
  path: string;
  pointerPath: string;
  code: ErrorCode;
  message: string;
  hint?: string;
}

export interface StatusResult {
  entries: StatusEntry[];
  /** Pointers refused by the path guard: nothing was read for them. */
  refused: RefusedEntry[];
  /** True when every workspace path matches its pointer and the cache holds all objects. */
  clean: boolean;
  warnings: Warning[];
}

/** Compare the workspace and the cache with every pointer (or the named ones). Takes no lock. */
export async function status(ctx: OpContext, options: StatusOptions = {}): Promise<StatusResult> {
  const { repo } = ctx;
  const { targets, refused } = selectTargets(repo, ctx.cwd, options.targets);
  const entries: StatusEntry[] = [];
  const warnings: Warning[] = [];
  const refusedEntries = refused.map((r) => ({ path: r.dataPath, pointerPath: r.pointerPath, code: r.error.code, message: r.error.message, hint: r.error.hint }));
  if (targets.length === 0) return { entries, refused: refusedEntries, clean: refused.length === 0, warnings };
  // Loaded only when there is something to compare: status in a repository without pointers stays quick.
  const { compareWorkspace } = await import('../../workspace/compare.js');
  const manifests = await import('../../objects/manifest.js');
  const state = await repo.statCache();
  try {
    for (const { ref, sub } of targets) {
      const pointer = readPointer(repo.root, ref.pointerPath);
      const ds = await compareWorkspace(repo, ref.dataPath, pointer, { state, onProgress: ctx.onProgress, changesOnly: true });
      warnings.push(...ds.warnings);
      const entry: StatusEntry = { path: ref.dataPath, pointerPath: ref.pointerPath, kind: pointer.kind, oid: pointer.oid, workspace: ds.workspace, cache: 'present' };
      if (pointer.kind === 'dir') {
        if (repo.cache.has(pointer.oid)) {
          // A manifest known complete needs no look at its objects; otherwise count what is missing.
          const { missing, total } = state.isComplete(pointer.oid) ? { missing: 0, total: 0 } : missingObjects(manifests, repo.cache, pointer.oid, ref.dataPath, ds.recorded);
          if (missing === 0) state.markComplete(pointer.oid);
          entry.missingObjects = missing;
          entry.cache = missing === 0 ? 'present' : missing === total ? 'missing' : 'partial';
        } else {
          entry.cache = 'missing';
          entry.manifestMissing = true;
        }
        if (ds.changes) entry.changes = statusChanges(ds.changes);
        else if (ds.workspace === 'unchanged') entry.changes = { added: [], deleted: [], modified: [] };
        if (sub !== undefined && entry.changes) {
          entry.changes = narrow(entry.changes, sub);
          entry.path = `${ref.dataPath}/${sub}`;
          const changed = entry.changes.added.length + entry.changes.deleted.length + entry.changes.modified.length;
          if (entry.workspace === 'modified' && changed === 0) entry.workspace = 'unchanged';
        }
      } else if (ds.modeOnly) {
        entry.modeOnly = true;
      }
      if (pointer.kind === 'file' && !repo.cache.has(pointer.oid)) {
        entry.cache = 'missing';
        entry.missingObjects = 1;
      }
      if (hasLineage(pointer)) {
        const stale = (await import('../../lineage/stale.js')).staleLineage(repo, ref.dataPath, pointer);
        if (stale) entry.staleLineage = stale;
      }
      entries.push(entry);
    }
  } finally {
    state.flush();
  }
  const clean = refused.length === 0 && entries.every((e) => e.workspace === 'unchanged' && e.cache === 'present');
  return { entries, refused: refusedEntries, clean, warnings };
}

/**
 * Whether a pointer carries a lineage record, without loading the lineage modules (the key is
 * LINEAGE_KEY of lineage/record.ts): repositories without lineage pay nothing.
 */
const hasLineage = (pointer: Pointer) => pointerHasKey(pointer, 'lineage');

function statusChanges(c: FileChanges): StatusChanges {
  const changes: StatusChanges = { added: c.added, deleted: c.removed, modified: c.modified };
  if (c.modeOnly.length) changes.modeOnly = c.modeOnly;
  return changes;
}

function narrow(changes: StatusChanges, sub: string): StatusChanges {
  const keep = (p: string) => p === sub || p.startsWith(sub + '/');
  const narrowed: StatusChanges = { added: changes.added.filter(keep), deleted: changes.deleted.filter(keep), modified: changes.modified.filter(keep) };
  const modeOnly = changes.modeOnly?.filter(keep) ?? [];
  if (modeOnly.length) narrowed.modeOnly = modeOnly;
  return narrowed;
}

/**
 * Objects of a directory's manifest the cache lacks, and its entries (`manifests`: the module, loaded
 * only when status has something to compare). A manifest too big to hold
 * (STREAM_ABOVE) is read as a stream, one existence check per object; below that it is loaded (or the
 * one compareWorkspace loaded is used) and counted by countMissing.
 */
function missingObjects(manifests: typeof import('../../objects/manifest.js'), cache: ObjectCache, oid: Oid, dataPath: string, recorded: Manifest | undefined): { missing: number; total: number } {
  if (!recorded && (cache.sizeOf(oid) ?? 0) > manifests.STREAM_ABOVE) {
    let missing = 0;
    let total = 0;
    let previous: { oid: Oid; has: boolean } | undefined;
    manifests.readManifest(cache, oid, dataPath, (e) => {
      total++;
      // Neighbouring entries often share an object (empty files, duplicates): asked once.
      if (previous?.oid !== e.oid) previous = { oid: e.oid, has: cache.has(e.oid) };
      if (!previous.has) missing++;
    });
    return { missing, total };
  }
  const manifest = recorded ?? manifests.loadManifest(cache, oid, dataPath);
  return { missing: countMissing(cache, manifest), total: manifest.entries.length };
}

/**
 * Objects of a manifest the cache lacks. For big manifests the cache's listing is read once instead of
 * one stat per file.
 */
export function countMissing(cache: ObjectCache, manifest: Manifest): number {
  let missing = 0;
  if (manifest.entries.length > 2000) {
    const present = new Set(cache.list());
    for (const e of manifest.entries) if (!present.has(e.oid)) missing++;
  } else {
    for (const e of manifest.entries) if (!cache.has(e.oid)) missing++;
  }
  return missing;
}
