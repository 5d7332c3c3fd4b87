import type { Oid } from '../objects/oid.js';
import { recordObject } from '../objects/hash-files.js';
import type { StateCache } from '../objects/state.js';
import { downloadToCache } from '../transfer/download.js';
import { runQueue, type QueueItem } from '../transfer/queue.js';
import type { OpContext } from './context.js';
import { canonicalUrl } from '../remotes/url.js';
import { openRemote, remoteSpec, type OpenRemote } from './remote-open.js';
import { failureOf, type RemoteRef, type TransferFailure } from './transfer-failures.js';
import { cacheLookup, expandNeeds, scopedPointers, type ScopedPointer, type TransferScope } from './transfer-scope.js';

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
}

/**
 * Download into the cache what the pointers in scope need and the cache lacks. Directory manifests
 * come first (they say which files a directory needs); a path inside a tracked directory fetches only
 * the manifest and the files under that path. Every download is verified before it enters the cache.
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
  const state = await repo.state();
  try {
    const result: FetchResult = { remote: { name: spec.name, url: canonicalUrl(spec.location, spec.options.endpoint) }, fetched: 0, bytes: 0, alreadyInCache: 0, failures: [] };
    // 1. Manifests the cache lacks.
    const manifests = new Map<Oid, string>();
    const cachedManifests = new Set<Oid>();
    for (const p of pointers) {
      if (p.pointer.kind !== 'dir' || manifests.has(p.pointer.oid) || cachedManifests.has(p.pointer.oid)) continue;
      if (repo.cache.has(p.pointer.oid)) cachedManifests.add(p.pointer.oid);
      else manifests.set(p.pointer.oid, `${p.dataPath}${p.commit ? ` (at ${p.commit.slice(0, 10)})` : ''} (manifest)`);
    }
    result.alreadyInCache += cachedManifests.size;
    await download(ctx, remote, state, [...manifests].map(([oid, path]) => ({ oid, path, size: 0 })), result);
    // 2. The files they and the file pointers need.
    const needs = expandNeeds(repo, pointers);
    const has = cacheLookup(repo, needs.files.size);
    const wanted: Array<{ oid: Oid; path: string; size: number }> = [];
    for (const [oid, info] of needs.files) {
      if (has(oid)) result.alreadyInCache++;
      else wanted.push({ oid, ...info });
    }
    await download(ctx, remote, state, wanted, result);
    return result;
  } finally {
    state.flush();
    await opened?.close();
  }
}

async function download(ctx: OpContext, open: OpenRemote | (() => Promise<OpenRemote>), state: StateCache, wanted: Array<{ oid: Oid; path: string; size: number }>, result: FetchResult): Promise<void> {
  if (wanted.length === 0) return;
  const { repo } = ctx;
  const remote = typeof open === 'function' ? await open() : open;
  const { backend, known, settings, spec } = remote;
  const items: Array<QueueItem<{ oid: Oid; path: string }>> = wanted.map((w) => ({ key: w.oid, size: w.size, value: w }));
  try {
    const r = await runQueue('download', items, (w, call) => downloadToCache(backend, repo.cache, w.oid, call, spec.name), settings, (item, got) => {
      // Recorded as verified, so that checkout does not hash it again.
      recordObject(repo.cache, state, item.key);
      known.add(item.key);
      result.fetched++;
      result.bytes += got.size;
    });
    for (const f of r.failed) {
      if (f.error.code === 'REMOTE_OBJECT_MISSING') known.delete(f.item.key);
      result.failures.push(failureOf(f.item.value.path, f.item.key, f.error));
    }
  } finally {
    known.flush();
  }
}

/**
 * Fetch exactly these objects into the cache (those it lacks), for callers that know what they need:
 * `dvs diff` fetching manifests lazily, the post-checkout hook's autofetch. Takes no lock (every cache
 * write is atomic on its own). Per-object failures are returned; a remote that cannot be used at all
 * (none configured, bad credentials, unreachable) throws a DvsError.
 */
export async function fetchObjects(ctx: OpContext, oids: Oid[], options: { remote?: string; jobs?: number } = {}): Promise<{ fetched: number; failed: Array<{ oid: Oid; message: string }> }> {
  const { repo } = ctx;
  const wanted = [...new Set(oids)].filter((oid) => !repo.cache.has(oid));
  if (wanted.length === 0) return { fetched: 0, failed: [] };
  const remote = await openRemote(ctx, options);
  const state = await repo.state();
  try {
    const result: FetchResult = { remote: { name: remote.spec.name, url: remote.url }, fetched: 0, bytes: 0, alreadyInCache: 0, failures: [] };
    await download(ctx, remote, state, wanted.map((oid) => ({ oid, path: '', size: 0 })), result);
    return { fetched: result.fetched, failed: result.failures.map((f) => ({ oid: f.oid, message: f.message })) };
  } finally {
    state.flush();
    await remote.close();
  }
}
