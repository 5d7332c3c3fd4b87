import { shortOid, type Oid } from '../../objects/oid.js';
import type { UploadSource } from '../../remotes/types.js';
import { findPresent, statObjects } from '../../transfer/presence.js';
import { processQueue, type QueueItem } from '../../transfer/queue.js';
import { LOOSE_THRESHOLD, pushPacks } from '../../transfer/packs.js';
import { CHUNK_THRESHOLD, chunkListDir, hasChunkList } from '../../transfer/chunk-list.js';
import { pushChunked } from '../../transfer/chunks.js';
import type { OpContext } from '../context.js';
import { canonicalUrl } from '../../remotes/url.js';
import { openRemote, remoteSpec, requireWritable, type OpenRemote } from './open.js';
import { failureOf, type RemoteRef, type TransferFailure } from './failures.js';
import { cacheLookup, expandNeeds, listsAny, scopedPointers, type DirNeed, type ScopedPointer, type TransferScope } from './scope.js';

export interface PushOptions extends TransferScope {
  /** Remote name; default: core.remote, or the only remote. */
  remote?: string;
  /** Parallel uploads; default: remote.<name>.jobs, transfer.jobs, or the backend's. */
  jobs?: number;
}

export interface PushResult {
  remote: RemoteRef;
  /** Objects uploaded, and the bytes sent for them (for an object sent as chunks: its new chunks and its list). */
  uploaded: number;
  bytes: number;
  /** Objects in scope the remote already had (including whole directories whose manifest it has). */
  alreadyPresent: number;
  /** Directory manifests uploaded (each after all its files). */
  manifests: number;
  /**
   * Objects among those uploaded that the remote had lost: found missing or bad there (by verify
   * --remote, a fetch, a pull), or deleted from it since this clone last saw them there.
   */
  restored: Array<{ path: string; oid: Oid }>;
  failures: TransferFailure[];
}

/**
 * Upload what the pointers in scope need and the remote lacks. Directories whose manifest the remote
 * has are complete there (a manifest is only ever uploaded after all its files, and dvs withdraws one
 * when it learns that a file of it is missing), so they cost one existence check, or none when this
 * clone already knows. Objects this clone knows the remote lost (missing, or a bad copy) are sent
 * again, and no manifest listing one is trusted. Objects neither here nor on the remote are reported,
 * and a directory's manifest is held back while any of its files is missing remotely.
 */
export async function push(ctx: OpContext, options: PushOptions = {}): Promise<PushResult> {
  const { repo } = ctx;
  requireWritable(repo, options.remote, 'dvs push');
  return repo.withLock({ ...ctx.lock, command: 'dvs push' }, async () => {
    const pointers = await scopedPointers(ctx, options);
    if (pointers.length === 0) {
      const spec = remoteSpec(repo, options.remote);
      return { remote: { name: spec.name, url: canonicalUrl(spec.location, spec.options.endpoint) }, uploaded: 0, bytes: 0, alreadyPresent: 0, manifests: 0, restored: [], failures: [] };
    }
    const remote = await openRemote(ctx, options);
    let result: PushResult;
    try {
      if (pointers.some((p) => p.pointer.appendOnly)) await (await import('./locks.js')).refuseLockedPush(repo, remote, pointers);
      result = await pushWith(ctx, remote, pointers);
    } finally {
      await remote.close();
    }
    // The audit trail records pushes that moved data; a push with nothing to send leaves no event.
    if (result.uploaded > 0) {
      const { recordTransferEvent } = await import('../../audit/record.js');
      await recordTransferEvent(repo, {
        type: 'push',
        paths: auditPaths(pointers),
        data: { remote: result.remote.name, url: result.remote.url, objects: result.uploaded, bytes: result.bytes, failed: result.failures.length },
      });
    }
    return result;
  });
}

/** One audit path per data path and version (pointers of several commits may name the same one). */
export function auditPaths(pointers: ScopedPointer[]): Array<{ path: string; oid: string; kind: 'file' | 'dir'; size: number }> {
  const seen = new Map<string, { path: string; oid: string; kind: 'file' | 'dir'; size: number }>();
  for (const p of pointers) seen.set(`${p.dataPath}\0${p.pointer.oid}`, { path: p.dataPath, oid: p.pointer.oid, kind: p.pointer.kind, size: p.pointer.size });
  return [...seen.values()];
}

async function pushWith(ctx: OpContext, remote: OpenRemote, pointers: ScopedPointer[]): Promise<PushResult> {
  const { repo } = ctx;
  const { known, backend, settings, spec } = remote;
  const result: PushResult = { remote: { name: spec.name, url: remote.url }, uploaded: 0, bytes: 0, alreadyPresent: 0, manifests: 0, restored: [], failures: [] };
  await remote.syncKnown();

  // 1. Manifests first: one the remote has vouches for all its files, so a directory this clone knows
  // to be pushed costs nothing (not even reading its manifest), and one found there costs one request.
  // Unless this clone knows the remote lost objects: then a manifest with a bad copy there, or one that
  // lists a lost file, does not vouch (manifests are read to tell), and what is lost is sent again.
  const anyLost = known.lostCount > 0;
  const catalogue = remote.packs();
  const packing = remote.format === 'packed';
  const unknownManifests = [...new Set(pointers.flatMap((p) => (p.pointer.kind === 'dir' && !known.has(p.pointer.oid) && !known.isBad(p.pointer.oid) ? [p.pointer.oid] : [])))];
  // A big manifest may be there as chunks: one listing of `packs/` says (and serves step 2 as well).
  if (unknownManifests.length && catalogue.supported && packing) await catalogue.refresh();
  const manifestsThere = await statObjects({ backend, settings }, unknownManifests.filter((m) => !catalogue.chunked(m)));
  const vouches = (m: Oid) => known.has(m) || manifestsThere.has(m) || catalogue.chunked(m);
  // A big manifest the remote lacks goes as chunks (step 4): cut while it is read for its entries here.
  const listDir = chunkListDir(repo.paths.tmp);
  const chunkManifest = (m: Oid) => (packing && !vouches(m) && (repo.cache.sizeOf(m) ?? 0) >= CHUNK_THRESHOLD && !hasChunkList(listDir, m) ? listDir : undefined);
  const needs = expandNeeds(repo, pointers, (m) => known.has(m) && !anyLost, { rowIndexes: true, chunkManifest });
  const covered = new Set<Oid>();
  const pending: DirNeed[] = [];
  const seenManifest = new Set<Oid>();
  for (const d of needs.dirs) {
    if (vouches(d.manifest) && !listsAny(d, (oid) => known.isLost(oid))) {
      known.add(d.manifest);
      if (!seenManifest.has(d.manifest)) result.alreadyPresent += 1;
      for (const oid of d.objects?.keys() ?? []) {
        covered.add(oid);
        known.add(oid);
      }
    } else pending.push(d);
    seenManifest.add(d.manifest);
  }

  // 2. Files not vouched for: a bad copy there is overwritten (its name there says nothing about its
  // bytes); about the rest, ask the remote for those this clone does not know to be there.
  const files = [...needs.files.keys()].filter((oid) => !covered.has(oid));
  const badFiles = files.filter((oid) => known.isBad(oid));
  const hasBad = cacheLookup(repo, badFiles.length);
  const resend = new Set(badFiles.filter((oid) => hasBad(oid)));
  const unknown = files.filter((oid) => !known.has(oid) && !resend.has(oid));
  result.alreadyPresent += files.length - unknown.length - resend.size;
  // Packed and chunked objects: one listing of the remote's `packs/` (new indexes downloaded once) answers for all.
  if (unknown.length && catalogue.supported && !catalogue.listed) await catalogue.refresh();
  const inCatalogue = (oid: Oid) => catalogue.lookup(oid) !== undefined || catalogue.chunked(oid);
  const packed = unknown.filter((oid) => inCatalogue(oid) && !known.isBad(oid));
  for (const oid of packed) known.add(oid);
  result.alreadyPresent += packed.length;
  // A packed remote holds its small objects in packs: asking about each one loose would cost the
  // requests packing saves (a small object also loose there, from before, is just packed again).
  const askLoose = unknown.filter((oid) => !inCatalogue(oid) && (!packing || needs.files.get(oid)!.size >= LOOSE_THRESHOLD));
  const there = await findPresent({ backend, settings }, askLoose);
  const failedOids = new Set<Oid>();
  for (const oid of there.keys()) {
    known.add(oid);
    if (!known.isBad(oid)) {
      result.alreadyPresent++;
      continue;
    }
    // A bad copy this clone has no good one for: saying "already there" would hide it.
    failedOids.add(oid);
    result.failures.push(failureOf(needs.files.get(oid)!.path, oid, {
      code: 'REMOTE_COPY_BAD',
      message: `the copy of object ${shortOid(oid)} on remote "${spec.name}" is bad (a download did not hash to its name), and the cache has no good one to replace it`,
      hint: `Run \`dvs verify --remote ${spec.name} --deep\` to delete bad copies, then push from a clone that has the data.`,
    }));
  }
  const missing = [...resend, ...unknown.filter((oid) => !there.has(oid) && !inCatalogue(oid))];

  // 3. Upload what the remote lacks; what the cache lacks too cannot be pushed.
  const has = cacheLookup(repo, missing.length);
  const uploads: Array<QueueItem<UploadSource>> = [];
  for (const oid of missing) {
    const info = needs.files.get(oid)!;
    if (!resend.has(oid) && !has(oid)) {
      if (known.isBad(oid)) known.markLost(oid, 'missing'); // deleted since
      failedOids.add(oid);
      result.failures.push(failureOf(info.path, oid, {
        code: 'OBJECT_MISSING',
        message: `object ${shortOid(oid)} is neither in the cache nor on remote "${spec.name}"`,
        hint: 'Fetch it from another remote, or track the data again on a machine that has it.',
      }));
      continue;
    }
    uploads.push({ key: oid, size: info.size, value: { oid, path: repo.cache.pathOf(oid), size: info.size } });
  }
  const fileOf = (oid: Oid) => needs.files.get(oid)!.path;
  if (packing) {
    await uploadPacked(ctx, remote, uploads.filter((u) => u.size < LOOSE_THRESHOLD), result, fileOf, failedOids);
    await uploadChunked(ctx, remote, uploads.filter((u) => u.size >= CHUNK_THRESHOLD).map((u) => ({ ...u, value: { ...u.value, again: resend.has(u.key) } })), result, fileOf, failedOids);
    await upload(remote, uploads.filter((u) => u.size >= LOOSE_THRESHOLD && u.size < CHUNK_THRESHOLD), result, fileOf, failedOids);
  } else await upload(remote, uploads, result, fileOf, failedOids);

  // 4. Manifests last, and only for directories whose every file is now on the remote.
  const manifestUploads: Array<QueueItem<UploadSource>> = [];
  const manifestPath = new Map<Oid, string>();
  for (const d of pending) {
    if (manifestPath.has(d.manifest)) continue;
    const name = `${d.dataPath}${d.commit ? ` (at ${d.commit.slice(0, 10)})` : ''}`;
    manifestPath.set(d.manifest, `${name} (manifest)`);
    if (!d.objects) {
      failedOids.add(d.manifest);
      result.failures.push(failureOf(name, d.manifest, {
        code: 'MANIFEST_MISSING',
        message: `the directory's manifest ${shortOid(d.manifest)} is neither in the cache nor on remote "${spec.name}"`,
        hint: 'Fetch it from another remote, or track the directory again on a machine that has its data.',
      }));
      continue;
    }
    // Already there, listing a file this clone knew lost: re-sent above if it could be, else reported.
    if (vouches(d.manifest)) {
      known.add(d.manifest);
      result.alreadyPresent += 1;
      continue;
    }
    if (d.subs !== undefined && listsAny(d, (oid) => !known.has(oid))) continue; // granular: files only
    let blocked = 0;
    for (const [oid, entries] of d.objects) if (failedOids.has(oid) || !known.has(oid)) blocked += entries;
    if (blocked) {
      result.failures.push(failureOf(name, d.manifest, {
        code: 'MANIFEST_HELD_BACK',
        message: `directory not pushed complete: ${blocked} of its files are not on remote "${spec.name}", so its manifest was not uploaded`,
        hint: 'Fix the failures above and push again; the files already uploaded are not sent twice.',
      }));
      continue;
    }
    const size = repo.cache.sizeOf(d.manifest) ?? 0;
    manifestUploads.push({ key: d.manifest, size, value: { oid: d.manifest, path: repo.cache.pathOf(d.manifest), size } });
  }
  const before = result.uploaded;
  // A big manifest goes as chunks too: a one-file change in a huge directory sends a few chunks.
  const chunkedManifests = packing ? manifestUploads.filter((u) => u.size >= CHUNK_THRESHOLD) : [];
  await uploadChunked(ctx, remote, chunkedManifests, result, (oid) => manifestPath.get(oid)!, failedOids);
  await upload(remote, manifestUploads.filter((u) => !chunkedManifests.includes(u)), result, (oid) => manifestPath.get(oid)!, failedOids);
  result.manifests = result.uploaded - before;
  result.restored.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

/** Small objects into packs, then their index (see transfer/packs.ts); a killed push leaves only unindexed packs. */
async function uploadPacked(ctx: OpContext, remote: OpenRemote, items: Array<QueueItem<UploadSource>>, result: PushResult, pathOf: (oid: Oid) => string, failedOids: Set<Oid>): Promise<void> {
  if (items.length === 0) return;
  const { backend, known, settings } = remote;
  const sizes = new Map(items.map((i) => [i.key, i.size]));
  try {
    const r = await pushPacks({ backend, settings }, ctx.repo.cache, remote.packs(), items.map((i) => i.value), (oids) => {
      for (const oid of oids) {
        if (known.isLost(oid) || known.wasKnown(oid)) result.restored.push({ path: pathOf(oid), oid });
        known.confirm(oid);
        result.uploaded++;
        result.bytes += sizes.get(oid) ?? 0;
      }
      known.flush();
    });
    for (const f of r.failed) {
      failedOids.add(f.oid);
      result.failures.push(failureOf(pathOf(f.oid), f.oid, f.error));
    }
  } finally {
    known.flush();
  }
}

/** Big objects as chunks (see transfer/chunks.ts): `bytes` counts what was sent, new chunks and the list. */
async function uploadChunked(ctx: OpContext, remote: OpenRemote, items: Array<QueueItem<UploadSource & { again?: boolean }>>, result: PushResult, pathOf: (oid: Oid) => string, failedOids: Set<Oid>): Promise<void> {
  if (items.length === 0) return;
  const { backend, known, settings } = remote;
  try {
    const r = await pushChunked({ backend, settings }, ctx.repo.cache, remote.packs(), chunkListDir(ctx.repo.paths.tmp), items.map((i) => i.value), (oid, sent) => {
      if (known.isLost(oid) || known.wasKnown(oid)) result.restored.push({ path: pathOf(oid), oid });
      known.confirm(oid);
      result.uploaded++;
      result.bytes += sent;
    });
    for (const f of r.failed) {
      failedOids.add(f.oid);
      result.failures.push(failureOf(pathOf(f.oid), f.oid, f.error));
    }
  } finally {
    known.flush();
  }
}

async function upload(remote: OpenRemote, items: Array<QueueItem<UploadSource>>, result: PushResult, pathOf: (oid: Oid) => string, failedOids: Set<Oid>): Promise<void> {
  if (items.length === 0) return;
  const { backend, known, settings } = remote;
  try {
    const r = await processQueue('upload', items, (source, call) => backend.upload(source, call), settings, (item) => {
      // Sent again where the remote had lost it (or another clone's gc or verify deleted it since this
      // clone last saw it there): a repair, and said so.
      if (known.isLost(item.key) || known.wasKnown(item.key)) result.restored.push({ path: pathOf(item.key), oid: item.key });
      known.confirm(item.key);
      result.uploaded++;
      result.bytes += item.size;
    });
    for (const f of r.failed) {
      failedOids.add(f.item.key);
      result.failures.push(failureOf(pathOf(f.item.key), f.item.key, f.error));
    }
  } finally {
    known.flush();
  }
}
