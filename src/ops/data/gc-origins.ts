import type { ObjectCache } from '../../objects/cache.js';
import { loadManifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { DataKind } from '../../pointer/format.js';
import type { Repo } from '../../repo/repo.js';
import { pointerVersionsInHistory } from '../../workspace/references.js';

/** Where an object gc collects came from: a data path, and the newest commit that named it there. */
export interface ObjectOrigin {
  path: string;
  /** The commit whose pointer named it; absent for a run record of the workspace. */
  commit?: string;
  /** The commit's committer date, in the committer's time zone (ISO 8601), as `git log` shows it. */
  date?: string;
  /** The run record that names it as a dataset (only with --no-runs: otherwise it is kept). */
  run?: string;
  /** The repository, when it is another project (gc --projects) than this one. */
  project?: string;
}

/** A dataset a run record names, that gc was told not to keep (--no-runs). */
export interface RunDataOrigin {
  dataPath: string;
  kind: DataKind;
  oid: Oid;
  /** The record's file (.dvs/runs/<id>.yaml). */
  run: string;
  commit?: string;
  project?: string;
}

export interface Origins {
  /** Per object: every data path a pointer in the history gave it, newest commit first. */
  byOid: Map<Oid, ObjectOrigin[]>;
  /** Collected objects that are the manifest of a directory version. */
  manifests: Set<Oid>;
  /** Directory manifests of the history missing from the cache: their files could not be named. */
  manifestsUnread: number;
}

/** One source of names: a version of a file or directory, and where it was named. */
interface Named {
  dataPath: string;
  kind: DataKind;
  oid: Oid;
  where: Omit<ObjectOrigin, 'path'>;
  /** For ordering: newest first (seconds since the epoch; 0 when unknown). */
  time: number;
}

/**
 * What the objects a gc collects were: read from every version of every pointer in the history of every
 * ref (of this repository and the other projects), from the run records gc was told not to keep, and
 * from the manifests of directory versions that are not kept. An object nothing names is
 * "unreferenced" (a track that was never committed, or history that was rewritten). This explains; it
 * never decides what is kept.
 */
export async function originsOf(repos: Repo[], cache: ObjectCache, collected: Set<Oid>, kept: Set<Oid>, runData: RunDataOrigin[] = []): Promise<Origins> {
  const named: Named[] = [];
  for (const [i, repo] of repos.entries()) {
    const project = i === 0 ? undefined : repo.root;
    for (const v of await pointerVersionsInHistory(repo)) {
      named.push({ dataPath: v.dataPath, kind: v.pointer.kind, oid: v.pointer.oid, where: { commit: v.commit, date: v.date, ...(project ? { project } : {}) }, time: v.time });
    }
  }
  for (const r of runData) {
    named.push({ dataPath: r.dataPath, kind: r.kind, oid: r.oid, where: { ...(r.commit ? { commit: r.commit } : {}), run: r.run, ...(r.project ? { project: r.project } : {}) }, time: 0 });
  }
  return originsFrom(named, cache, collected, kept);
}

function originsFrom(named: Named[], cache: ObjectCache, collected: Set<Oid>, kept: Set<Oid>): Origins {
  const byOid = new Map<Oid, Map<string, ObjectOrigin & { time: number }>>();
  const unread = new Set<Oid>();
  const manifests = new Set<Oid>();
  const note = (oid: Oid, origin: ObjectOrigin, time: number) => {
    let paths = byOid.get(oid);
    if (!paths) byOid.set(oid, (paths = new Map()));
    const key = `${origin.project ?? ''}\0${origin.run ?? ''}\0${origin.path}`;
    const seen = paths.get(key);
    if (!seen || seen.time < time || (seen.time === time && !seen.commit && origin.commit)) paths.set(key, { ...origin, time });
  };
  const expanded = new Map<Oid, Array<{ path: string; oid: Oid }> | undefined>();
  for (const n of named) {
    if (collected.has(n.oid)) {
      note(n.oid, { path: n.dataPath, ...n.where }, n.time);
      if (n.kind === 'dir') manifests.add(n.oid);
    }
    // A kept manifest keeps all its files: only the others can name collected files.
    if (n.kind !== 'dir' || kept.has(n.oid)) continue;
    if (!expanded.has(n.oid)) expanded.set(n.oid, collectedEntries(cache, n.oid, n.dataPath, collected));
    const entries = expanded.get(n.oid);
    if (!entries) unread.add(n.oid);
    for (const e of entries ?? []) note(e.oid, { path: `${n.dataPath}/${e.path}`, ...n.where }, n.time);
  }
  const out = new Map<Oid, ObjectOrigin[]>();
  for (const [oid, paths] of byOid) {
    out.set(oid, [...paths.values()].sort((a, b) => b.time - a.time || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map(({ time: _time, ...o }) => o));
  }
  return { byOid: out, manifests, manifestsUnread: unread.size };
}

/** The entries of a cached manifest whose objects are being collected; undefined when it cannot be read. */
function collectedEntries(cache: ObjectCache, oid: Oid, dataPath: string, collected: Set<Oid>): Array<{ path: string; oid: Oid }> | undefined {
  if (!cache.has(oid)) return undefined;
  try {
    return loadManifest(cache, oid, dataPath).entries.filter((e) => collected.has(e.oid)).map((e) => ({ path: e.path, oid: e.oid }));
  } catch {
    return undefined;
  }
}
