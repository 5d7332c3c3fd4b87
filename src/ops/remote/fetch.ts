import { isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { recordObject } from '../../objects/hash-files.js';
import type { StatCache } from '../../objects/stat-cache.js';
import type { CallOptions } from '../../remotes/types.js';
import { downloadToCache } from '../../transfer/download.js';
import { statObjects } from '../../transfer/presence.js';
import { processQueue, type QueueItem } from '../../transfer/queue.js';
import { planReads, readPacked } from '../../transfer/packs.js';
import { chunkListDir } from '../../transfer/chunk-list.js';
import { openObject } from '../../transfer/chunks.js';
import type { OpContext } from '../context.js';
import { canonicalUrl } from '../../remotes/url.js';
import { openRemote, remoteSpec, type OpenRemote } from './open.js';
import { failureOf, type RemoteRef, type TransferFailure } from './failures.js';
import { cacheLookup, expandNeeds, listsAny, scopedPointers, type DirNeed, type ScopedPointer, type TransferScope } from './scope.js';

export interface FetchOptions extends TransferScope {
  remote?: string;
  jobs?: number;
}

export interface FetchResult {
  remote: RemoteRef;
  /** Objects downloaded into the cache, and their bytes. */
  fetched: number;
  bytes: number;
  /** Objects in scope the cache already had. */
  alreadyInCache: number;
  failures: TransferFailure[];
  /**
   * Directory manifests deleted from the remote because files they list are not there (a manifest on
   * a remote vouches for all its files); this clone has them, and a push sends them back after the files.
   */
  withdrawn: Array<{ path: string; oid: Oid }>;
  warnings: Warning[];
}

/**
 * Download into the cache what the pointers in scope need and the cache lacks. Directory manifests
 * come first (they say which files a directory needs); a path inside a tracked directory fetches only
 * the manifest and the files under that path. Every download is verified before it enters the cache.
 *
 * What the remote turns out to lack or to hold a bad copy of is recorded as lost there, so that the
 * next push from this clone sends it again. A 404 also concerns other clones, which may believe the
 * object there: fetch renews the remote's epoch and withdraws the manifests that vouch for the missing
 * files (see tellRemote). A bad copy is left in place: one bad read may be the network's doing, and
 * deleting it is `verify --remote --deep`'s call.
 */
export async function fetch(ctx: OpContext, options: FetchOptions = {}): Promise<FetchResult> {
  return ctx.repo.withLock({ ...ctx.lock, command: 'dvs fetch' }, () => fetchUnlocked(ctx, options));
}

/** fetch without taking the repository lock (pull takes it around fetch, then checkout takes it). */
export async function fetchUnlocked(ctx: OpContext, options: FetchOptions, onScope?: (pointers: ScopedPointer[]) => void): Promise<FetchResult> {
  const { repo } = ctx;
  const pointers = await scopedPointers(ctx, options);
  onScope?.(pointers);
  // Opened on the first download: with everything in the cache, fetch works offline.
  const spec = remoteSpec(repo, options.remote);
  let opened: OpenRemote | undefined;
  const remote = async () => (opened ??= await openRemote(ctx, options));
  const state = await repo.statCache();
  try {
    const result: FetchResult = { remote: { name: spec.name, url: canonicalUrl(spec.location, spec.options.endpoint) }, fetched: 0, bytes: 0, alreadyInCache: 0, failures: [], withdrawn: [], warnings: [] };
    // 1. Manifests the cache lacks.
    const manifests = new Map<Oid, string>();
    const cachedManifests = new Set<Oid>();
    for (const p of pointers) {
      if (p.pointer.kind !== 'dir' || manifests.has(p.pointer.oid) || cachedManifests.has(p.pointer.oid)) continue;
      if (repo.cache.has(p.pointer.oid)) cachedManifests.add(p.pointer.oid);
      else manifests.set(p.pointer.oid, `${p.dataPath}${p.commit ? ` (at ${p.commit.slice(0, 10)})` : ''} (manifest)`);
    }
    result.alreadyInCache += cachedManifests.size;
    const notThere = await download(ctx, remote, state, [...manifests].map(([oid, path]) => ({ oid, path, size: 0 })), result);
    // 2. The files they and the file pointers need.
    const needs = expandNeeds(repo, pointers);
    const has = cacheLookup(repo, needs.files.size);
    const wanted: Array<{ oid: Oid; path: string; size: number }> = [];
    for (const [oid, info] of needs.files) {
      if (has(oid)) result.alreadyInCache++;
      else wanted.push({ oid, ...info });
    }
    notThere.push(...(await download(ctx, remote, state, wanted, result)));
    if (notThere.length) await tellRemote(await remote(), notThere, needs.dirs, result);
    return result;
  } finally {
    state.flush();
    await opened?.close();
  }
}

/** Download into the cache; returns the objects the remote answered 404 for. */
async function download(ctx: OpContext, open: OpenRemote | (() => Promise<OpenRemote>), state: StatCache, wanted: Array<{ oid: Oid; path: string; size: number }>, result: FetchResult): Promise<Oid[]> {
  if (wanted.length === 0) return [];
  const { repo } = ctx;
  const remote = typeof open === 'function' ? await open() : open;
  const { backend, known, settings, spec } = remote;
  const loose = await downloadPacked(ctx, remote, state, wanted, result);
  if (loose.length === 0) return [];
  const items: Array<QueueItem<{ oid: Oid; path: string }>> = loose.map((w) => ({ key: w.oid, size: w.size, value: w }));
  // Objects stored as chunks follow their chunk list (the listing that found them told which).
  const catalogue = remote.packs();
  const listDir = chunkListDir(repo.paths.tmp);
  const openChunkedOr = catalogue.supported ? (oid: Oid, call: CallOptions) => (catalogue.chunked(oid) ? openObject(backend, catalogue, oid, call, spec.name, listDir) : backend.download(oid, call)) : undefined;
  try {
    const r = await processQueue('download', items, (w, call) => downloadToCache(backend, repo.cache, w.oid, call, spec.name, openChunkedOr), settings, (item, got) => {
      // Recorded as verified, so that checkout does not hash it again.
      recordObject(repo.cache, state, item.key);
      known.confirm(item.key);
      result.fetched++;
      result.bytes += got.size;
    });
    const notThere: Oid[] = [];
    // Missing loose from a web server that does not list packs/: they may well be in its packs.
    const unlisted = remote.packs().unlisted;
    for (const f of r.failed) {
      const missing = f.error.code === 'REMOTE_OBJECT_MISSING';
      if (missing) {
        notThere.push(f.item.key);
        known.markLost(f.item.key, 'missing');
      } else if (f.error.code === 'REMOTE_OBJECT_CORRUPTED') known.markLost(f.item.key, 'bad');
      result.failures.push(failureOf(f.item.value.path, f.item.key, missing && unlisted ? { code: f.error.code, message: f.error.message, hint: unlisted.hint } : f.error));
    }
    return notThere;
  } finally {
    known.flush();
  }
}

/**
 * Download what the remote holds in packs (docs/remote-format.md): ranged reads, neighbours coalesced,
 * each object verified. A pack gone since its index was read (a gc repacked it) sends dvs to list the
 * remote again, once; returns what must be fetched loose.
 */
async function downloadPacked(ctx: OpContext, remote: OpenRemote, state: StatCache, wanted: Array<{ oid: Oid; path: string; size: number }>, result: FetchResult): Promise<Array<{ oid: Oid; path: string; size: number }>> {
  const { repo } = ctx;
  const { backend, known, settings, spec } = remote;
  const catalogue = remote.packs();
  if (!catalogue.supported) return wanted;
  await catalogue.learn(wanted.map((w) => w.oid));
  const byOid = new Map(wanted.map((w) => [w.oid, w]));
  let inPacks = wanted.filter((w) => catalogue.lookup(w.oid));
  const rest = wanted.filter((w) => !catalogue.lookup(w.oid));
  try {
    for (let round = 0; inPacks.length; round++) {
      const reads = planReads(inPacks.map((w) => ({ oid: w.oid, at: catalogue.lookup(w.oid)! })));
      const failed = await readPacked({ backend, settings }, reads, spec.name, repo.cache, (oid, size) => {
        recordObject(repo.cache, state, oid);
        known.confirm(oid);
        result.fetched++;
        result.bytes += size;
      }, (oid, error) => {
        known.markLost(oid, 'bad');
        result.failures.push(failureOf(byOid.get(oid)!.path, oid, error));
      });
      const gone: Oid[] = [];
      for (const f of failed) {
        if (f.error.code === 'REMOTE_OBJECT_MISSING') gone.push(f.oid);
        else result.failures.push(failureOf(byOid.get(f.oid)!.path, f.oid, f.error));
      }
      if (gone.length === 0) break;
      if (round > 0) {
        rest.push(...gone.map((oid) => byOid.get(oid)!));
        break;
      }
      await catalogue.refresh();
      inPacks = gone.filter((oid) => catalogue.lookup(oid)).map((oid) => byOid.get(oid)!);
      rest.push(...gone.filter((oid) => !catalogue.lookup(oid)).map((oid) => byOid.get(oid)!));
    }
  } finally {
    known.flush();
  }
  return rest;
}

/**
 * The remote answered 404 for objects the pointers need. Another clone may believe them there (it
 * pushed them before they were deleted), and a manifest there that lists a missing file claims its
 * directory is complete, which would make every push skip the directory. So: a new epoch (every
 * clone's record of the remote is then checked again), and the manifests in scope that vouch for a
 * missing file are deleted from the remote, which restores the invariant "a manifest is on a remote
 * only with all its files". Nothing is lost: this clone has those manifests in its cache, and the next
 * push from any clone that has the files sends them, then the manifest. A remote this clone may not
 * write to (read-only credentials) gets a warning instead; this clone's record still has them as lost.
 */
async function tellRemote(remote: OpenRemote, notThere: Oid[], dirs: DirNeed[], result: FetchResult): Promise<void> {
  const { backend, known, settings, spec } = remote;
  // A read-only remote cannot be told; this clone's record has them as lost all the same.
  if (backend.readOnly) return;
  const gone = new Set(notThere);
  const claims = new Map<Oid, string>();
  for (const d of dirs) {
    if (claims.has(d.manifest) || gone.has(d.manifest) || !listsAny(d, (oid) => gone.has(oid))) continue;
    claims.set(d.manifest, `${d.dataPath}${d.commit ? ` (at ${d.commit.slice(0, 10)})` : ''} (manifest)`);
  }
  try {
    // A big manifest may be there as chunks (its list under packs/), the others as loose keys.
    const catalogue = remote.packs();
    if (claims.size && catalogue.supported) await catalogue.ensureListed();
    const chunked = [...claims.keys()].filter((m) => catalogue.chunked(m));
    const there = await statObjects({ backend, settings }, [...claims.keys()].filter((m) => !catalogue.chunked(m)));
    const withdraw = [...claims.keys()].filter((m) => there.has(m) || catalogue.chunked(m));
    // No manifest there vouches for a missing file (the usual case: the data was never pushed): nothing
    // to tell, and a pull with read-only credentials stays quiet.
    if (withdraw.length === 0) return;
    await remote.newEpoch();
    const loose = withdraw.filter((m) => !catalogue.chunked(m));
    const r = await processQueue('gc', [{ key: 'withdraw', size: 0, count: loose.length, value: loose }], (oids, call) => backend.delete(oids, call), settings);
    if (r.failed.length) throw r.failed[0].error;
    if (chunked.length) {
      const lists = await processQueue('gc', [{ key: 'withdraw lists', size: 0, count: chunked.length, value: chunked.map((m) => `${m}.chunks`) }], (names, call) => backend.deletePackFiles!(names, call), settings);
      if (lists.failed.length) throw lists.failed[0].error;
    }
    for (const m of withdraw) {
      known.markLost(m, 'missing');
      result.withdrawn.push({ path: claims.get(m)!, oid: m });
    }
  } catch (err) {
    if (!isDvsError(err)) throw err;
    result.warnings.push({
      code: 'REMOTE_NOT_TOLD',
      message: `could not record on remote "${spec.name}" that it lacks ${gone.size === 1 ? 'an object' : `${gone.size} objects`}: ${err.message}`,
      hint: 'Other clones may still believe them there; run `dvs verify --remote` from a clone that may write to the remote, then push from one that has them.',
    });
  } finally {
    known.flush();
  }
}

/**
 * Fetch exactly these objects into the cache (those it lacks), for callers that know what they need:
 * `dvs diff` fetching manifests lazily, the post-checkout hook's autofetch. Takes no lock (every cache
 * write is atomic on its own). Per-object failures are returned; a remote that cannot be used at all
 * (none configured, bad credentials, unreachable) throws a DvsError. What the remote lacks or holds bad
 * is recorded as lost there (the next push re-sends it), but the remote itself is not written to: these
 * callers (a hook during a checkout, diff) only read.
 */
export async function fetchObjects(ctx: OpContext, oids: Oid[], options: { remote?: string; jobs?: number } = {}): Promise<{ fetched: number; failed: Array<{ oid: Oid; code: string; message: string }> }> {
  const { repo } = ctx;
  const wanted = [...new Set(oids)].filter((oid) => !repo.cache.has(oid));
  if (wanted.length === 0) return { fetched: 0, failed: [] };
  const remote = await openRemote(ctx, options);
  const state = await repo.statCache();
  try {
    const result: FetchResult = { remote: { name: remote.spec.name, url: remote.url }, fetched: 0, bytes: 0, alreadyInCache: 0, failures: [], withdrawn: [], warnings: [] };
    await download(ctx, remote, state, wanted.map((oid) => ({ oid, path: '', size: 0 })), result);
    return { fetched: result.fetched, failed: result.failures.map((f) => ({ oid: f.oid, code: f.code, message: f.message })) };
  } finally {
    state.flush();
    await remote.close();
  }
}
