import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CHUNK_SIZE, copyAndHash, copyAndHashSync } from '../objects/hash.js';
import type { CopyOutcome, CopyTask } from './copy-worker.js';

/**
 * Copy a file and hash it: the destination is created exclusively, read-only, and the caller
 * renames it into place only if the hash is the expected one. Small files are copied on this thread
 * (a worker round trip costs more than the copy); big ones on worker threads, one per core, so that a
 * few big files are hashed in parallel.
 */
const WORKER_MIN_BYTES = 8 << 20;

const WORKER = new URL('./copy-worker.js', import.meta.url);
const workerAvailable = existsSync(fileURLToPath(WORKER));
let pool: CopyPool | undefined;
let smallBuffer: Buffer | undefined;

export async function hashingCopy(src: string, dest: string, size: number): Promise<{ oid: string; size: number }> {
  if (size < WORKER_MIN_BYTES) {
    smallBuffer ??= Buffer.allocUnsafe(CHUNK_SIZE);
    const r = copyAndHashSync(src, dest, smallBuffer);
    return { oid: r.oid, size: r.size };
  }
  if (!workerAvailable) {
    // Running from sources (tests): no compiled worker; copy on this thread.
    const r = await copyAndHash(src, dest);
    return { oid: r.oid, size: r.size };
  }
  pool ??= new CopyPool(Math.max(1, Math.min(availableParallelism(), 4)));
  return pool.copy(src, dest);
}

/** Stop the worker threads (they are unref'd, so an idle pool never keeps the process alive). */
export async function closeCopyPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

class CopyPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly waiting: Array<{ task: Omit<CopyTask, 'id'>; resolve: (r: { oid: string; size: number }) => void; reject: (e: Error) => void }> = [];
  private nextId = 0;

  constructor(private readonly size: number) {}

  copy(src: string, dest: string): Promise<{ oid: string; size: number }> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ task: { src, dest }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length) {
      let worker = this.idle.pop();
      if (!worker && this.all.length < this.size) {
        worker = new Worker(WORKER);
        this.all.push(worker);
      }
      if (!worker) return;
      const job = this.waiting.shift()!;
      const w = worker;
      w.ref();
      const onError = (err: Error) => {
        this.all.splice(this.all.indexOf(w), 1);
        job.reject(err);
        this.pump();
      };
      w.once('error', onError);
      w.once('message', (o: CopyOutcome) => {
        w.off('error', onError);
        w.unref();
        this.idle.push(w);
        if (o.ok) job.resolve({ oid: o.oid, size: o.size });
        else job.reject(Object.assign(new Error(o.message), { code: o.code }));
        this.pump();
      });
      w.postMessage({ ...job.task, id: this.nextId++ } satisfies CopyTask);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}
