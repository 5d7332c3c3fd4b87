import type { Oid } from '../../objects/oid.js';
import { listObjects } from '../../transfer/presence.js';
import { processQueue } from '../../transfer/queue.js';
import type { OpContext } from '../context.js';
import { fetchObjects } from './fetch.js';
import { manifestMissing, removedObjects, type GcOptions, type GcResult } from '../data/gc.js';
import { originsOf } from '../data/gc-origins.js';
import { keptObjects, keptRefs } from '../data/gc-scope.js';
import { openRemote, requireWritable, type OpenRemote } from './open.js';
import { chunkListDir } from '../../transfer/chunk-list.js';
import { readChunkList } from '../../transfer/chunks.js';
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
    // Packs: what the indexes hold counts as on the remote; indexes mostly dead are repacked. The
    // chunks of a kept object stored as chunks are kept with it; the lists of the others go first.
    const catalogue = remote.packs();
    if (catalogue.supported) await catalogue.refresh();
    const chunked = await chunkedObjects(ctx, remote, refs.oids);
    for (const oid of chunked.kept) if (!listed.has(oid)) keptCount++;
    for (const [oid, size] of chunked.dead) if (!collected.has(oid)) collected.set(oid, size);
    const repack = planRepack(catalogue, new Set([...refs.oids, ...chunked.chunks]), listed);
    for (const oid of chunked.chunks) if (!refs.oids.has(oid)) repack.keptPacked.delete(oid);
    keptCount += repack.keptPacked.size;
    for (const oid of repack.keptPacked) known.add(oid);
    for (const [oid, size] of repack.dead) if (!collected.has(oid)) collected.set(oid, size);
    const origins = await originsOf([repo, ...kept.others], repo.cache, new Set(collected.keys()), refs.oids, kept.runData);
    const removed = removedObjects(collected, origins);
    const bytes = removed.reduce((sum, r) => sum + r.size, 0);
    let tempFilesRemoved = 0;
    if (!options.dryRun && (removed.length || repack.doomed.length)) await remote.newEpoch();
    if (!options.dryRun) {
      // A chunk list goes before its chunks can: no list ever names a chunk that is gone.
      await deleteChunkLists(remote, removed.filter((r) => chunked.dead.has(r.oid)).map((r) => r.oid));
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

/**
 * The objects the remote holds as chunks (docs/remote-format.md, "Chunks"): those kept, and the chunks
 * their lists name (read from this clone's kept lists, else from the remote), and those not kept, with
 * the size of their list.
 */
async function chunkedObjects(ctx: OpContext, remote: OpenRemote, kept: Set<Oid>): Promise<{ kept: Oid[]; chunks: Set<Oid>; dead: Map<Oid, number> }> {
  const catalogue = remote.packs();
  const out = { kept: [] as Oid[], chunks: new Set<Oid>(), dead: new Map<Oid, number>() };
  for (const [oid, info] of catalogue.listedChunkLists) {
    if (kept.has(oid)) out.kept.push(oid);
    else out.dead.set(oid, info.size);
  }
  if (!out.kept.length) return out;
  const { backend, settings, spec } = remote;
  const listDir = chunkListDir(ctx.repo.paths.tmp);
  const r = await processQueue('download', out.kept.map((oid) => ({ key: oid, size: catalogue.listedChunkLists.get(oid)?.size ?? 0, value: oid })), (oid, call) => readChunkList(backend, listDir, oid, call, spec.name), settings, (_item, list) => {
    for (const c of list.chunks) out.chunks.add(c.oid);
  });
  // A kept object's list that cannot be read: its chunks cannot be told, so nothing may be repacked away.
  if (r.failed.length) throw r.failed[0].error;
  return out;
}

async function deleteChunkLists(remote: OpenRemote, oids: Oid[]): Promise<void> {
  if (!oids.length) return;
  const { backend, known, settings } = remote;
  const r = await processQueue('gc', [{ key: 'chunk lists', size: 0, count: oids.length, value: oids.map((oid) => `${oid}.chunks`) }], (names, call) => backend.deletePackFiles!(names, call), settings);
  if (r.failed.length) throw r.failed[0].error;
  for (const oid of oids) known.delete(oid);
  known.flush();
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
