import { parentPort } from 'node:worker_threads';
import { rmSync } from 'node:fs';
import { copyAndHash } from '../objects/hash.js';

/**
 * A copying thread for local remotes: the kernel copies a file while this thread hashes it (copyAndHash).
 * One thread per core lets a pull of a few big files use every core.
 */
export interface CopyTask {
  id: number;
  src: string;
  dest: string;
}

export type CopyOutcome =
  | { id: number; ok: true; oid: string; size: number }
  | { id: number; ok: false; code?: string; message: string };

parentPort!.on('message', async (task: CopyTask) => {
  let outcome: CopyOutcome;
  try {
    const r = await copyAndHash(task.src, task.dest);
    outcome = { id: task.id, ok: true, oid: r.oid, size: r.size };
  } catch (err) {
    rmSync(task.dest, { force: true });
    const e = err as NodeJS.ErrnoException;
    outcome = { id: task.id, ok: false, code: e.code, message: e.message };
  }
  parentPort!.postMessage(outcome);
});
