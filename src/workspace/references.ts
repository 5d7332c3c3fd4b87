import type { Oid } from '../objects/oid.js';
import { parsePointer, dataPathOf, type Pointer } from '../pointer/format.js';
import { findPointers, readPointer } from '../pointer/io.js';
import { dataPathProblem } from '../base/paths.js';
import type { Repo } from '../repo/repo.js';
import { BlobReader, pointersAtCommit, revisionsInScope } from '../scm/git.js';
import { loadManifest } from '../objects/manifest.js';

/** Which revisions' pointers count, beyond the workspace's. */
export interface RevisionScope {
  allBranches?: boolean;
  allTags?: boolean;
  allCommits?: boolean;
  revs?: string[];
  /** Leave out the workspace's pointers (default: included). */
  noWorkspace?: boolean;
}

/** A pointer as found in the workspace or at a commit. */
export interface PointerAt {
  dataPath: string;
  pointerPath: string;
  pointer: Pointer;
  /** Commit it was read from; undefined for the workspace. */
  commit?: string;
}

/** Every pointer in scope, read from the workspace and from Git's objects (no checkout). */
export async function pointersInScope(repo: Repo, scope: RevisionScope, under?: string[]): Promise<PointerAt[]> {
  const out: PointerAt[] = [];
  if (!scope.noWorkspace) {
    for (const ref of findPointers(repo.root, repo.ignore, repo.guard).pointers) {
      if (under && !under.some((u) => ref.dataPath === u || ref.dataPath.startsWith(u + '/') || u.startsWith(ref.dataPath + '/'))) continue;
      out.push({ ...ref, pointer: readPointer(repo.root, ref.pointerPath) });
    }
  }
  const commits = await revisionsInScope(repo.root, scope);
  if (commits.length === 0) return out;
  const reader = new BlobReader(repo.root);
  try {
    const seenBlobs = new Map<string, Pointer>();
    for (const commit of commits) {
      for (const entry of await pointersAtCommit(repo.root, commit)) {
        const dataPath = dataPathOf(entry.path);
        // A pointer no checkout would ever act on (repo/paths.ts) needs no objects kept or moved.
        if (dataPathProblem(dataPath)) continue;
        if (under && !under.some((u) => dataPath === u || dataPath.startsWith(u + '/') || u.startsWith(dataPath + '/'))) continue;
        let pointer = seenBlobs.get(entry.blob);
        if (!pointer) {
          const blob = await reader.read(entry.blob);
          if (!blob) continue;
          pointer = parsePointer(blob.toString('utf8'), `${entry.path} at ${commit.slice(0, 10)}`);
          seenBlobs.set(entry.blob, pointer);
        }
        out.push({ dataPath, pointerPath: entry.path, pointer, commit });
      }
    }
  } finally {
    reader.close();
  }
  return out;
}

export interface ReferencedObjects {
  /** Every object needed: files, and directory manifests with all their entries. */
  oids: Set<Oid>;
  /** Directory manifests among them. */
  manifests: Set<Oid>;
  /** Manifests not in the cache: their entries are unknown. */
  unknownManifests: Array<{ dataPath: string; oid: Oid; commit?: string }>;
}

/** Expand pointers to the objects they need, reading directory manifests from the cache. */
export function objectsOf(repo: Repo, pointers: PointerAt[]): ReferencedObjects {
  const oids = new Set<Oid>();
  const manifests = new Set<Oid>();
  const unknownManifests: ReferencedObjects['unknownManifests'] = [];
  for (const p of pointers) {
    oids.add(p.pointer.oid);
    if (p.pointer.kind !== 'dir' || manifests.has(p.pointer.oid)) continue;
    manifests.add(p.pointer.oid);
    if (!repo.cache.has(p.pointer.oid)) {
      unknownManifests.push({ dataPath: p.dataPath, oid: p.pointer.oid, commit: p.commit });
      continue;
    }
    for (const e of loadManifest(repo.cache, p.pointer.oid, p.dataPath).entries) oids.add(e.oid);
  }
  return { oids, manifests, unknownManifests };
}
