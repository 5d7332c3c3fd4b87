import { createHash } from 'node:crypto';
import { DvsError } from '../../errors.js';
import { ProgressCounter } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { OpContext } from '../context.js';
import { objectsOf, pointersInScope, type RevisionScope } from '../../workspace/references.js';

export interface GcOptions extends RevisionScope {
  dryRun?: boolean;
  /** Go ahead even when some kept directory's manifest is missing (its files are then not kept). */
  force?: boolean;
}

export interface GcResult {
  removed: Array<{ oid: Oid; size: number }>;
  kept: number;
  bytes: number;
  dryRun: boolean;
  /** Leftover temp files of killed commands that were cleaned up. */
  tempFilesRemoved: number;
  /** With --remote: the remote collected. */
  remote?: { name: string; url: string };
}

/**
 * Delete cache objects that no kept pointer needs. The workspace's pointers are always kept; the scope
 * flags add branches, tags or every commit. If a kept directory's manifest is missing, its files cannot
 * be told apart from garbage, so gc stops unless forced.
 */
export async function gc(ctx: OpContext, options: GcOptions): Promise<GcResult> {
  const { repo } = ctx;
  return repo.withLock({ ...ctx.lock, command: 'dvs gc' }, async () => {
    const pointers = await pointersInScope(repo, { ...options, noWorkspace: false });
    const refs = objectsOf(repo, pointers);
    if (refs.unknownManifests.length && !options.force) {
      const m = refs.unknownManifests[0];
      throw new DvsError('MANIFEST_MISSING', `The manifest of ${m.dataPath}${m.commit ? ` at ${m.commit.slice(0, 10)}` : ''} is not in the cache, so gc cannot tell which files it keeps`, {
        hint: 'Fetch it first (dvs fetch), or pass --force to collect anyway.',
        data: { missing: refs.unknownManifests },
      });
    }
    const progress = new ProgressCounter('gc', ctx.onProgress);
    const removed: GcResult['removed'] = [];
    let kept = 0;
    let bytes = 0;
    for (const oid of repo.cache.list()) {
      if (refs.oids.has(oid)) {
        kept++;
        continue;
      }
      const size = repo.cache.sizeOf(oid) ?? 0;
      if (!options.dryRun) repo.cache.remove(oid);
      removed.push({ oid, size });
      bytes += size;
      progress.add(1, size);
    }
    progress.emit();
    if (removed.length && !options.dryRun) (await repo.statCache()).clearComplete();
    const tempFilesRemoved = options.dryRun ? 0 : repo.cache.cleanTemp();
    if (!options.dryRun && removed.length) await (await import('../../audit/record.js')).recordAuditEvent(repo, { type: 'gc', data: gcEventData(removed, bytes) });
    return { removed, kept, bytes, dryRun: options.dryRun === true, tempFilesRemoved };
  });
}

/** What a gc event records: counts, and the removed oids (the first 1000, and a hash of them all). */
function gcEventData(removed: GcResult['removed'], bytes: number): Record<string, unknown> {
  const oids = removed.map((r) => r.oid).sort();
  return { objects: oids.length, bytes, oids: oids.slice(0, 1000), oidsHash: createHash('sha256').update(oids.join('\n')).digest('hex') };
}
