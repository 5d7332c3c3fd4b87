import { DvsError } from '../errors.js';
import type { Oid } from '../objects/oid.js';
import type { ListedObject, RemoteBackend } from '../remotes/types.js';
import { processQueue, type QueueItem, type QueueSettings } from './queue.js';

/**
 * Which objects a remote has, found cheaply: a batched existence check (a HEAD per object on object
 * stores) for a few objects, a listing of the shards involved when the request is large relative to
 * the remote. The first shard listing doubles as the estimate of the remote's size (DVC does the same).
 */
export interface PresenceContext {
  backend: RemoteBackend;
  settings: QueueSettings;
}

/** Below this many unknown objects, existence checks are always cheaper than any listing. */
const ALWAYS_STAT = 256;
const SHARDS = 256;
/** Stands for "no shard: the whole prefix" in listObjects. */
const ALL = '*';

/** Present objects among `oids`, with their sizes. */
export async function findPresent(ctx: PresenceContext, oids: Iterable<Oid>): Promise<Map<Oid, number>> {
  const unique = [...new Set(oids)];
  // A store that cannot list (a web server) is asked object by object, however many there are.
  if (unique.length <= ALWAYS_STAT || !ctx.backend.list) return statObjects(ctx, unique);
  const { backend } = ctx;
  const byShard = new Map<string, Oid[]>();
  for (const oid of unique) {
    const s = oid.slice(0, 2);
    const list = byShard.get(s);
    if (list) list.push(oid);
    else byShard.set(s, [oid]);
  }
  const statCost = Math.ceil(unique.length / backend.statBatchSize);
  // List the fullest shard first: it tells how big the remote is.
  const [firstShard, firstOids] = [...byShard.entries()].sort((a, b) => b[1].length - a[1].length)[0];
  const first = await listObjects(ctx, [firstShard]);
  const perShard = first.size;
  const pagesPerShard = Math.max(1, Math.ceil(perShard / backend.listPageSize));
  const listCost = (byShard.size - 1) * pagesPerShard;
  const present = new Map<Oid, number>();
  for (const oid of firstOids) {
    const hit = first.get(oid);
    if (hit) present.set(oid, hit.size);
  }
  const rest = unique.filter((o) => o.slice(0, 2) !== firstShard);
  if (listCost < statCost - Math.ceil(firstOids.length / backend.statBatchSize)) {
    const listed = await listObjects(ctx, [...byShard.keys()].filter((s) => s !== firstShard));
    for (const oid of rest) {
      const hit = listed.get(oid);
      if (hit) present.set(oid, hit.size);
    }
  } else {
    for (const [oid, size] of await statObjects(ctx, rest)) present.set(oid, size);
  }
  return present;
}

/** Existence checks in batches of the backend's size, through the queue (retries, progress). */
export async function statObjects(ctx: PresenceContext, oids: Oid[]): Promise<Map<Oid, number>> {
  const { backend } = ctx;
  const items: Array<QueueItem<Oid[]>> = [];
  for (let i = 0; i < oids.length; i += backend.statBatchSize) {
    const batch = oids.slice(i, i + backend.statBatchSize);
    items.push({ key: batch[0], size: 0, count: batch.length, value: batch });
  }
  const r = await processQueue('query', items, (batch, call) => backend.stat(batch, call), ctx.settings);
  if (r.failed.length) throw checkFailed(r.failed[0].error, r.failed.length);
  const present = new Map<Oid, number>();
  for (const { item, result } of r.done) {
    item.value.forEach((oid, i) => {
      const size = result[i];
      if (size !== undefined) present.set(oid, size);
    });
  }
  return present;
}

/**
 * List the given shards, or the whole remote. On object stores a whole listing is one shard first (an
 * estimate of the size): a small remote is then listed in one paginated run, a big one shard by shard
 * in parallel (256 requests at least, but `jobs` at a time instead of one page after another).
 */
export async function listObjects(ctx: PresenceContext, shards?: string[]): Promise<Map<Oid, ListedObject>> {
  const { backend } = ctx;
  const list = backend.list?.bind(backend);
  if (!list) {
    throw new DvsError('REMOTE_CANNOT_LIST', `${ctx.settings.label ?? 'The remote'} cannot be listed (a web server only answers for objects it is asked about)`, {
      hint: 'Run this on a remote that can be listed: the directory or bucket the web server publishes.',
    });
  }
  if (shards === undefined && backend.network) {
    const first = await listObjects(ctx, ['00']);
    const estimate = first.size * SHARDS;
    if (estimate <= backend.listPageSize * 8) return listObjects(ctx, [ALL]);
    const rest = await listObjects(ctx, allShards().slice(1));
    for (const [oid, o] of first) rest.set(oid, o);
    return rest;
  }
  const wanted: Array<string | undefined> = shards?.map((s) => (s === ALL ? undefined : s)) ?? [undefined];
  const items = wanted.map((s) => ({ key: s ?? '*', size: 0, count: 0, value: s }));
  const out = new Map<Oid, ListedObject>();
  const r = await processQueue(
    'query',
    items,
    async (shard, call) => {
      // A retried shard starts again from its first page; collect per attempt.
      const found: ListedObject[] = [];
      for await (const page of list(shard, call)) {
        found.push(...page);
        call.onBytes?.(0);
      }
      return found;
    },
    ctx.settings,
  );
  if (r.failed.length) throw checkFailed(r.failed[0].error, r.failed.length);
  for (const { result } of r.done) for (const o of result) out.set(o.oid, o);
  return out;
}

export function allShards(): string[] {
  return Array.from({ length: SHARDS }, (_, i) => i.toString(16).padStart(2, '0'));
}

function checkFailed(error: DvsError, n: number): DvsError {
  return new DvsError(error.code, `Could not ask the remote which objects it has: ${error.message}${n > 1 ? ` (and ${n - 1} more failures)` : ''}`, {
    hint: error.hint ?? 'Run the command again; check the remote with `dvs remote list`.',
    data: error.data,
    cause: error,
  });
}
