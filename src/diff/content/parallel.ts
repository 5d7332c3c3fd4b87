/**
 * Scanning the two versions at once: the second version's files are read by a worker thread while this
 * thread reads the first. Statistics and row hashing are CPU-bound, so on a machine with two free cores
 * this halves the wall time of a big diff.
 *
 * Only for sources that name a local `file` (a worker cannot call the caller's `open()`), and only when
 * running as compiled JavaScript (the worker is a .js file next to this one; under a TypeScript test
 * runner the scan simply stays on this thread).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProgressEvent } from '../../events.js';
import type { LogData } from './partition-log.js';
import { Columns } from './reader.js';
import type { RetainedRows, ScanPlan, SideFile, SideScan } from './scan.js';
import type { TableSummary, TabularFormat } from './types.js';

/** A version this big (in bytes) is worth a worker thread by default. */
export const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;

const WORKER = new URL('./scan-worker.js', import.meta.url);

/**
 * The worker's young generation (V8's new space: three semi-spaces' worth) is capped at 8 MB semi-spaces
 * instead of the default 16 MB. A scan allocates its decoded text there; left to grow, the new space of
 * a fresh thread touches some 16 MB more of fresh memory, whose page faults cost more than the extra
 * scavenges: on the 1M-row CSV, 4,000 fewer page faults and about 7% less CPU time for the whole diff.
 */
const WORKER_YOUNG_GENERATION_MB = 24;

export interface WorkerInput {
  files: { file: string; path: string; format: TabularFormat }[];
  plan: Pick<ScanPlan, 'side' | 'stats' | 'parquetRows' | 'key' | 'normalizeNumbers' | 'retain'> & { compare: string[] | null };
  mode: 'none' | 'multiset' | 'key';
  budget: number;
}

export interface WorkerOutput {
  type: 'done';
  summary: TableSummary;
  columns: string[];
  readable: number;
  log?: { log: LogData; shift: number; nullKeys: number };
  retained?: RetainedRows;
}

/** Whether these files can be scanned in a worker, and (unless forced) are big enough to. */
export function canScanInWorker(files: SideFile[], force: boolean | undefined): boolean {
  if (force === false || files.length === 0) return false;
  if (!files.every((f) => f.source.file !== undefined)) return false;
  if (!workerAvailable()) return false;
  return force === true || files.reduce((n, f) => n + f.source.size, 0) >= PARALLEL_MIN_BYTES;
}

/** Compiled JavaScript with the worker's file next to it (not a TypeScript test runner). */
function workerAvailable(): boolean {
  return import.meta.url.endsWith('.js') && existsSync(fileURLToPath(WORKER));
}

let spare: ScanWorker | undefined;

/**
 * Start a worker thread for a content diff that is about to come (`dvs diff --content`, before the
 * manifests are read), when its biggest version (`bytes`) is big enough to be scanned in one: the next
 * diff that scans in a worker takes it instead of starting one, so the thread's start (60-90 ms on an
 * idle machine, more on a busy one) is over by then. An unused one does not keep the process alive.
 */
export function prestartScanWorker(bytes: number): void {
  if (bytes >= PARALLEL_MIN_BYTES && spare === undefined && workerAvailable()) spare = new ScanWorker(false);
}

/** The prestarted worker if there is one (and it is still alive), else a new one. */
export function takeScanWorker(): ScanWorker {
  const w = spare;
  spare = undefined;
  if (w?.alive) {
    w.keep();
    return w;
  }
  return new ScanWorker();
}

/**
 * A worker thread started before its input is known: Node's start of a thread (some 60-90 ms, more on a
 * busy machine) then overlaps the reading of footers and headers on this thread, instead of delaying
 * the second version's scan and leaving this thread idle at the end. Give it its input with scan(), or
 * end() it: a worker never given input would keep the process alive.
 */
export class ScanWorker {
  private readonly worker = new Worker(WORKER, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  private readonly done: Promise<WorkerOutput>;
  private onProgress: ScanPlan['onProgress'];
  private given = false;
  /** The thread has not exited (a prestarted one may have failed to start). */
  alive = true;

  /** `keep` false: the thread does not keep the process alive until keep() (a prestarted spare). */
  constructor(keep = true) {
    this.worker.on('exit', () => (this.alive = false));
    this.done = new Promise((resolve, reject) => {
      let finished = false;
      this.worker.on('message', (m: WorkerOutput | { type: 'progress'; event: ProgressEvent }) => {
        if (m.type === 'progress') {
          this.onProgress?.(m.event);
          return;
        }
        finished = true;
        resolve(m);
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => {
        if (!finished) reject(new Error(`content diff worker exited with code ${code} before finishing`));
      });
    });
    // Until scan() is called nobody awaits `done`: an early failure must not be an unhandled rejection.
    this.done.catch(() => undefined);
    // After the listeners: adding one refs the thread again.
    if (!keep) this.worker.unref();
  }

  scan(files: SideFile[], plan: ScanPlan, mode: WorkerInput['mode'], budget: number): Promise<{ scan: SideScan; log?: WorkerOutput['log'] }> {
    const input: WorkerInput = {
      files: files.map((f) => ({ file: f.source.file!, path: f.source.path, format: f.format })),
      plan: { side: plan.side, stats: plan.stats, parquetRows: plan.parquetRows, key: plan.key, normalizeNumbers: plan.normalizeNumbers, retain: plan.retain, compare: plan.compare ? [...plan.compare] : null },
      mode,
      budget,
    };
    this.onProgress = plan.onProgress;
    this.given = true;
    this.worker.postMessage(input);
    return this.done.then((m) => {
      const columns = new Columns();
      for (const name of m.columns) columns.indexOf(name);
      return { scan: { summary: m.summary, columns, readable: m.readable, retained: m.retained }, log: m.log };
    });
  }

  /** From now on the thread keeps the process alive, like any other. */
  keep(): void {
    this.worker.ref();
  }

  /** Stop the thread if it was never given its input (the diff failed or took another path before the scan). */
  end(): void {
    if (!this.given) void this.worker.terminate();
  }
}
