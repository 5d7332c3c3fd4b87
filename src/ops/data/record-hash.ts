import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeDirectories, writeFileAtomic } from '../../base/atomic.js';
import type { ContentSource, TabularFormat } from '../../diff/content/index.js';
import type { RecordDigest, RecordSum } from '../../diff/content/record-hash.js';
import { DvsError, isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { Repo } from '../../repo/repo.js';
import { resolveRevision } from '../../scm/git.js';
import { scanDirectory } from '../../workspace/scan.js';
import type { OpContext } from '../context.js';
import { fetchMissing } from './fetch-missing.js';
import { listData, type DataEntry } from './read-at.js';

/**
 * `dvs hash --records`: the record hash of tabular data (docs/record-hash.md), the same whatever files
 * and formats hold the records. The engine is in diff/content/record-hash.ts; this op finds the files (in
 * the workspace, or at a revision through the pointers), fetches missing objects, and caches results per
 * object: the multiset part of each file object, and the sequence digest of each file list, both pure
 * functions of the oids, so a second call reads no data.
 */
export interface RecordHashOptions {
  /** A tabular file, or a directory of them (tracked or not; with `rev`, tracked data). */
  path: string;
  /** Sequence-sensitive digest (default: multiset, independent of row order). */
  ordered?: boolean;
  /** Hash the version at this revision (from the cache, fetching what is missing). */
  rev?: string;
  /** Fetch missing objects from the default remote (default true). */
  fetch?: boolean;
}

export interface RecordHashResult {
  /** From the top of the repository. */
  path: string;
  /** The commit hashed, when a revision was named. */
  rev: string | null;
  /** `dvs-records/1`: the serialisation (docs/record-hash.md). */
  algorithm: string;
  ordered: boolean;
  /** 64 hex digits. */
  digest: string;
  rows: number;
  /** Tabular files hashed. */
  files: number;
  formats: TabularFormat[];
  /** Files in the directory that are not CSV/TSV/JSONL/Parquet, left out of the hash. */
  skipped: string[];
  /** Files (or, ordered, the whole list) answered from the record-hash cache. */
  cached: number;
  warnings: Warning[];
}

/** A file whose records are hashed: where to read it and, when known, its object id (for the cache). */
export interface RecordFile {
  /** Logical path (format, messages), from the top of the repository. */
  path: string;
  /** Where the bytes are. */
  file: string;
  oid?: Oid;
}

export const RECORD_ALGORITHM = 'dvs-records/1';

/** Per-object results in `<state dir>/record-hash/`; only a cache: unreadable entries are recomputed. */
class RecordHashCache {
  private readonly dir: string;
  hits = 0;

  constructor(repo: Repo) {
    this.dir = join(repo.paths.tmp, 'record-hash', 'v1');
  }

  private pathOf(kind: 'sum' | 'seq', key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.${kind}.json`);
  }

  private read(kind: 'sum' | 'seq', key: string): Record<string, unknown> | undefined {
    try {
      const v = JSON.parse(readFileSync(this.pathOf(kind, key), 'utf8')) as unknown;
      if (v && typeof v === 'object' && Number.isSafeInteger((v as { rows?: unknown }).rows)) return v as Record<string, unknown>;
    } catch {
      // missing or damaged: recompute
    }
    return undefined;
  }

  private write(kind: 'sum' | 'seq', key: string, value: object): void {
    try {
      const path = this.pathOf(kind, key);
      makeDirectories(join(path, '..'));
      writeFileAtomic(path, JSON.stringify(value) + '\n');
    } catch {
      // a cache that cannot be written costs time next run, nothing else
    }
  }

  sum(oid: Oid): RecordSum | undefined {
    const v = this.read('sum', oid);
    if (v === undefined || typeof v.sum !== 'string' || !/^[0-9a-f]{64}$/.test(v.sum)) return undefined;
    this.hits++;
    return { rows: v.rows as number, sum: v.sum };
  }

  setSum(oid: Oid, part: RecordSum): void {
    this.write('sum', oid, part);
  }

  sequence(key: string): RecordDigest | undefined {
    const v = this.read('seq', key);
    if (v === undefined || typeof v.digest !== 'string' || !/^[0-9a-f]{64}$/.test(v.digest)) return undefined;
    this.hits++;
    return { digest: v.digest, rows: v.rows as number, ordered: true };
  }

  setSequence(key: string, d: RecordDigest): void {
    this.write('seq', key, { digest: d.digest, rows: d.rows });
  }
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The record digest of files (any mix of formats), cached per object. Files are hashed in UTF-8 path
 * order for `ordered`. A file that cannot be read fails the whole hash: a digest of part of the data
 * would be a wrong answer, not an approximate one.
 */
export async function recordDigestOfFiles(repo: Repo, files: RecordFile[], ordered: boolean, onBytes?: (n: number) => void): Promise<RecordDigest & { cached: number }> {
  const engine = await import('../../diff/content/record-hash.js');
  const { fileSource } = await import('../../diff/content/file-source.js');
  const cache = new RecordHashCache(repo);
  const sorted = [...files].sort((a, b) => byUtf8(a.path, b.path));
  const source = async (f: RecordFile): Promise<ContentSource> => fileSource(f.file, f.path);
  const unreadable = (f: RecordFile, err: unknown): never => {
    if (isDvsError(err)) throw err;
    throw new DvsError('RECORDS_UNREADABLE', `${f.path}: cannot read its records (${(err as Error).message.split('\n')[0]})`, {
      hint: 'Fix or remove the file, or hash a path that leaves it out.',
      data: { path: f.path },
    });
  };
  if (ordered) {
    const key = sorted.every((f) => f.oid) ? createHash('sha256').update(sorted.map((f) => f.oid).join('\n')).digest('hex') : undefined;
    const hit = key === undefined ? undefined : cache.sequence(key);
    if (hit) return { ...hit, cached: 1 };
    const acc = new engine.RecordAccumulator(true);
    for (const f of sorted) {
      try {
        await engine.addRecords(acc, await source(f), { onBytes });
      } catch (err) {
        unreadable(f, err);
      }
    }
    const d = acc.digest();
    if (key !== undefined) cache.setSequence(key, d);
    return { ...d, cached: 0 };
  }
  const parts: RecordSum[] = [];
  for (const f of sorted) {
    let part = f.oid ? cache.sum(f.oid) : undefined;
    if (!part) {
      try {
        part = await engine.recordSumOf(await source(f), { onBytes });
      } catch (err) {
        unreadable(f, err);
      }
      if (f.oid) cache.setSum(f.oid, part!);
    }
    parts.push(part!);
  }
  return { ...engine.combineRecordSums(parts), cached: cache.hits };
}

/** The files a path names in the workspace, with oids the stat cache knows (unchanged since dvs read them). */
async function workspaceFiles(ctx: OpContext, rel: string, abs: string): Promise<RecordFile[]> {
  const { repo } = ctx;
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {
    throw new DvsError('PATH_NOT_FOUND', `${rel}: no such file or directory`, { hint: 'Name a CSV, TSV, JSON Lines or Parquet file, or a directory of them.', data: { path: rel } });
  }
  const state = await repo.statCache();
  if (!isDir) {
    const { stampPath } = await import('../../objects/hash-files.js');
    return [{ path: rel, file: abs, oid: state.get(stampPath(abs)) }];
  }
  const scan = scanDirectory(repo, rel);
  return scan.files.map((f) => ({ path: `${rel}/${f.rel}`, file: f.abs, oid: state.get(f.stamp) }));
}

/** What listData says of `rel`, or a single file inside a tracked directory (which it lists only from the directory). */
async function trackedAt(root: string, rel: string, rev: string): Promise<DataEntry[]> {
  try {
    return await listData(root, rel, { rev, recursive: true });
  } catch (err) {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : undefined;
    if (!isDvsError(err) || err.code !== 'NOT_TRACKED' || parent === undefined) throw err;
    const file = (await trackedAt(root, parent, rev).catch(() => [])).filter((e) => e.path === rel && e.kind === 'file');
    if (file.length === 0) throw err;
    return file;
  }
}

/** The files of tracked data at a revision, from the cache (fetching what is missing). */
async function filesAtRevision(ctx: OpContext, rel: string, rev: string, fetch: boolean, warnings: Warning[]): Promise<RecordFile[]> {
  const { repo } = ctx;
  const entries = (await trackedAt(repo.root, rel, rev)).filter((e) => e.kind === 'file');
  const { detectFormat } = await import('../../diff/content/format.js');
  const missing = [...new Set(entries.filter((e) => detectFormat(e.path) && !repo.cache.has(e.oid)).map((e) => e.oid))];
  if (missing.length && fetch) await fetchMissing(ctx, missing, 'the record hash', warnings);
  return entries.map((e) => ({ path: e.path, file: repo.cache.pathOf(e.oid), oid: e.oid }));
}

export async function recordHash(ctx: OpContext, options: RecordHashOptions): Promise<RecordHashResult> {
  const { repo } = ctx;
  const warnings: Warning[] = [];
  const target = repo.resolve(ctx.cwd, options.path);
  const rel = target.rel;
  const commit = options.rev === undefined ? null : await resolveRevision(repo.root, options.rev);
  const all = commit === null ? await workspaceFiles(ctx, rel, target.abs) : await filesAtRevision(ctx, rel, commit, options.fetch !== false, warnings);
  const { detectFormat } = await import('../../diff/content/format.js');
  const tabular = all.filter((f) => detectFormat(f.path));
  const skipped = all.filter((f) => !detectFormat(f.path)).map((f) => f.path);
  if (tabular.length === 0) {
    throw new DvsError('NO_RECORDS', `${rel || '.'}: no CSV, TSV, JSON Lines or Parquet file${commit ? ` at ${commit.slice(0, 10)}` : ''}`, {
      hint: 'The record hash reads .csv, .tsv, .jsonl, .ndjson and .parquet files (and .gz of the text ones).',
      data: { path: rel },
    });
  }
  const absent = tabular.find((f) => f.oid && commit !== null && !repo.cache.has(f.oid));
  if (absent) {
    throw new DvsError('OBJECT_MISSING', `${absent.path} at ${commit!.slice(0, 10)}: its object ${absent.oid!.slice(0, 10)} is not in the cache`, {
      hint: `Fetch it first: dvs fetch --rev ${options.rev} ${rel}`,
      data: { path: absent.path, oid: absent.oid },
    });
  }
  if (skipped.length) warnings.push({ code: 'NOT_TABULAR', message: `${skipped.length} file(s) that are not tabular data left out of the record hash (first: ${skipped[0]})`, path: skipped[0] });
  let bytes = 0;
  const onBytes = ctx.onProgress
    ? (n: number) => {
        bytes += n;
        ctx.onProgress!({ phase: 'hash', done: 0, total: tabular.length, bytes });
      }
    : undefined;
  const d = await recordDigestOfFiles(repo, tabular, options.ordered === true, onBytes);
  const formats = [...new Set(tabular.map((f) => detectFormat(f.path)!))].sort();
  return { path: rel, rev: commit, algorithm: RECORD_ALGORITHM, ordered: d.ordered, digest: d.digest, rows: d.rows, files: tabular.length, formats, skipped, cached: d.cached, warnings };
}
