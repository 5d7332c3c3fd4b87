import { createHash } from 'node:crypto';
import { DvsError } from '../../errors.js';
import { ProgressCounter, type Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { ReferencedObjects } from '../../workspace/references.js';
import type { OpContext } from '../context.js';
import { originsOf, type ObjectOrigin } from './gc-origins.js';
import { describeUnknownManifest, keptObjects, type GcProject, type GcScope } from './gc-scope.js';

export interface GcOptions extends GcScope {
  dryRun?: boolean;
}

/** An object gc collected (or, in a dry run, would). */
export interface GcRemovedObject {
  oid: Oid;
  size: number;
  /** It is a directory's manifest (its origins name the directory). */
  manifest?: boolean;
  /** The data paths pointers of the history gave it, newest commit first; empty: unreferenced. */
  origins: ObjectOrigin[];
}

export interface GcResult {
  removed: GcRemovedObject[];
  kept: number;
  bytes: number;
  dryRun: boolean;
  /** Leftover temp files of killed commands that were cleaned up. */
  tempFilesRemoved: number;
  /** The repositories whose scope was kept (this one first), with how many pointers and run records. */
  projects: GcProject[];
  /** Whether the datasets of run records were kept (not with --no-runs). */
  runs: boolean;
  /** Directory manifests of the history missing from the cache: files they listed show as unreferenced. */
  manifestsUnread: number;
  warnings: Warning[];
  /** The cache collected (without --remote): other repositories may share it when it is outside this one. */
  cache?: string;
  /** With --remote: the remote collected. */
  remote?: { name: string; url: string };
}

/**
 * Delete cache objects that nothing in scope needs. The workspace's pointers are always kept; the scope
 * flags add branches, tags, commits (or commits since a date), the run records of all of these, and
 * other projects sharing the cache. If a kept directory's manifest is missing, its files cannot be told
 * apart from garbage, so gc stops unless forced. Each object collected is named by what it was (data
 * paths and commits from the history), before anything is deleted.
 */
export async function gc(ctx: OpContext, options: GcOptions): Promise<GcResult> {
  const { repo } = ctx;
  return repo.withLock({ ...ctx.lock, command: 'dvs gc' }, async () => {
    const kept = await keptObjects(ctx, options);
    try {
      const { refs } = kept;
      if (refs.unknownManifests.length && !options.force) throw manifestMissing(refs, 'is not in the cache', 'Fetch it first (dvs fetch), or pass --force to collect anyway.');
      const progress = new ProgressCounter('gc', ctx.onProgress);
      const collected = new Map<Oid, number>();
      let keptCount = 0;
      for (const oid of repo.cache.list()) {
        if (refs.oids.has(oid)) keptCount++;
        else collected.set(oid, repo.cache.sizeOf(oid) ?? 0);
      }
      // Named before deleting: the manifests that name collected files are among them.
      const origins = await originsOf([repo, ...kept.others], repo.cache, new Set(collected.keys()), refs.oids, kept.runData);
      const removed = removedObjects(collected, origins);
      let bytes = 0;
      for (const r of removed) {
        if (!options.dryRun) repo.cache.remove(r.oid);
        bytes += r.size;
        progress.add(1, r.size);
      }
      progress.emit();
      if (removed.length && !options.dryRun) (await repo.statCache()).clearComplete();
      const tempFilesRemoved = options.dryRun ? 0 : repo.cache.cleanTemp();
      if (!options.dryRun && removed.length) await (await import('../../audit/record.js')).recordAuditEvent(repo, { type: 'gc', data: gcEventData(removed, bytes) });
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
        cache: repo.cache.root,
      };
    } finally {
      kept.release();
    }
  });
}

/** MANIFEST_MISSING for the first kept directory whose manifest gc cannot read. */
export function manifestMissing(refs: ReferencedObjects, where: string, hint: string): DvsError {
  return new DvsError('MANIFEST_MISSING', `The manifest of ${describeUnknownManifest(refs.unknownManifests[0])} ${where}, so gc cannot tell which files it keeps`, {
    hint,
    data: { missing: refs.unknownManifests },
  });
}

/** The collected objects with what they were, sorted by the path they had (unreferenced ones last). */
export function removedObjects(collected: Map<Oid, number>, origins: { byOid: Map<Oid, ObjectOrigin[]>; manifests: Set<Oid> }): GcRemovedObject[] {
  const removed = [...collected].map(([oid, size]): GcRemovedObject => ({
    oid,
    size,
    ...(origins.manifests.has(oid) ? { manifest: true } : {}),
    origins: origins.byOid.get(oid) ?? [],
  }));
  const key = (r: GcRemovedObject) => (r.origins.length ? `0${r.origins[0].project ?? ''}\0${r.origins[0].path}\0${r.oid}` : `1${r.oid}`);
  return removed.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** What a gc event records: counts, and the removed oids (the first 1000, and a hash of them all). */
function gcEventData(removed: GcRemovedObject[], bytes: number): Record<string, unknown> {
  const oids = removed.map((r) => r.oid).sort();
  return { objects: oids.length, bytes, oids: oids.slice(0, 1000), oidsHash: createHash('sha256').update(oids.join('\n')).digest('hex') };
}
