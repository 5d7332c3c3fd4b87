import { DvsError } from '../../errors.js';
import type { Oid } from '../../objects/oid.js';
import { listObjects } from '../../transfer/presence.js';
import { processQueue } from '../../transfer/queue.js';
import type { OpContext } from '../context.js';
import { fetchObjects } from './fetch.js';
import type { GcOptions, GcResult } from '../data/gc.js';
import { objectsOf, pointersInScope } from '../../workspace/references.js';
import { openRemote } from './open.js';
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
  return repo.withLock({ ...ctx.lock, command: 'dvs gc --remote' }, async () => {
    const pointers = await pointersInScope(repo, { ...options, noWorkspace: false });
    let refs = objectsOf(repo, pointers);
    if (refs.unknownManifests.length) {
      await fetchObjects(ctx, refs.unknownManifests.map((m) => m.oid), options);
      refs = objectsOf(repo, pointers);
    }
    if (refs.unknownManifests.length && !options.force) {
      const m = refs.unknownManifests[0];
      throw new DvsError('MANIFEST_MISSING', `The manifest of ${m.dataPath}${m.commit ? ` at ${m.commit.slice(0, 10)}` : ''} is neither in the cache nor on the remote, so gc cannot tell which files it keeps`, {
        hint: 'Push it from a clone that has it, or pass --force to collect anyway (its files and the manifest are then deleted).',
        data: { missing: refs.unknownManifests },
      });
    }
    for (const m of refs.unknownManifests) refs.oids.delete(m.oid);

    const remote = await openRemote(ctx, options);
    try {
      const { backend, known, settings } = remote;
      await remote.syncKnown();
      const listed = await listObjects({ backend, settings });
      const removed: GcResult['removed'] = [];
      let bytes = 0;
      let kept = 0;
      for (const o of listed.values()) {
        if (refs.oids.has(o.oid)) {
          kept++;
          known.add(o.oid);
          continue;
        }
        removed.push({ oid: o.oid, size: o.size });
        bytes += o.size;
      }
      removed.sort((a, b) => (a.oid < b.oid ? -1 : 1));
      let tempFilesRemoved = 0;
      if (!options.dryRun && removed.length) await remote.newEpoch();
      if (!options.dryRun) {
        const batches: Oid[][] = [];
        for (let i = 0; i < removed.length; i += 1000) batches.push(removed.slice(i, i + 1000).map((r) => r.oid));
        try {
          const r = await processQueue(
            'gc',
            batches.map((b) => ({ key: b[0], size: 0, count: b.length, value: b })),
            (oids, call) => backend.delete(oids, call),
            settings,
            (item) => item.value.forEach((oid) => known.delete(oid)),
          );
          if (r.failed.length) throw r.failed[0].error;
        } finally {
          known.flush();
        }
        if (backend.cleanup) {
          const r = await processQueue('gc', [{ key: 'cleanup', size: 0, count: 0, value: undefined }], (_v, call) => backend.cleanup!(60 * 60 * 1000, call), settings);
          tempFilesRemoved = r.done[0]?.result ?? 0;
        }
      }
      return { removed, kept, bytes, dryRun: options.dryRun === true, tempFilesRemoved, remote: { name: remote.spec.name, url: remote.url } };
    } finally {
      await remote.close();
    }
  });
}
