import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { HashResult } from './hash.js';
import type { StoreMode, StoredFile } from './store-file.js';

/**
 * Hash (and optionally store) many files on worker threads, one per core. Work is handed out in small
 * batches so that a thread never idles while another holds a long queue, and so that message passing
 * costs little next to the hashing of small files.
 */
export interface HashTask {
  id: number;
  path: string;
  /** When set, the file is also put into this cache, by copy or link. */
  store?: { cacheRoot: string; mode: StoreMode };
  size: number;
}

export type HashOutcome =
  | { id: number; ok: true; result: HashResult | StoredFile }
  | { id: number; ok: false; error: { code?: string; message: string } };

const BATCH_BYTES = 4 << 20;
const BATCH_FILES = 64;

export class HashPool {
  private readonly workers: Worker[] = [];

  constructor(size = defaultPoolSize()) {
    // Loaded here, not imported: a status that reads no file (all vouched for by the stat cache) loads
    // this module for hashFiles but starts no thread, and node:worker_threads costs it milliseconds.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    for (let i = 0; i < size; i++) {
      // A small young generation: a hashing thread allocates little, and each MB here is resident in
      // every thread (peak memory of track on 100,000 files is a target).
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Run tasks; `onOutcome` is called as each finishes. Resolves when all are done; rejects if a thread
   * dies or `onOutcome` throws, after which the pool is not to be used again (batches may still be in
   * flight). Tasks may be given as a count and a function that makes task k, so that 100,000 task
   * objects never exist at once.
   */
  run(tasks: HashTask[] | { count: number; at: (k: number) => HashTask }, onOutcome: (outcome: HashOutcome) => void): Promise<void> {
    const count = Array.isArray(tasks) ? tasks.length : tasks.count;
    const at = Array.isArray(tasks) ? (k: number) => tasks[k] : tasks.at;
    let next = 0;
    let pending: HashTask | undefined;
    const takeBatch = (): HashTask[] => {
      const batch: HashTask[] = [];
      let bytes = 0;
      while (batch.length < BATCH_FILES) {
        if (!pending) {
          if (next >= count) break;
          pending = at(next++);
        }
        if (batch.length > 0 && bytes + pending.size > BATCH_BYTES) break;
        bytes += pending.size;
        batch.push(pending);
        pending = undefined;
      }
      return batch;
    };
    return new Promise((resolve, reject) => {
      let inFlight = 0;
      let settled = false;
      const detach: Array<() => void> = [];
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        for (const off of detach) off();
        if (err === undefined) resolve();
        else reject(err);
      };
      const send = (worker: Worker) => {
        const batch = takeBatch();
        if (batch.length === 0) return;
        inFlight++;
        worker.postMessage(batch);
      };
      for (const worker of this.workers) {
        const onMessage = (outcomes: HashOutcome[]) => {
          inFlight--;
          // Hand out the next batch before recording these results, so that the thread never waits on us.
          send(worker);
          try {
            for (const o of outcomes) onOutcome(o);
          } catch (err) {
            settle(err);
            return;
          }
          if (inFlight === 0) settle();
        };
        worker.on('message', onMessage);
        worker.on('error', settle);
        detach.push(() => {
          worker.off('message', onMessage);
          worker.off('error', settle);
        });
        // Two batches in flight per thread: one being worked on, one waiting.
        send(worker);
        send(worker);
      }
      if (inFlight === 0) settle();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}
