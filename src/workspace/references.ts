import type { Oid } from '../objects/oid.js';
import { parsePointer, dataPathOf, type DataKind, type Pointer } from '../pointer/format.js';
import { findPointers, readPointer } from '../pointer/io.js';
import { dataPathProblem } from '../base/paths.js';
import type { Repo } from '../repo/repo.js';
import { BlobReader, pointersAtCommit, revisionsInScope, runGit } from '../scm/git.js';
import { readManifest } from '../objects/manifest.js';

/** Which revisions' pointers count, beyond the workspace's. */
export interface RevisionScope {
  allBranches?: boolean;
  allTags?: boolean;
  allCommits?: boolean;
  revs?: string[];
  /**
   * Also every commit of any ref made on or after this day (YYYY-MM-DD, the committer's date in the
   * committer's time zone, as `git log` shows it); with `allCommits`, only those. Branch and tag tips and
   * `revs` are kept whatever their age.
   */
  since?: string;
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
  const out = scope.noWorkspace ? [] : workspacePointersRead(repo, under);
  out.push(...(await pointersAtCommits(repo, await commitsInScope(repo.root, scope), under)));
  return out;
}

const within = (dataPath: string, under: string[]) => under.some((u) => dataPath === u || dataPath.startsWith(u + '/') || u.startsWith(dataPath + '/'));

/** The workspace's pointers (those the path guard accepts), parsed. */
export function workspacePointersRead(repo: Repo, under?: string[]): PointerAt[] {
  const out: PointerAt[] = [];
  for (const ref of findPointers(repo.root, repo.ignore, repo.guard).pointers) {
    if (under && !within(ref.dataPath, under)) continue;
    out.push({ ...ref, pointer: readPointer(repo.root, ref.pointerPath) });
  }
  return out;
}

/**
 * The commits a scope names. `since` adds every commit of any ref made on or after that day (and narrows
 * `allCommits` to those). The day is compared in the committer's own time zone, so a commit `git log`
 * dates on that day is kept wherever gc runs; and the whole history is filtered here rather than with
 * `git log --since`, which stops walking at the first older commit and so misses newer ones behind it
 * when clocks were skewed.
 */
export async function commitsInScope(root: string, scope: RevisionScope): Promise<string[]> {
  const commits = new Set(await revisionsInScope(root, { ...scope, allCommits: scope.allCommits && !scope.since }));
  if (scope.since) {
    const out = await runGit(root, ['log', '--all', '--format=%H %cI']).catch(() => '');
    for (const line of out.split('\n')) {
      const [commit, date] = line.split(' ');
      if (commit && date && date.slice(0, 10) >= scope.since) commits.add(commit);
    }
  }
  return [...commits];
}

/** The pointers of these commits, read from Git's objects (each distinct blob parsed once). */
export async function pointersAtCommits(repo: Repo, commits: string[], under?: string[]): Promise<PointerAt[]> {
  const out: PointerAt[] = [];
  if (commits.length === 0) return out;
  const reader = new BlobReader(repo.root);
  try {
    const seenBlobs = new Map<string, Pointer>();
    for (const commit of commits) {
      for (const entry of await pointersAtCommit(repo.root, commit)) {
        const dataPath = dataPathOf(entry.path);
        // A pointer no checkout would ever act on (repo/paths.ts) needs no objects kept or moved.
        if (dataPathProblem(dataPath)) continue;
        if (under && !within(dataPath, under)) continue;
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

/**
 * Data that must be kept: a pointer, or a dataset a run record names (`pointerPath` is then the
 * record's file). Only the kind and oid count.
 */
export interface NeededData {
  dataPath: string;
  pointerPath?: string;
  pointer: { kind: DataKind; oid: Oid };
  commit?: string;
}

export interface ReferencedObjects {
  /** Every object needed: files, and directory manifests with all their entries. */
  oids: Set<Oid>;
  /** Directory manifests among them. */
  manifests: Set<Oid>;
  /** Manifests not in the cache: their entries are unknown. */
  unknownManifests: Array<{ dataPath: string; oid: Oid; commit?: string; pointerPath?: string }>;
}

/** Expand pointers to the objects they need, reading directory manifests from the cache. */
export function objectsOf(repo: Repo, pointers: NeededData[]): ReferencedObjects {
  const oids = new Set<Oid>();
  const manifests = new Set<Oid>();
  const unknownManifests: ReferencedObjects['unknownManifests'] = [];
  for (const p of pointers) {
    oids.add(p.pointer.oid);
    if (p.pointer.kind !== 'dir' || manifests.has(p.pointer.oid)) continue;
    manifests.add(p.pointer.oid);
    if (!repo.cache.has(p.pointer.oid)) {
      unknownManifests.push({ dataPath: p.dataPath, oid: p.pointer.oid, commit: p.commit, pointerPath: p.pointerPath });
      continue;
    }
    // Streamed: a manifest of millions of entries is never held whole.
    readManifest(repo.cache, p.pointer.oid, p.dataPath, (e) => oids.add(e.oid));
  }
  return { oids, manifests, unknownManifests };
}

/** One version of a pointer in the history: the newest commit of any ref that introduced it. */
export interface PointerVersion {
  dataPath: string;
  pointer: Pointer;
  commit: string;
  /** Committer date, seconds since the epoch. */
  time: number;
  /** Committer date in the committer's time zone (ISO 8601), as `git log` shows it. */
  date: string;
}

/**
 * Every version any pointer had in the history of every ref, from one `git log` of the changes to `*.dvs`
 * files (merges compared with each parent, so a version a merge made counts). Each distinct version of a
 * path is reported once, with the newest commit that wrote it. Pointers that do not parse, and those the
 * path judge refuses, are skipped: this answers "what was this object?", it decides nothing.
 */
export async function pointerVersionsInHistory(repo: Repo): Promise<PointerVersion[]> {
  const out = await runGit(repo.root, ['log', '--all', '-m', '--root', '--raw', '--no-abbrev', '--no-renames', '-z', '--format=%x01%H %ct %cI', '--', '*.dvs']).catch(() => '');
  const newest = new Map<string, { dataPath: string; pointerPath: string; blob: string; commit: string; time: number; date: string }>();
  for (const chunk of out.split('\x01')) {
    const headerEnd = chunk.indexOf('\0');
    if (headerEnd < 0) continue;
    const [commit, time, date] = chunk.slice(0, headerEnd).split(' ');
    const fields = chunk.slice(headerEnd + 1).split('\0');
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const meta = fields[i].trim().split(' ');
      const pointerPath = fields[i + 1];
      const blob = meta[3];
      if (!meta[0]?.startsWith(':') || !/^100(644|755)$/.test(meta[1] ?? '') || !blob || /^0+$/.test(blob)) continue;
      if (pointerPath.endsWith('/.dvs') || pointerPath.startsWith('.dvs/')) continue;
      const dataPath = dataPathOf(pointerPath);
      if (dataPathProblem(dataPath)) continue;
      const key = `${pointerPath}\0${blob}`;
      const seen = newest.get(key);
      if (!seen || Number(time) > seen.time) newest.set(key, { dataPath, pointerPath, blob, commit, time: Number(time), date });
    }
  }
  const versions: PointerVersion[] = [];
  const reader = new BlobReader(repo.root);
  try {
    for (const v of newest.values()) {
      const text = await reader.read(v.blob);
      if (!text) continue;
      try {
        versions.push({ dataPath: v.dataPath, pointer: parsePointer(text.toString('utf8'), `${v.pointerPath} at ${v.commit.slice(0, 10)}`), commit: v.commit, time: v.time, date: v.date });
      } catch {
        continue;
      }
    }
  } finally {
    reader.close();
  }
  return versions;
}
