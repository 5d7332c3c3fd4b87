import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { DataKind } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import { findPresent, statObjects } from '../../transfer/presence.js';
import type { OpContext } from '../context.js';
import { openRemote } from './open.js';
import type { CachePresence } from '../data/status.js';
import type { RemoteRef } from './failures.js';
import { cacheLookup } from './scope.js';
import { refusalWarning, selectTargets } from '../../workspace/targets.js';
import { loadManifestIfPresent } from '../../objects/manifest.js';

/** Whether the remote holds what one pointer (or the part of a directory named) needs. */
export interface RemoteEntryState {
  state: 'present' | 'partial' | 'missing';
  /** Objects in the cache but not on the remote: what `dvs push` would send. */
  notPushed: number;
  /** Objects in neither the cache nor the remote: lost unless another clone or remote has them. */
  missingEverywhere: number;
}

export interface RemoteStatusEntry {
  path: string;
  pointerPath: string;
  kind: DataKind;
  oid: Oid;
  /** Whether the cache holds the objects (a directory whose manifest it lacks: missing). */
  cache: CachePresence;
  remote: RemoteEntryState;
}

export interface RemoteStatusSummary extends RemoteRef {
  notPushed: number;
  missingEverywhere: number;
}

export interface RemoteStatusResult {
  entries: RemoteStatusEntry[];
  /** True when the remote holds everything the pointers need. */
  clean: boolean;
  warnings: Warning[];
  remote: RemoteStatusSummary;
}

/**
 * `dvs status --remote`: compare the objects the pointers need with what the cache and the remote
 * hold; the workspace is not looked at (that is `dvs status`), like `dvc status --cloud`. A directory
 * whose manifest is on the remote is complete there; for the others only the files this clone does not
 * already know to be there are asked about (after changing one file, about one file).
 */
export async function remoteStatus(ctx: OpContext, options: { targets?: string[]; remote?: string; jobs?: number }): Promise<RemoteStatusResult> {
  const { repo } = ctx;
  const { targets, refused } = selectTargets(repo, ctx.cwd, options.targets);
  const remote = await openRemote(ctx, options);
  try {
    const { known, backend, settings } = remote;
    await remote.syncKnown();
    const items = targets.map((t) => {
      const pointer = readPointer(repo.root, t.ref.pointerPath);
      const base = { target: t, pointer };
      if (pointer.kind === 'file') return { ...base, manifest: undefined as Oid | undefined, files: [pointer.oid] as Oid[] | undefined, allFiles: undefined as Oid[] | undefined };
      const all = loadManifestIfPresent(repo.cache, pointer.oid, t.ref.dataPath)?.entries;
      const inScope = all && t.sub !== undefined ? all.filter((e) => e.path === t.sub || e.path.startsWith(t.sub + '/')) : all;
      return { ...base, manifest: pointer.oid, files: inScope?.map((e) => e.oid), allFiles: all?.map((e) => e.oid) };
    });
    // Manifests first: one on the remote vouches for all its files, unless it lists one this clone knows
    // the remote lost. A bad copy counts as not there, whatever an existence check says: push sends it.
    const vouches = (i: (typeof items)[number]) => i.manifest !== undefined && known.has(i.manifest) && !i.allFiles?.some((f) => known.isLost(f));
    const manifests = [...new Set(items.flatMap((i) => (i.manifest && !known.has(i.manifest) && !known.isBad(i.manifest) ? [i.manifest] : [])))];
    // A big manifest may be there as chunks (its list is under packs/): one listing says.
    const catalogue = remote.packs();
    if (manifests.length && catalogue.supported && remote.format === 'packed') await catalogue.refresh();
    for (const oid of manifests) if (catalogue.chunked(oid)) known.add(oid);
    for (const oid of (await statObjects({ backend, settings }, manifests.filter((m) => !catalogue.chunked(m)))).keys()) known.add(oid);
    for (const i of items) if (vouches(i)) for (const f of i.allFiles ?? []) known.add(f);
    const candidates = new Set<Oid>();
    for (const i of items) {
      if (vouches(i)) continue;
      for (const oid of i.files ?? []) if (!known.has(oid) && !known.isBad(oid)) candidates.add(oid);
    }
    // Packed and chunked objects: one listing of `packs/` (indexes kept on disk once read) answers for all of them.
    if (candidates.size && catalogue.supported && !catalogue.listed) await catalogue.refresh();
    for (const oid of candidates) {
      if (!catalogue.lookup(oid) && !catalogue.chunked(oid)) continue;
      known.add(oid);
      candidates.delete(oid);
    }
    for (const oid of (await findPresent({ backend, settings }, candidates)).keys()) known.add(oid);

    const has = cacheLookup(repo, items.reduce((n, i) => n + (i.files?.length ?? 0), 0));
    const summary: RemoteStatusSummary = { name: remote.spec.name, url: remote.url, notPushed: 0, missingEverywhere: 0 };
    const counted = new Set<Oid>();
    const entries = items.map((i): RemoteStatusEntry => {
      const t = i.target;
      const needed = i.manifest ? [i.manifest, ...(i.files ?? [])] : i.files ?? [];
      let inCache = 0;
      for (const oid of needed) if (has(oid)) inCache++;
      const cache: CachePresence = inCache === needed.length && (i.files !== undefined) ? 'present' : inCache === 0 ? 'missing' : 'partial';
      const entry = { path: t.sub === undefined ? t.ref.dataPath : `${t.ref.dataPath}/${t.sub}`, pointerPath: t.ref.pointerPath, kind: i.pointer.kind, oid: i.pointer.oid, cache };
      if (vouches(i)) return { ...entry, remote: { state: 'present', notPushed: 0, missingEverywhere: 0 } };
      let there = 0;
      let notPushed = 0;
      let lost = 0;
      for (const oid of needed) {
        const present = known.has(oid);
        if (present) there++;
        else if (has(oid)) notPushed++;
        else lost++;
        if (!present && !counted.has(oid)) {
          counted.add(oid);
          if (has(oid)) summary.notPushed++;
          else summary.missingEverywhere++;
        }
      }
      return { ...entry, remote: { state: there === needed.length ? 'present' : there === 0 ? 'missing' : 'partial', notPushed, missingEverywhere: lost } };
    });
    const warnings: Warning[] = refused.map(refusalWarning);
    // What a web server that does not list packs/ holds packed looks missing from here.
    const { unlisted } = catalogue;
    if (unlisted && summary.notPushed + summary.missingEverywhere > 0) warnings.push({ code: unlisted.code, message: unlisted.message, hint: unlisted.hint });
    return { entries, clean: entries.every((e) => e.remote.state === 'present'), warnings, remote: summary };
  } finally {
    await remote.close();
  }
}
