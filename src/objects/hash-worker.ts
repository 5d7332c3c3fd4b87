import { parentPort } from 'node:worker_threads';
import { rmSync } from 'node:fs';
import { ObjectCache } from './cache.js';
import { CHUNK_SIZE, hashFileSync } from './hash.js';
import type { HashTask, HashOutcome } from './hash-pool.js';

/**
 * A hashing thread: reads each file once with a reused buffer, hashing it and (for `store`) writing the
 * cache copy in the same pass. Blocking I/O is the point here: each thread keeps one core busy.
 */
const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
const caches = new Map<string, ObjectCache>();

function cacheFor(root: string): ObjectCache {
  let cache = caches.get(root);
  if (!cache) caches.set(root, (cache = new ObjectCache(root)));
  return cache;
}

function runTask(task: HashTask): HashOutcome {
  let tmp: string | undefined;
  try {
    if (task.cacheRoot === undefined) {
      return { id: task.id, ok: true, result: hashFileSync(task.path, buffer) };
    }
    const cache = cacheFor(task.cacheRoot);
    tmp = cache.tempPath();
    const result = hashFileSync(task.path, buffer, tmp);
    return { id: task.id, ok: true, result: { ...result, placed: cache.commit(tmp, result.oid) } };
  } catch (err) {
    if (tmp !== undefined) rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    return { id: task.id, ok: false, error: { code: e.code, message: e.message } };
  }
}

parentPort!.on('message', (batch: HashTask[]) => {
  parentPort!.postMessage(batch.map(runTask));
});
