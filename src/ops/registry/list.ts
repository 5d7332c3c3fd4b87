import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DvsError, isDvsError } from '../../errors.js';
import type { ProgressListener, Warning } from '../../events.js';
import { ObjectCache } from '../../objects/cache.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, parsePointer, type DataKind } from '../../pointer/format.js';
import { checkPointerName } from '../../pointer/io.js';
import { fetchManifest, ObjectSupply } from './source-objects.js';
import { openSource, sourceDataPath } from './source-repo.js';

export interface ListOptions {
  url: string;
  /** A data path, or a folder holding data, in the source. */
  path?: string;
  rev?: string;
  /** List the files of tracked directories too (fetches their manifests). */
  recursive?: boolean;
}

export interface ListedFile {
  path: string;
  oid: Oid;
  size: number;
}

export interface ListedData {
  path: string;
  kind: DataKind;
  oid: Oid;
  size: number;
  /** Directories: number of files. */
  files?: number;
  /** With --recursive: a directory's files, relative to it. */
  entries?: ListedFile[];
  /** Imported into the source from another repository. */
  importedFrom?: string;
}

export interface ListResult {
  url: string;
  rev: string | null;
  commit: string;
  data: ListedData[];
  warnings: Warning[];
}

/** `dvs list`: the data another repository tracks at a revision, read from its pointers (no data moves unless -R). */
export async function list(ctx: { cwd: string; onProgress?: ProgressListener }, options: ListOptions): Promise<ListResult> {
  const under = options.path === undefined ? undefined : sourceDataPath(options.path);
  const source = await openSource(ctx.cwd, options.url, options.rev);
  const warnings: Warning[] = [];
  try {
    const entries = (await source.pointers(under)).filter((e) => under === undefined || dataPathOf(e.path) === under || e.path.startsWith(under + '/'));
    if (under !== undefined && entries.length === 0) {
      throw new DvsError('SOURCE_NOT_TRACKED', `${under}: no data tracked by dvs there in ${source.url} at ${source.commit.slice(0, 10)}`, {
        hint: `List everything it tracks: dvs list ${source.url}${source.rev ? ` --rev ${source.rev}` : ''}`,
        data: { url: source.url, path: under, commit: source.commit },
      });
    }
    const data: ListedData[] = [];
    for (const e of entries) {
      try {
        checkPointerName(e.path);
        const text = (await source.readText(e.path)) ?? '';
        const p = parsePointer(text, `${source.url}:${e.path}`);
        const item: ListedData = { path: dataPathOf(e.path), kind: p.kind, oid: p.oid, size: p.size };
        if (p.kind === 'dir') item.files = p.files;
        if (p.source) item.importedFrom = `${p.source.url} ${p.source.path}`;
        data.push(item);
      } catch (err) {
        if (!isDvsError(err)) throw err;
        warnings.push({ code: err.code, message: err.message, path: e.path, hint: err.hint });
      }
    }
    if (options.recursive && data.some((d) => d.kind === 'dir')) await listFiles(ctx, source, data, warnings);
    return { url: source.url, rev: source.rev, commit: source.commit, data, warnings };
  } finally {
    source.close();
  }
}

/** The files of each tracked directory, from its manifest (fetched into a temporary cache). */
async function listFiles(ctx: { onProgress?: ProgressListener }, source: Awaited<ReturnType<typeof openSource>>, data: ListedData[], warnings: Warning[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dvs-list-'));
  const cache = new ObjectCache(dir);
  const supply = await ObjectSupply.of(source, ctx.onProgress);
  try {
    for (const d of data) {
      if (d.kind !== 'dir') continue;
      try {
        const { manifest } = await fetchManifest(supply, cache, d.oid, d.path);
        d.entries = manifest.entries.map((e) => ({ path: e.path, oid: e.oid, size: e.size }));
      } catch (err) {
        if (!isDvsError(err)) throw err;
        warnings.push({ code: err.code, message: err.message, path: d.path, hint: err.hint });
      }
    }
    warnings.push(...supply.warnings);
  } finally {
    await supply.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
