import type { Oid } from '../../objects/oid.js';
import { listObjects } from '../../transfer/presence.js';
import { processQueue } from '../../transfer/queue.js';
import type { OpContext } from '../context.js';
import { fetchObjects } from './fetch.js';
import { manifestMissing, removedObjects, type GcOptions, type GcResult } from '../data/gc.js';
import { originsOf } from '../data/gc-origins.js';
import { keptObjects, keptRefs } from '../data/gc-scope.js';
import { openRemote, requireWritable } from './open.js';
import { applyRepack, planRepack } from './gc-packs.js';
import type { RemoteRef } from './failures.js';

export interface RemoteGcOptions extends GcOptions {
  remote?: string;
  jobs?: number;
}

export type RemoteGcResult = GcResult & { remote: RemoteRef };

/**
 * Delete remote objects that no kept pointer needs. What the remote holds comes from listing it (the
 * local record is never trusted for deleting). Manifests of kept directories that this clone lacks are
 * fetched from the remote first; one that cannot be had stops gc unless forced, and is then not kept
 * either, so that no manifest stays on the remote without its files.
 */
export async function gcRemote(ctx: OpContext, options: RemoteGcOptions): Promise<RemoteGcResult> {
  const { repo } = ctx;
  requireWritable(repo, options.remote, 'dvs gc --remote');
  return repo.withLock({ ...ctx.lock, command: 'dvs gc --remote' }, async () => {
    const kept = await keptObjects(ctx, options);
    try {
      return await collectRemote(ctx, options, kept);
    } finally {
      kept.release();
    }
  });
}

type Kept = Awaited<ReturnType<typeof keptObjects>>;

async function collectRemote(ctx: OpContext, options: RemoteGcOptions, kept: Kept): Promise<RemoteGcResult> {
  const { repo } = ctx;
  let refs = kept.refs;
  if (refs.unknownManifests.length) {
    await fetchObjects(ctx, refs.unknownManifests.map((m) => m.oid), options);
    refs = keptRefs(repo, kept.needed);
  }
  if (refs.unknownManifests.length && !options.force) {
    throw manifestMissing(refs, 'is neither in the cache nor on the remote', 'Push it from a clone that has it, or pass --force to collect anyway (its files and the manifest are then deleted).');
  }
  for (const m of refs.unknownManifests) refs.oids.delete(m.oid);

  const remote = await openRemote(ctx, options);
  try {
    const { backend, known, settings } = remote;
    await remote.syncKnown();
    const listed = await listObjects({ backend, settings });
    const collected = new Map<Oid, number>();
    let keptCount = 0;
    for (const o of listed.values()) {
      if (refs.oids.has(o.oid)) {
        keptCount++;
        known.add(o.oid);
      } else collected.set(o.oid, o.size);
    }
    // Packs: what the indexes hold counts as on the remote; indexes mostly dead are repacked.
    const catalogue = remote.packs();
    if (catalogue.supported) await catalogue.refresh();
    const repack = planRepack(catalogue, refs.oids, listed);
    keptCount += repack.keptPacked.size;
    for (const oid of repack.keptPacked) known.add(oid);
    for (const [oid, size] of repack.dead) if (!collected.has(oid)) collected.set(oid, size);
    const origins = await originsOf([repo, ...kept.others], repo.cache, new Set(collected.keys()), refs.oids, kept.runData);
    const removed = removedObjects(collected, origins);
    const bytes = removed.reduce((sum, r) => sum + r.size, 0);
    let tempFilesRemoved = 0;
    if (!options.dryRun && (removed.length || repack.doomed.length)) await remote.newEpoch();
    if (!options.dryRun) {
      // New packs of the live objects are stored before any old index or pack is deleted.
      await applyRepack(ctx, remote, repack);
      await deleteFromRemote(remote, removed.filter((r) => listed.has(r.oid)).map((r) => r.oid));
      if (backend.cleanup) {
        const r = await processQueue('gc', [{ key: 'cleanup', size: 0, count: 0, value: undefined }], (_v, call) => backend.cleanup!(60 * 60 * 1000, call), settings);
        tempFilesRemoved = r.done[0]?.result ?? 0;
      }
    }
    return {
      removed,
      kept: keptCount,
      bytes,
      dryRun: options.dryRun === true,
      tempFilesRemoved,
      projects: kept.projects,
      runs: !options.noRuns,
      manifestsUnread: origins.manifestsUnread,
      warnings: kept.warnings,
      remote: { name: remote.spec.name, url: remote.url },
    };
  } finally {
    await remote.close();
  }
}

/** Delete in batches of 1000; the record of what the remote holds forgets each batch as it goes. */
async function deleteFromRemote(remote: Awaited<ReturnType<typeof openRemote>>, oids: Oid[]): Promise<void> {
  const { backend, known, settings } = remote;
  const batches: Oid[][] = [];
  for (let i = 0; i < oids.length; i += 1000) batches.push(oids.slice(i, i + 1000));
  try {
    const r = await processQueue(
      'gc',
      batches.map((b) => ({ key: b[0], size: 0, count: b.length, value: b })),
      (batch, call) => backend.delete(batch, call),
      settings,
      (item) => item.value.forEach((oid) => known.delete(oid)),
    );
    if (r.failed.length) throw r.failed[0].error;
  } finally {
    known.flush();
  }
}
