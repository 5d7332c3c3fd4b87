/**
 * Benchmark of the content diff, called by the benchmark runner (not by the CLI). It generates its own
 * data under `workDir`:
 *   - two versions of a ~1 GB CSV (id, domain, text, score; ~10 M rows) where 1% of rows differ, diffed
 *     without and with a key, and without a worker thread; reports MB/s per version read and peak RSS;
 *   - two 50-file partitioned Parquet datasets, diffed from footers only; reports the time.
 * Peak RSS is sampled every 20 ms during each diff (the process-wide maxRSS would include whatever the
 * runner did before).
 *
 * Each CSV mode is meant to run as the first diff of a fresh process (`benchCsvMode`, which
 * bench/content.mjs runs in a child process per mode), as `dvs diff --content` runs it: in one process, a
 * later mode found the earlier ones' hot code already compiled by V8 (about 0.7 s CPU less on the 1M-row
 * pair), while the worker thread of the default mode always starts cold, so one thread looked faster
 * than it is for a user and the default slower next to it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { datasetTotals, diffContent, diffPartitions, type TotalsEntry } from './index.js';
import type { StatsStore } from './stats-cache.js';
import { fileSource } from './file-source.js';
import type { ContentDiff, ContentDiffOptions, FileStats } from './types.js';

export interface BenchRun {
  seconds: number;
  /**
   * Bytes of both versions / wall time, as the first release defined "MB/s per version" when it read the
   * versions one after the other. With the second version in a worker thread, each thread reads its own
   * version at about half this rate.
   */
  mbPerSecondPerVersion: number;
  /** CPU time of the process during the diff, and the same rate per CPU second (less sensitive to load). */
  cpuSeconds: number;
  mbPerCpuSecondPerVersion: number;
  peakRssMB: number;
  added: number;
  removed: number;
  changed: number | null;
  estimated: boolean;
}

export interface ContentDiffBenchResult {
  /** multiset and keyed: the default (the after version in a worker thread); sequential: one thread. */
  csv: { rows: number; bytesPerVersion: number; differingRows: number; multiset: BenchRun; keyed: BenchRun; sequential: BenchRun };
  /** streamOpens 0 and footerBytesRead ≪ the files' size: no row was read. */
  parquetFooters: { filesPerVersion: number; milliseconds: number; footerBytesRead: number; streamOpens: number };
  /** Dataset totals of the same two datasets: every footer read (cold), then all from a stats store (warm). */
  parquetTotals: TotalsBench;
}

export interface TotalsBench {
  filesPerVersion: number;
  coldMilliseconds: number;
  coldRead: number;
  warmMilliseconds: number;
  warmRead: number;
  warmCached: number;
  rowsAfter: number | null;
}

/** Totals of two partitioned Parquet datasets: footers read once, then every file's statistics from the store. */
export async function benchDatasetTotals(before: string[], after: string[]): Promise<TotalsBench> {
  const memory = new Map<string, FileStats>();
  const store: StatsStore = { get: (k, kind) => memory.get(`${k}.${kind}`), put: (k, kind, s) => void memory.set(`${k}.${kind}`, s) };
  // Content keys are oids, which dvs has from the manifests: computed here before the clock starts.
  const keys = new Map([...before, ...after].map((p) => [p, createHash('sha256').update(readFileSync(p)).digest('hex')]));
  const entries = (list: string[]): TotalsEntry[] => list.map((p) => ({ path: p, format: 'parquet', key: keys.get(p), open: () => fileSource(p) }));
  const t0 = performance.now();
  const cold = await datasetTotals(entries(before), entries(after), { store });
  const coldMilliseconds = round(performance.now() - t0);
  const t1 = performance.now();
  const warm = await datasetTotals(entries(before), entries(after), { store });
  const warmMilliseconds = round(performance.now() - t1);
  return { filesPerVersion: before.length, coldMilliseconds, coldRead: cold.read.length, warmMilliseconds, warmRead: warm.read.length, warmCached: warm.cached.length, rowsAfter: warm.rows.after };
}

const DOMAINS = ['math', 'code', 'news', 'web', 'books', 'science', 'legal', 'chat'];
const WORDS = 'the of and to in is was for on that with as by at from his her it an were are which this be or has had not but what all when we there can been one would will more if no out so said who up its about into than them only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

/** xorshift32: fast, reproducible pseudo-random numbers for the generator. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Two versions of a CSV; in `after`, every 100th row has a different score (1% of rows differ). */
export async function generateCsvPair(dir: string, rows: number): Promise<{ before: string; after: string; differing: number }> {
  const before = join(dir, 'before.csv');
  const after = join(dir, 'after.csv');
  const marker = join(dir, `.generated-${rows}`);
  const differing = Math.floor((rows + 99 - 42) / 100);
  if (existsSync(marker)) return { before, after, differing };
  const a = createWriteStream(before);
  const b = createWriteStream(after);
  const write = async (s: NodeJS.WritableStream, text: string): Promise<void> => {
    if (!s.write(text)) await once(s, 'drain');
  };
  const rand = rng(12345);
  let blockA = 'id,domain,text,score\n';
  let blockB = blockA;
  for (let i = 0; i < rows; i++) {
    const n = 12 + Math.floor(rand() * 9); // ~100-byte rows: 10 M rows ≈ 1 GB
    let text = WORDS[Math.floor(rand() * WORDS.length)]!;
    for (let w = 1; w < n; w++) text += ' ' + WORDS[Math.floor(rand() * WORDS.length)]!;
    // Every 16th text has a comma, so some rows take the quoted path as in real data.
    if (i % 16 === 0) text = `"${text}, ${i}"`;
    const domain = DOMAINS[Math.floor(rand() * DOMAINS.length)]!;
    const score = rand().toFixed(4);
    const head = `${i},${domain},${text},`;
    blockA += head + score + '\n';
    blockB += head + (i % 100 === 42 ? (1 - Number(score)).toFixed(4) + '1' : score) + '\n';
    if (blockA.length > 1 << 22) {
      await Promise.all([write(a, blockA), write(b, blockB)]);
      blockA = '';
      blockB = '';
    }
  }
  await Promise.all([write(a, blockA), write(b, blockB)]);
  await Promise.all([new Promise((r) => a.end(r)), new Promise((r) => b.end(r))]);
  await writeFile(marker, '');
  return { before, after, differing };
}

async function measure(run: () => Promise<ContentDiff>, bytes: number): Promise<BenchRun> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const d = await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  return {
    seconds: round(seconds),
    mbPerSecondPerVersion: round((2 * bytes) / 1e6 / seconds),
    cpuSeconds: round(cpuSeconds),
    mbPerCpuSecondPerVersion: round((2 * bytes) / 1e6 / cpuSeconds),
    peakRssMB: Math.round(peak / 1e6),
    added: d.rowDiff?.added ?? 0,
    removed: d.rowDiff?.removed ?? 0,
    changed: d.rowDiff?.changed ?? null,
    estimated: d.estimated,
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export async function parquetDatasets(dir: string, files: number): Promise<{ before: string[]; after: string[] }> {
  // hyparquet-writer is a dev dependency: load it only here, never from the CLI.
  const { parquetWriteFile } = await import('hyparquet-writer');
  const before: string[] = [];
  const after: string[] = [];
  for (const side of ['before', 'after'] as const) {
    await mkdir(join(dir, side), { recursive: true });
    for (let f = 0; f < files; f++) {
      const path = join(dir, side, `part-${String(f).padStart(3, '0')}.parquet`);
      (side === 'before' ? before : after).push(path);
      if (existsSync(path)) continue;
      const n = 20_000 + (side === 'after' && f % 10 === 0 ? 500 : 0);
      const rand = rng(f + 1);
      const ids = Array.from({ length: n }, (_, i) => f * 1e6 + i);
      parquetWriteFile({
        filename: path,
        rowGroupSize: 5_000,
        columnData: [
          { name: 'id', data: ids.map((x) => BigInt(x)), type: 'INT64' },
          { name: 'domain', data: ids.map(() => DOMAINS[Math.floor(rand() * DOMAINS.length)]!), type: 'STRING' },
          { name: 'score', data: ids.map(() => (side === 'after' && f === 3 ? 2 : 1) * rand()), type: 'DOUBLE' },
        ],
      });
    }
  }
  return { before, after };
}

/** The CSV diffs measured: the default (multiset, `after` in a worker thread), by key, and on one thread. */
export type CsvBenchMode = 'multiset' | 'keyed' | 'sequential';

const CSV_OPTIONS: Record<CsvBenchMode, ContentDiffOptions> = {
  multiset: { rows: 5 },
  keyed: { rows: 5, key: 'id' },
  sequential: { rows: 5, parallel: false },
};

/** Where benchContentDiff and benchCsvPair put the CSV pair under a work directory. */
export function csvPairDir(workDir: string): string {
  return join(workDir, 'content-diff-csv');
}

/** Generate (once) the CSV pair of `rows` rows under workDir; its size per version. */
export async function benchCsvPair(workDir: string, rows: number): Promise<{ before: string; after: string; differing: number; bytes: number }> {
  const dir = csvPairDir(workDir);
  await mkdir(dir, { recursive: true });
  const pair = await generateCsvPair(dir, rows);
  return { ...pair, bytes: (await stat(pair.before)).size };
}

/**
 * One diff of the CSV pair under workDir (generated by benchCsvPair) in one mode. Call it in a fresh
 * process to measure what a user's `dvs diff --content` gets (see the top of this file).
 */
export async function benchCsvMode(workDir: string, mode: CsvBenchMode): Promise<BenchRun> {
  const dir = csvPairDir(workDir);
  const before = join(dir, 'before.csv');
  const after = join(dir, 'after.csv');
  const bytes = (await stat(before)).size;
  return measure(async () => diffContent(await fileSource(before), await fileSource(after), CSV_OPTIONS[mode]), bytes);
}

/** All three CSV modes in this process, one after the other (later ones run warm: see the top of this file). */
export async function benchContentDiff(workDir: string, options: { rows?: number } = {}): Promise<ContentDiffBenchResult> {
  const rows = options.rows ?? 10_000_000;
  const { differing, bytes } = await benchCsvPair(workDir, rows);
  const multiset = await benchCsvMode(workDir, 'multiset');
  const keyed = await benchCsvMode(workDir, 'keyed');
  const sequential = await benchCsvMode(workDir, 'sequential');
  return {
    csv: { rows, bytesPerVersion: bytes, differingRows: differing, multiset, keyed, sequential },
    ...(await benchParquetDiff(workDir)),
  };
}

/** The footer-only diff and the dataset totals of two generated 50-file Parquet datasets. */
export async function benchParquetDiff(workDir: string): Promise<Pick<ContentDiffBenchResult, 'parquetFooters' | 'parquetTotals'>> {
  const pq = await parquetDatasets(join(workDir, 'content-diff-parquet'), 50);
  let footerBytesRead = 0;
  let streamOpens = 0;
  const counted = async (p: string) => {
    const s = await fileSource(p);
    const readRange = s.readRange!;
    return {
      ...s,
      open: () => (streamOpens++, s.open()),
      readRange: async (a: number, b: number) => ((footerBytesRead += b - a), readRange(a, b)),
    };
  };
  const t0 = performance.now();
  const sources = await Promise.all([Promise.all(pq.before.map(counted)), Promise.all(pq.after.map(counted))]);
  await diffPartitions(sources[0], sources[1]);
  const milliseconds = round(performance.now() - t0);
  return {
    parquetFooters: { filesPerVersion: 50, milliseconds, footerBytesRead, streamOpens },
    parquetTotals: await benchDatasetTotals(pq.before, pq.after),
  };
}
