import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashResult } from './hash.js';

/**
 * Hash (and optionally store) many files on worker threads, one per core. Work is handed out in small
 * batches so that a thread never idles while another holds a long queue, and so that message passing
 * costs little next to the hashing of small files.
 */
export interface HashTask {
  id: number;
  path: string;
  /** When set, the bytes are also written into this cache. */
  cacheRoot?: string;
  size: number;
}

export type HashOutcome =
  | { id: number; ok: true; result: HashResult & { placed?: boolean } }
  | { id: number; ok: false; error: { code?: string; message: string } };

const BATCH_BYTES = 4 << 20;
const BATCH_FILES = 64;

export class HashPool {
  private readonly workers: Worker[] = [];

  constructor(size = defaultPoolSize()) {
    for (let i = 0; i < size; i++) {
      // A small young generation: a hashing thread allocates little, and each MB here is resident in
      // every thread (peak memory of track on 100,000 files is a target).
      const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /**
   * Run tasks; `onOutcome` is called as each finishes. Resolves when all are done. Tasks may be given
   * as a count and a function that makes task k, so that 100,000 task objects never exist at once.
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
      let busy = 0;
      const feed = (worker: Worker) => {
        const batch = takeBatch();
        if (batch.length === 0) {
          if (busy === 0) resolve();
          return;
        }
        busy++;
        worker.once('message', (outcomes: HashOutcome[]) => {
          busy--;
          for (const o of outcomes) onOutcome(o);
          feed(worker);
        });
        worker.postMessage(batch);
      };
      for (const worker of this.workers) {
        worker.once('error', reject);
        feed(worker);
      }
      if (count === 0) resolve();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

export function defaultPoolSize(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}
