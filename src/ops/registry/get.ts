import { lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../../errors.js';
import type { ProgressListener, Warning } from '../../events.js';
import { ObjectCache } from '../../objects/cache.js';
import { copyWritable } from '../../objects/link.js';
import type { Manifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { DataKind, Pointer } from '../../pointer/format.js';
import { workspaceTempName } from '../../base/temp-names.js';
import { fetchManifest, fetchPointerData, ObjectSupply, type SupplyResult } from './source-objects.js';
import { openSource, readSourcePointerOrOwner, sourceDataPath, type SourceRepo } from './source-repo.js';

export interface GetOptions {
  url: string;
  /** The data path in the source repository. */
  path: string;
  /** Where to put it (default: its name, in cwd). */
  out?: string;
  rev?: string;
  /** Replace an existing file or directory at `out`. */
  force?: boolean;
}

export interface GetResult {
  url: string;
  rev: string | null;
  commit: string;
  path: string;
  /** Where the data was placed, as given (or its default). */
  out: string;
  kind: DataKind;
  oid: Oid;
  size: number;
  files?: number;
  /** A part of a tracked directory was asked for: that directory (then `oid` is its manifest's). */
  partOf?: string;
  /** Objects downloaded, their bytes, and from where. */
  fetched: number;
  bytes: number;
  from: string[];
  warnings: Warning[];
}

/**
 * `dvs get`: another repository's data, here, untracked. The objects go through a temporary cache
 * (every one hashed on the way in), the data is assembled under a temp name beside `out` and renamed
 * into place, so a killed get leaves at most a temp file, never half a dataset under the real name.
 */
export async function get(ctx: { cwd: string; onProgress?: ProgressListener }, options: GetOptions): Promise<GetResult> {
  const dataPath = sourceDataPath(options.path);
  const out = options.out ?? basename(dataPath);
  const abs = resolve(ctx.cwd, out);
  refuseExisting(abs, out, options.force === true);
  const source = await openSource(ctx.cwd, options.url, options.rev);
  const cacheDir = mkdtempSync(join(tmpdir(), 'dvs-get-'));
  const supply = await ObjectSupply.of(source, ctx.onProgress);
  try {
    const cache = new ObjectCache(cacheDir);
    const found = await readSourcePointerOrOwner(source, dataPath);
    const { pointer, fetched, manifest, partOf }: Fetched = found.sub === undefined
      ? { pointer: found.pointer, ...(await fetchPointerData(supply, cache, found.pointer, dataPath)) }
      : await partOfDirectory(supply, cache, source, dataPath, { ...found, sub: found.sub });
    place(cache, pointer, manifest, abs, out, options.force === true);
    return {
      url: source.url,
      rev: source.rev,
      commit: source.commit,
      path: dataPath,
      out,
      kind: pointer.kind,
      oid: pointer.oid,
      size: pointer.size,
      ...(pointer.kind === 'dir' ? { files: pointer.files } : {}),
      ...(partOf !== undefined ? { partOf } : {}),
      fetched: fetched.fetched,
      bytes: fetched.bytes,
      from: fetched.from,
      warnings: supply.warnings,
    };
  } finally {
    await supply.close();
    source.close();
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

type Fetched = { pointer: Pointer; fetched: SupplyResult; manifest?: Manifest; partOf?: string };

/**
 * A file or folder inside a tracked directory of the source: its manifest is fetched, and only the
 * files under the path. The result is shaped like a pointer of its own (a file, or a directory of them).
 */
async function partOfDirectory(supply: ObjectSupply, cache: ObjectCache, source: SourceRepo, dataPath: string, found: { pointer: Pointer; owner: string; sub: string }): Promise<Fetched> {
  const { pointer: owner, owner: ownerPath, sub } = found;
  const { manifest } = await fetchManifest(supply, cache, owner.oid, ownerPath);
  const file = manifest.entries.find((e) => e.path === sub);
  const inside = manifest.entries.filter((e) => e.path.startsWith(sub + '/')).map((e) => ({ ...e, path: e.path.slice(sub.length + 1) }));
  if (!file && inside.length === 0) {
    throw new DvsError('SOURCE_NOT_TRACKED', `${dataPath}: not in the tracked directory ${ownerPath} of ${source.url} at ${source.commit.slice(0, 10)}`, {
      hint: `List its files: dvs list ${source.url} ${ownerPath} -R${source.rev ? ` --rev ${source.rev}` : ''}`,
      data: { url: source.url, path: dataPath, commit: source.commit },
    });
  }
  const entries = file ? [file] : inside;
  const fetched = await supply.fetch(cache, entries.map((e) => ({ oid: e.oid, path: `${ownerPath}/${sub}${file ? '' : `/${e.path}`}`, size: e.size })));
  if (fetched.failures.length) {
    const f = fetched.failures[0];
    throw new DvsError('SOURCE_OBJECTS_MISSING', `${dataPath}: ${fetched.failures.length} object(s) could not be fetched from the source (${f.path}: ${f.message})`, {
      hint: "The source's owners may not have pushed this version: ask them to run `dvs push`, or use another --rev.",
      data: { path: dataPath, failures: fetched.failures },
    });
  }
  const size = entries.reduce((n, e) => n + e.size, 0);
  const pointer: Pointer = file
    ? { kind: 'file', oid: file.oid, size, exec: file.exec, doc: owner.doc }
    : { kind: 'dir', oid: owner.oid, size, files: entries.length, doc: owner.doc };
  return { pointer, fetched, manifest: file ? undefined : { entries }, partOf: ownerPath };
}

function refuseExisting(abs: string, out: string, force: boolean): void {
  try {
    lstatSync(abs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw fromSystemError(err, out, 'checking');
  }
  if (force) return;
  throw new DvsError('TARGET_EXISTS', `${out} already exists; dvs will not overwrite it`, {
    hint: 'Choose another place with -o <path>, or replace it with --force.',
    data: { path: out },
  });
}

/** Write the data under a temp name beside `abs`, then rename it into place (replacing what is there with force). */
function place(cache: ObjectCache, pointer: Pointer, manifest: Manifest | undefined, abs: string, out: string, force: boolean): void {
  const parent = dirname(abs);
  try {
    mkdirSync(parent, { recursive: true });
    const tmp = join(parent, workspaceTempName(basename(abs)));
    try {
      if (manifest) {
        mkdirSync(tmp);
        for (const e of manifest.entries) {
          // Entries were judged as the manifest was parsed: relative, no "..", no .git/.dvs parts; the
          // folders are new, made here, so nothing on the way is a link.
          const dest = join(tmp, e.path);
          mkdirSync(dirname(dest), { recursive: true });
          copyWritable(cache.pathOf(e.oid), dest, e.exec);
        }
      } else {
        copyWritable(cache.pathOf(pointer.oid), tmp, pointer.exec === true);
      }
      if (force) rmSync(abs, { recursive: true, force: true });
      renameSync(tmp, abs);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  } catch (err) {
    throw fromSystemError(err, out, 'writing');
  }
}
