import { DvsError } from '../../errors.js';
import type { Oid } from '../../objects/oid.js';
import type { ListedObject } from '../../remotes/types.js';
import { planReads, pushPacks, readPacked, type LoadedIndex, type PackCatalogue, type PackLocation } from '../../transfer/packs.js';
import { processQueue } from '../../transfer/queue.js';
import type { OpContext } from '../context.js';
import type { OpenRemote } from './open.js';

/**
 * `gc --remote` for the packed format (docs/remote-format.md, "Removing"): packs no index names are
 * removed once old enough that no push can still be about to index them, and an index whose packs hold
 * less than REPACK_BELOW live bytes is replaced: its live objects go into a new pack and index first,
 * then the old index and its packs are deleted, so a live object is never unreachable.
 */
const REPACK_BELOW = 0.5;
/** A push uploads its packs before their index: a younger unnamed pack may be one under way. */
const STRAY_AGE_MS = 60 * 60 * 1000;

export interface RepackPlan {
  /** Indexes to replace, and the packs only they name. */
  doomed: LoadedIndex[];
  doomedPacks: string[];
  /** Live objects of doomed indexes found nowhere else on the remote: packed again. */
  live: Array<{ oid: Oid; at: PackLocation }>;
  /** Objects that go with the doomed indexes and that nothing kept needs. */
  dead: Map<Oid, number>;
  /** Packs no index names, old enough to delete. */
  strays: string[];
  /** Kept objects found in packs (and not loose). */
  keptPacked: Set<Oid>;
}

export function planRepack(catalogue: PackCatalogue, kept: Set<Oid>, loose: Map<Oid, ListedObject>, now = Date.now()): RepackPlan {
  const indexes = catalogue.loaded();
  const doomed = indexes.filter(({ index }) => {
    let live = 0;
    let all = 0;
    for (const e of index.entries) {
      all += e.length;
      if (kept.has(e.oid)) live += e.length;
    }
    return all > 0 && live / all < REPACK_BELOW;
  });
  const doomedNames = new Set(doomed.map((d) => d.name));
  const surviving = indexes.filter((i) => !doomedNames.has(i.name));
  const elsewhere = new Set<Oid>(loose.keys());
  for (const { index } of surviving) for (const e of index.entries) elsewhere.add(e.oid);
  const live: RepackPlan['live'] = [];
  const dead = new Map<Oid, number>();
  const seen = new Set<Oid>();
  for (const { name, index } of doomed) {
    for (const e of index.entries) {
      if (seen.has(e.oid) || elsewhere.has(e.oid)) continue;
      seen.add(e.oid);
      const pack = index.packs[e.pack];
      if (kept.has(e.oid)) live.push({ oid: e.oid, at: { pack: pack.name, packSize: pack.size, offset: e.offset, length: e.length, index: name } });
      else dead.set(e.oid, e.length);
    }
  }
  // Every index listed names its packs, usable or not (one whose packs are partly gone is being removed).
  const named = new Set<string>();
  for (const name of catalogue.listedIndexes.keys()) if (!doomedNames.has(name)) for (const p of packsOf(catalogue, name)) named.add(p);
  const doomedPacks = [...new Set(doomed.flatMap((d) => d.index.packs.map((p) => p.name)))].filter((p) => !named.has(p));
  for (const d of doomed) for (const p of d.index.packs) named.add(p.name);
  const strays = [...catalogue.listedPacks.values()].filter((p) => !named.has(p.name) && now - (p.modified?.getTime() ?? now) > STRAY_AGE_MS).map((p) => p.name);
  const keptPacked = new Set<Oid>();
  for (const oid of kept) if (!loose.has(oid) && catalogue.lookup(oid)) keptPacked.add(oid);
  return { doomed, doomedPacks, live, dead, strays, keptPacked };
}

function packsOf(catalogue: PackCatalogue, index: string): string[] {
  return catalogue.loaded().find((l) => l.name === index)?.index.packs.map((p) => p.name) ?? catalogue.packsNamedBy(index);
}

/** Carry the plan out: live objects into new packs (through this clone's cache), then the deletions. */
export async function applyRepack(ctx: OpContext, remote: OpenRemote, plan: RepackPlan): Promise<void> {
  const { repo } = ctx;
  const { backend, settings, known } = remote;
  const pack = { backend, settings };
  if (plan.live.length) {
    const missing = plan.live.filter((l) => !repo.cache.has(l.oid));
    try {
      const bad: DvsError[] = [];
      const failed = await readPacked(pack, planReads(missing), remote.spec.name, repo.cache, () => undefined, (_oid, error) => bad.push(error));
      if (failed.length || bad.length) throw repackFailed(failed[0]?.error ?? bad[0]);
      const r = await pushPacks(pack, repo.cache, remote.packs(), plan.live.map((l) => ({ oid: l.oid, size: l.at.length, path: repo.cache.pathOf(l.oid) })));
      if (r.failed.length) throw repackFailed(r.failed[0].error);
    } finally {
      // What was read back only to be packed again leaves the cache: chunks are never objects of it,
      // and data this clone did not have is not fetched by a gc.
      for (const l of missing) repo.cache.remove(l.oid);
    }
  }
  const doomedIndexes = plan.doomed.map((d) => d.name);
  for (const names of [doomedIndexes, plan.doomedPacks, plan.strays]) {
    if (!names.length) continue;
    const r = await processQueue('gc', [{ key: names[0], size: 0, count: names.length, value: names }], (v, call) => backend.deletePackFiles!(v, call), settings);
    if (r.failed.length) throw r.failed[0].error;
  }
  for (const oid of plan.dead.keys()) known.delete(oid);
  known.flush();
}

function repackFailed(cause: DvsError): DvsError {
  return new DvsError(cause.code, `Could not repack the remote's packs: ${cause.message}; nothing was deleted from them`, { hint: cause.hint ?? 'Run `dvs gc --remote` again.', data: cause.data, cause });
}
