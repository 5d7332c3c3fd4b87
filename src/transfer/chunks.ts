import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { DvsError } from '../errors.js';
import type { ObjectCache } from '../objects/cache.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from '../remotes/errors.js';
import type { CallOptions, DownloadSource, RemoteBackend } from '../remotes/types.js';
import type { Chunk } from '../objects/chunker.js';
import { cutChunkList, keepChunkList, loadChunkList, parseChunkList, serializeChunkList, type ChunkList } from './chunk-list.js';
import { corrupted } from './download.js';
import { cacheReadError, PACK_TARGET, PackWriter, pushPacks, readAll, WRITE_AHEAD_LIMIT, type PackCatalogue, type PackContext, type PackLocation, type PackSource } from './packs.js';
import { processQueue } from './queue.js';

/**
 * Big objects on a packed remote (docs/remote-format.md, "Chunks"): an object is cut into
 * content-defined chunks, the chunks the remote lacks travel in packs like small objects, and then its
 * chunk list is stored under `packs/<oid>.chunks`. An edit in the middle of a big file, or an append,
 * therefore sends the few chunks around it and a new list. A download follows the list, reading runs of
 * chunks that lie next to each other in one pack with one ranged read, and the object is verified whole
 * (against its oid) before it enters the cache.
 */

export interface ChunkedSource {
  oid: Oid;
  size: number;
  /** The cache object's path. */
  path: string;
  /** Sent again because the remote's copy was found bad: every chunk goes, indexed already or not. */
  again?: boolean;
}

export interface ChunkedPushResult {
  /** Objects whose chunk list is now on the remote, with the bytes sent for each (new chunks, list). */
  stored: Array<{ oid: Oid; sent: number }>;
  failed: Array<{ oid: Oid; error: DvsError }>;
}

/**
 * Push big objects as chunks: the chunks no index of the remote names yet go into packs (through
 * pushPacks: packs, then their index), and only once every chunk of an object is indexed is its list
 * stored. A killed push leaves at most packs or indexed chunks that no list names, never a list whose
 * chunks are missing.
 */
export async function pushChunked(ctx: PackContext, cache: ObjectCache, catalogue: PackCatalogue, listDir: string, objects: ChunkedSource[], onStored?: (oid: Oid, sent: number) => void): Promise<ChunkedPushResult> {
  const result: ChunkedPushResult = { stored: [], failed: [] };
  const lists: ChunkList[] = [];
  const sources = new Map<Oid, PackSource>();
  const writer = new PackWriter(cache);
  try {
    for (const o of objects) {
      const wanted = (c: Chunk) => (o.again || !catalogue.lookup(c.oid)) && !sources.has(c.oid) && !writer.has(c.oid);
      let list: ChunkList | undefined;
      try {
        list = loadChunkList(listDir, o.oid);
        if (!list && writer.written + o.size <= WRITE_AHEAD_LIMIT) {
          // Not cut before: the read that cuts it packs the chunks the remote lacks, each hashed once.
          let offset = 0;
          lists.push(cutChunkList(listDir, o.oid, o.path, (c, bytes) => {
            if (wanted(c)) writer.add({ oid: c.oid, size: c.length, path: o.path, offset }, bytes);
            offset += c.length;
          }));
          continue;
        }
        // Kept (or too much written ahead already): the chunks are read again to be packed, a group at a time.
        list ??= cutChunkList(listDir, o.oid, o.path);
      } catch (err) {
        result.failed.push({ oid: o.oid, error: err instanceof RemoteError ? err : cacheReadError(o.oid, err) });
        continue;
      }
      lists.push(list);
      let offset = 0;
      for (const c of list.chunks) {
        if (wanted(c)) sources.set(c.oid, { oid: c.oid, size: c.length, path: o.path, offset });
        offset += c.length;
      }
    }
    const written = writer.finish();
    const sent = new Map<Oid, number>();
    const chunkErrors = new Map<Oid, DvsError>();
    if (sources.size || written.length) {
      const r = await pushPacks(ctx, cache, catalogue, [...sources.values()], undefined, written);
      for (const s of r.stored) sent.set(s.oid, s.size);
      for (const f of r.failed) chunkErrors.set(f.oid, f.error);
    }
    await storeLists(ctx, cache, catalogue, lists, sent, chunkErrors, result, onStored);
  } finally {
    writer.discard();
  }
  return result;
}

/** The chunk lists whose every chunk is now indexed, stored; the others failed with their chunk's error. */
async function storeLists(ctx: PackContext, cache: ObjectCache, catalogue: PackCatalogue, lists: ChunkList[], sent: Map<Oid, number>, chunkErrors: Map<Oid, DvsError>, result: ChunkedPushResult, onStored?: (oid: Oid, sent: number) => void): Promise<void> {
  const ready: Array<{ list: ChunkList; bytes: Buffer; sent: number }> = [];
  for (const list of lists) {
    const missing = list.chunks.find((c) => !catalogue.lookup(c.oid));
    if (missing) {
      const error = chunkErrors.get(missing.oid) ?? new RemoteError('REMOTE_OBJECT_MISSING', `chunk ${shortOid(missing.oid)} of object ${shortOid(list.oid)} could not be stored`, { reason: 'not-found' });
      result.failed.push({ oid: list.oid, error });
      continue;
    }
    const mine = new Set<Oid>();
    let bytes = 0;
    for (const c of list.chunks) {
      if (mine.has(c.oid)) continue;
      mine.add(c.oid);
      bytes += sent.get(c.oid) ?? 0;
    }
    const body = serializeChunkList(list);
    ready.push({ list, bytes: body, sent: bytes + body.length });
  }
  const r = await processQueue('upload', ready.map((x) => ({ key: `${x.list.oid}.chunks`, size: x.bytes.length, count: 0, value: x })), async (x, call) => {
    const tmp = cache.tempPath();
    writeFileSync(tmp, x.bytes, { mode: 0o444 });
    try {
      await ctx.backend.putPackFile!(`${x.list.oid}.chunks`, { oid: createHash('sha256').update(x.bytes).digest('hex'), path: tmp, size: x.bytes.length, temporary: true }, call);
    } finally {
      rmSync(tmp, { force: true });
    }
  }, ctx.settings, (item) => {
    const x = item.value;
    catalogue.rememberChunked(x.list.oid, x.bytes.length);
    result.stored.push({ oid: x.list.oid, sent: x.sent });
    onStored?.(x.list.oid, x.sent);
  });
  for (const f of r.failed) result.failed.push({ oid: f.item.value.list.oid, error: f.error });
}

/** The chunk list of an object stored as chunks: kept here, or read from the remote and checked. */
export async function readChunkList(backend: RemoteBackend, listDir: string | undefined, oid: Oid, call: CallOptions, remoteName: string): Promise<ChunkList> {
  const kept = listDir ? loadChunkList(listDir, oid) : undefined;
  if (kept) return kept;
  const bytes = await readAll(await backend.readPackFile!(`${oid}.chunks`, undefined, call), { signal: call.signal });
  try {
    return parseChunkList(bytes.toString('utf8'), oid);
  } catch (err) {
    throw new RemoteError('REMOTE_OBJECT_CORRUPTED', `the chunk list of object ${shortOid(oid)} on remote "${remoteName}" is unusable: ${(err as Error).message}`, {
      reason: 'corrupt',
      hint: `Push the object again from a clone that has it (dvs push -r ${remoteName}); \`dvs gc --remote ${remoteName}\` removes lists of objects nothing needs.`,
      data: { oid, remote: remoteName },
    });
  }
}

interface Run {
  pack: string;
  start: number;
  end: number;
  chunks: Array<{ oid: Oid; length: number }>;
}

/** Runs of chunks, in the list's order, that lie one after another in one pack: one ranged read each. */
export function planRuns(list: ChunkList, lookup: (oid: Oid) => PackLocation | undefined, remoteName: string): Run[] {
  const runs: Run[] = [];
  let run: Run | undefined;
  for (const c of list.chunks) {
    const at = lookup(c.oid);
    if (!at || at.length !== c.length) {
      throw new RemoteError('REMOTE_OBJECT_MISSING', `chunk ${shortOid(c.oid)} of object ${shortOid(list.oid)} is not on remote "${remoteName}"`, { reason: 'not-found', data: { oid: list.oid, chunk: c.oid, remote: remoteName } });
    }
    if (run && run.pack === at.pack && run.end === at.offset && run.end - run.start + c.length <= PACK_TARGET) {
      run.end += c.length;
      run.chunks.push(c);
    } else {
      run = { pack: at.pack, start: at.offset, end: at.offset + c.length, chunks: [c] };
      runs.push(run);
    }
  }
  return runs;
}

/** Ranged reads kept in flight ahead of the one being consumed. */
const READ_AHEAD = 4;

/**
 * The bytes of an object stored as chunks, as a stream in order: runs read a few ahead, each chunk
 * checked against its oid as it arrives. The consumer still verifies the whole against the object's oid
 * (downloadToCache, verifiedStream); with `listDir`, a list that proved right is kept there.
 */
export async function openChunked(backend: RemoteBackend, catalogue: PackCatalogue, oid: Oid, call: CallOptions, remoteName: string, listDir?: string): Promise<DownloadSource> {
  const list = await readChunkList(backend, listDir, oid, call, remoteName);
  const runs = planRuns(list, (c) => catalogue.lookup(c), remoteName);
  const quiet: CallOptions = { signal: call.signal };
  const read = (r: Run) => backend.readPackFile!(r.pack, { start: r.start, end: r.end }, quiet).then((s) => readAll(s, quiet));
  const whole = createHash('sha256');
  async function* bytes(): AsyncGenerator<Buffer> {
    const inFlight: Array<Promise<Buffer>> = [];
    let next = 0;
    const fill = () => {
      while (inFlight.length < READ_AHEAD && next < runs.length) {
        const p = read(runs[next++]);
        p.catch(() => undefined); // awaited in order below
        inFlight.push(p);
      }
    };
    for (const run of runs) {
      fill();
      const buf = await inFlight.shift()!;
      if (buf.length !== run.end - run.start) throw new RemoteError('REMOTE_SHORT_READ', `the read of pack ${run.pack.slice(0, 12)}… returned ${buf.length} of ${run.end - run.start} bytes`, { reason: 'server', retriable: true });
      let at = 0;
      for (const c of run.chunks) {
        const piece = buf.subarray(at, at + c.length);
        at += c.length;
        const actual = createHash('sha256').update(piece).digest('hex');
        if (actual !== c.oid) throw corrupted(remoteName, c.oid, actual);
        whole.update(piece);
        yield piece;
      }
    }
    // Only a list whose chunks joined to the object is kept.
    if (listDir && whole.digest('hex') === oid) keepChunkList(listDir, list);
  }
  return { type: 'stream', stream: Readable.from(bytes(), { objectMode: false }), size: list.size };
}

/**
 * One object's bytes, packed, chunked or loose, for readers outside a fetch (the library's read, registry
 * get, fetch's downloads): the remote's packs are listed once per catalogue, then a packed object is one
 * ranged read and a chunked one follows its list. The caller verifies the bytes, as for any download.
 */
export async function openObject(backend: RemoteBackend, catalogue: PackCatalogue | undefined, oid: Oid, call: CallOptions, remoteName = 'remote', listDir?: string): Promise<DownloadSource> {
  if (catalogue?.supported) await catalogue.ensureListed();
  const at = catalogue?.lookup(oid);
  if (at) {
    const source = await backend.readPackFile!(at.pack, { start: at.offset, end: at.offset + at.length }, call);
    return source.type === 'stream' ? { ...source, size: at.length } : source;
  }
  if (catalogue?.chunked(oid)) return openChunked(backend, catalogue, oid, call, remoteName, listDir);
  return backend.download(oid, call);
}
