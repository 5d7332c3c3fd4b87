import { parentPort } from 'node:worker_threads';
import { ObjectCache } from './cache.js';
import { CHUNK_SIZE, hashFileSync } from './hash.js';
import type { HashTask, HashOutcome } from './hash-pool.js';
import { storeFileSync } from './store-file.js';

/**
 * A hashing thread: hashes each file with a reused buffer or, when storing, puts it into the cache too
 * (a kernel copy that is then hashed, or a link). Blocking I/O is the point here: each thread keeps one
 * core busy.
 */
const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
const caches = new Map<string, ObjectCache>();

function cacheFor(root: string): ObjectCache {
  let cache = caches.get(root);
  if (!cache) caches.set(root, (cache = new ObjectCache(root)));
  return cache;
}

function runTask(task: HashTask): HashOutcome {
  try {
    if (task.store === undefined) return { id: task.id, ok: true, result: hashFileSync(task.path, buffer) };
    return { id: task.id, ok: true, result: storeFileSync(cacheFor(task.store.cacheRoot), task.path, buffer, task.store.mode) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { id: task.id, ok: false, error: { code: e.code, message: e.message } };
  }
}

parentPort!.on('message', (batch: HashTask[]) => {
  parentPort!.postMessage(batch.map(runTask));
});
