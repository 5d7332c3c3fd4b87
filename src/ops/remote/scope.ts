import type { Oid } from '../../objects/oid.js';
import type { PointerData } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import type { OpContext } from '../context.js';
import { pointersInScope, type RevisionScope } from '../../workspace/references.js';
import { selectTargets } from '../../workspace/targets.js';
import { readManifestIfPresent } from '../../objects/manifest.js';
import { chunkWhileReading } from '../../transfer/chunk-list.js';
import { rowIndexesOf } from '../../lineage/row-record.js';

/**
 * What a push, fetch or status --remote is about: the pointers in scope (the workspace's, or the named
 * ones, plus those of revisions), and the objects they need. A path inside a tracked directory limits
 * that directory to the files under it (granular): only those files and the manifest are concerned.
 */
export interface TransferScope extends RevisionScope {
  /** Command-line paths; none means every pointer in the workspace. */
  targets?: string[];
}

export interface ScopedPointer {
  dataPath: string;
  pointer: PointerData;
  commit?: string;
  /** Paths inside the directory the command was limited to; undefined means all of it. */
  subs?: string[];
}

export async function scopedPointers(ctx: OpContext, scope: TransferScope): Promise<ScopedPointer[]> {
  const { repo } = ctx;
  const out: ScopedPointer[] = [];
  const seen = new Map<string, ScopedPointer>();
  const addPointer = (p: ScopedPointer) => {
    const key = `${p.pointer.kind}\0${p.pointer.oid}`;
    const prev = seen.get(key);
    if (!prev) {
      seen.set(key, p);
      out.push(p);
    } else if (prev.subs !== undefined) {
      // The same data wanted whole somewhere and partly elsewhere: whole wins.
      prev.subs = p.subs === undefined ? undefined : [...new Set([...prev.subs, ...p.subs])];
    }
  };
  const hasTargets = scope.targets !== undefined && scope.targets.length > 0;
  // Pointers the path guard refuses are left out (status reports them): nothing is sent or fetched for them.
  const targets = !scope.noWorkspace || hasTargets ? selectTargets(repo, ctx.cwd, scope.targets).targets : [];
  if (!scope.noWorkspace) {
    for (const t of targets) {
      const pointer = readPointer(repo.root, t.ref.pointerPath);
      addPointer({ dataPath: t.ref.dataPath, pointer, subs: t.sub === undefined || pointer.kind !== 'dir' ? undefined : [t.sub] });
    }
  }
  if (scope.allBranches || scope.allTags || scope.allCommits || scope.revs?.length) {
    const under = hasTargets ? targets.map((t) => (t.sub === undefined ? t.ref.dataPath : `${t.ref.dataPath}/${t.sub}`)) : undefined;
    for (const p of await pointersInScope(repo, { ...scope, noWorkspace: true }, under)) {
      let subs: string[] | undefined;
      if (under && p.pointer.kind === 'dir') {
        const inside = under.filter((u) => u.startsWith(p.dataPath + '/')).map((u) => u.slice(p.dataPath.length + 1));
        if (inside.length && !under.includes(p.dataPath)) subs = inside;
      }
      addPointer({ dataPath: p.dataPath, pointer: p.pointer, commit: p.commit, subs });
    }
  }
  return out;
}

/** A tracked directory in scope: its manifest and, when the cache has the manifest, the objects it lists. */
export interface DirNeed {
  dataPath: string;
  manifest: Oid;
  commit?: string;
  subs?: string[];
  /**
   * Every object the manifest lists (also outside a granular scope), with the number of its entries
   * naming each; undefined when the manifest is not in the cache. Objects, not entries: a directory of
   * ten million files is held as its distinct objects (one, for ten million empty files).
   */
  objects?: Map<Oid, number>;
}

/** Whether the directory's manifest lists an object for which `test` holds. */
export function listsAny(d: DirNeed, test: (oid: Oid) => boolean): boolean {
  if (!d.objects) return false;
  for (const oid of d.objects.keys()) if (test(oid)) return true;
  return false;
}

export interface ObjectNeeds {
  /** Objects that are files (of file pointers and of directories' entries), with a path naming each. */
  files: Map<Oid, { path: string; size: number }>;
  dirs: DirNeed[];
}

/**
 * Expand pointers into the objects they need, reading directory manifests from the cache as a stream
 * of entries (no manifest is held whole). Directories whose manifest is in `complete` (known to be
 * whole on the other side) are listed without reading it. `chunkManifest` names, for a manifest that
 * is to be cut into chunks, where its chunk list is kept (a push: see chunkWhileReading).
 */
export function expandNeeds(repo: Repo, pointers: ScopedPointer[], complete?: (manifest: Oid) => boolean, options: { rowIndexes?: boolean; chunkManifest?: (manifest: Oid) => string | undefined } = {}): ObjectNeeds {
  const files = new Map<Oid, { path: string; size: number }>();
  const dirs: DirNeed[] = [];
  for (const p of pointers) {
    const at = p.commit ? ` (at ${p.commit.slice(0, 10)})` : '';
    // Row indexes travel with their data on push; a clone that never fetched one has nothing to send.
    if (options.rowIndexes && p.subs === undefined) {
      for (const oid of rowIndexesOf(p.pointer)) {
        const size = repo.cache.sizeOf(oid);
        if (size !== undefined && !files.has(oid)) files.set(oid, { path: `${p.dataPath} (row index)${at}`, size });
      }
    }
    if (p.pointer.kind === 'file') {
      if (!files.has(p.pointer.oid)) files.set(p.pointer.oid, { path: p.dataPath + at, size: p.pointer.size });
      continue;
    }
    const dir: DirNeed = { dataPath: p.dataPath, manifest: p.pointer.oid, commit: p.commit, subs: p.subs };
    dirs.push(dir);
    if (complete?.(p.pointer.oid)) continue;
    const objects = new Map<Oid, number>();
    // Kept apart until the manifest proved whole: a damaged one adds nothing.
    const inScope = new Map<Oid, { path: string; size: number }>();
    const subs = p.subs;
    // A big manifest that will go as chunks is cut in this read, not read again at upload.
    const listDir = options.chunkManifest?.(p.pointer.oid);
    const cutter = listDir === undefined ? undefined : chunkWhileReading(listDir, p.pointer.oid);
    const read = readManifestIfPresent(repo.cache, p.pointer.oid, p.dataPath, (e) => {
      objects.set(e.oid, (objects.get(e.oid) ?? 0) + 1);
      if (subs && !subs.some((s) => e.path === s || e.path.startsWith(s + '/'))) return;
      if (!inScope.has(e.oid) && !files.has(e.oid)) inScope.set(e.oid, { path: `${p.dataPath}/${e.path}${at}`, size: e.size });
    }, cutter?.push);
    if (!read) continue;
    cutter?.keep();
    dir.objects = objects;
    for (const [oid, f] of inScope) if (!files.has(oid)) files.set(oid, f);
  }
  return { files, dirs };
}

/** A test of what the cache holds, for `count` queries: a stat each for a few, one listing for many. */
export function cacheLookup(repo: Repo, count: number): (oid: Oid) => boolean {
  if (count > 2000) {
    const present = new Set(repo.cache.list());
    return (oid) => present.has(oid);
  }
  return (oid) => repo.cache.has(oid);
}
