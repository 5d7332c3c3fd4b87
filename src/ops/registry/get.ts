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
import { fetchPointerData, ObjectSupply } from './source-objects.js';
import { openSource, readSourcePointer, sourceDataPath } from './source-repo.js';

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
    const pointer = await readSourcePointer(source, dataPath);
    const cache = new ObjectCache(cacheDir);
    const { fetched, manifest } = await fetchPointerData(supply, cache, pointer, dataPath);
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
