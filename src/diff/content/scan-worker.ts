/**
 * Worker thread entry: waits for its input, scans one version of a file (or partitioned directory) of
 * local files and posts back its summary, its columns and its row-hash log. See parallel.ts.
 */
import { parentPort } from 'node:worker_threads';
import { fileSource } from './file-source.js';
import type { WorkerInput, WorkerOutput } from './parallel.js';
import { KeyTable, MultisetTable } from './rowdiff.js';
import { scanSide } from './scan.js';

const port = parentPort!;
// The input comes as a message rather than as workerData: the thread is started before its input is
// known (parallel.ts), and this module's imports load meanwhile.
const input = await new Promise<WorkerInput>((resolve) => port.once('message', resolve));
const files = await Promise.all(input.files.map(async (f) => ({ source: await fileSource(f.file, f.path), format: f.format })));
// The log is cut from slabs: a few buffers to hand over at the end instead of one per chunk.
const table = input.mode === 'none' ? undefined : input.mode === 'key' ? new KeyTable(input.budget, true) : new MultisetTable(input.budget, true);
const sideIndex = input.plan.side === 'before' ? 0 : 1;
if (table) table.side = sideIndex;
const scan = await scanSide(files, {
  ...input.plan,
  compare: input.plan.compare === null ? null : new Set(input.plan.compare),
  consumer: table,
  parquet: new Map(),
  onProgress: (event) => port.postMessage({ type: 'progress', event }),
});
const log = table?.exportSide(sideIndex);
const out: WorkerOutput = { type: 'done', summary: scan.summary, columns: scan.columns.names, readable: scan.readable, log, retained: scan.retained };
// Hand the log's arrays over instead of copying them (hundreds of MB for 10 M rows).
const transfer = log ? [...log.log.buffers, log.log.pos.buffer, log.log.count.buffer] : [];
port.postMessage(out, transfer as ArrayBuffer[]);
