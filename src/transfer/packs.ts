import { createHash } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { DvsError, errnoCode } from '../errors.js';
import type { ObjectCache } from '../objects/cache.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from '../remotes/errors.js';
import type { ByteRange, CallOptions, DownloadSource, PackFileInfo, RemoteBackend } from '../remotes/types.js';
import { corrupted } from './download.js';
import { contentName, PACK_HEADER, parseIndex, serializeIndex, type PackEntry, type PackIndex } from './pack-format.js';
import { processQueue, type QueueItem, type QueueSettings } from './queue.js';

/**
 * The packed remote format (docs/remote-format.md): small objects travel in packs of about PACK_TARGET
 * bytes, each push ending with an index (oid → pack, offset, length) named by the hash of its bytes.
 * This module writes packs and indexes, learns what a remote holds packed (listing `packs/` and keeping
 * the immutable indexes on disk), and reads objects back with ranged reads, neighbours coalesced.
 * Everything goes through the transfer queue, and every object read is verified against its oid.
 */

/** Objects of this size and more stay loose (one request each is already cheap per byte). */
export const LOOSE_THRESHOLD = 1 << 20;
/** A pack is closed before it would grow past this: one PUT on S3 (dvs's single-request limit there). */
export const PACK_TARGET = 16 << 20;
/** A big push writes an index every this many packs, so a killed one keeps most of what it sent. */
const PACKS_PER_INDEX = 128;
/** Packs a PackWriter may write ahead of the upload: one index's worth (the temp files they take). */
export const WRITE_AHEAD_LIMIT = PACKS_PER_INDEX * PACK_TARGET;
/** Wanted objects of one pack closer than this are read in one request. */
const COALESCE_GAP = 1 << 20;
/** At least this fraction of a pack wanted: read all of it in one request. */
const WHOLE_PACK = 0.5;

export interface PackLocation {
  pack: string;
  packSize: number;
  offset: number;
  length: number;
  index: string;
}

export interface PackContext {
  backend: RemoteBackend;
  settings: QueueSettings;
}

export interface LoadedIndex {
  name: string;
  index: PackIndex;
}

/**
 * What a remote holds in packs, as far as this clone knows: the indexes listed on the remote, kept in
 * `<dir>/<name>` (immutable, so downloaded once; verified by name whenever read).
 */
export class PackCatalogue {
  private readonly where = new Map<Oid, PackLocation>();
  private indexes: LoadedIndex[] = [];
  /** Pack files the last listing saw, with sizes and dates (gc needs them). */
  listedPacks = new Map<string, PackFileInfo>();
  listedIndexes = new Map<string, PackFileInfo>();
  /** Chunk lists (`<oid>.chunks`) by the oid of the object they list: that object is on the remote as chunks. */
  listedChunkLists = new Map<Oid, PackFileInfo>();
  /** Indexes that could not be read or parsed, with why (verify reports them). */
  readonly broken: Array<{ name: string; why: string }> = [];
  private listedOnce = false;
  /** Why `packs/` could not be listed (an HTTP(S) server without directory index), when it could not. */
  unlisted: DvsError | undefined;
  private listing: Promise<void> | undefined;
  /** Packs each parsed index names, used or not (gc keeps what any listed index names). */
  private readonly packsByIndex = new Map<string, string[]>();

  constructor(
    private readonly ctx: PackContext,
    private readonly dir: string,
  ) {
    this.loadCached();
  }

  /** The backend can hold packs (all of dvs's can; HTTP(S) only where the server lists packs/). */
  get supported(): boolean {
    return this.ctx.backend.listPackFiles !== undefined;
  }

  get listed(): boolean {
    return this.listedOnce;
  }

  lookup(oid: Oid): PackLocation | undefined {
    return this.where.get(oid);
  }

  get size(): number {
    return this.where.size;
  }

  loaded(): readonly LoadedIndex[] {
    return this.indexes;
  }

  packsNamedBy(index: string): string[] {
    return this.packsByIndex.get(index) ?? [];
  }

  /** The object is stored as chunks (its chunk list is there; a list is stored only after its chunks). */
  chunked(oid: Oid): boolean {
    return this.listedChunkLists.has(oid);
  }

  /** List once for all callers (concurrent readers share the one listing). */
  ensureListed(): Promise<void> {
    if (this.listedOnce) return Promise.resolve();
    return (this.listing ??= this.refresh());
  }

  /** List once per run, when some of `oids` are not in the indexes already known. */
  async learn(oids: Iterable<Oid>): Promise<void> {
    if (!this.supported || this.listedOnce) return;
    for (const oid of oids) {
      if (!this.where.has(oid) && !this.listedChunkLists.has(oid)) return this.refresh();
    }
  }

  /** List `packs/` and read the indexes not yet kept here; forget those gone from the remote. */
  async refresh(): Promise<void> {
    const list = this.ctx.backend.listPackFiles?.bind(this.ctx.backend);
    if (!list) return;
    const r = await processQueue('query', [{ key: 'packs', size: 0, count: 0, value: undefined }], async (_v, call) => {
      const files: PackFileInfo[] = [];
      for await (const page of list(call)) {
        files.push(...page);
        call.onBytes?.(0);
      }
      return files;
    }, this.ctx.settings);
    // A server that cannot list packs/ (a web server without directory index) holds no packs this
    // clone can find: its loose objects are still read, and the commands that miss objects say why.
    if (r.failed.length && r.failed[0].error.code !== 'REMOTE_CANNOT_LIST') throw r.failed[0].error;
    this.unlisted = r.failed[0]?.error;
    this.listedPacks = new Map();
    this.listedIndexes = new Map();
    this.listedChunkLists = new Map();
    for (const f of r.done[0]?.result ?? []) {
      if (f.name.endsWith('.chunks')) this.listedChunkLists.set(f.name.slice(0, 64), f);
      else (f.name.endsWith('.pack') ? this.listedPacks : this.listedIndexes).set(f.name, f);
    }
    const cached = new Set(this.cachedNames());
    for (const name of cached) if (!this.listedIndexes.has(name)) rmSync(join(this.dir, name), { force: true });
    const missing = [...this.listedIndexes.keys()].filter((n) => !cached.has(n));
    if (missing.length) await this.downloadIndexes(missing);
    this.listedOnce = true;
    this.loadCached();
  }

  /** A chunk list this clone stored: the object is known there as chunks, without asking the remote. */
  rememberChunked(oid: Oid, size: number): void {
    this.listedChunkLists.set(oid, { name: `${oid}.chunks`, size, modified: new Date() });
  }

  /** An index this clone wrote itself: kept, and its objects known, without asking the remote. */
  remember(name: string, bytes: Buffer): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, name), bytes);
    this.add(name, parseIndex(bytes.toString('utf8')));
  }

  private async downloadIndexes(names: string[]): Promise<void> {
    const { backend, settings } = this.ctx;
    mkdirSync(this.dir, { recursive: true });
    const items = names.map((name) => ({ key: name, size: this.listedIndexes.get(name)?.size ?? 0, value: name }));
    const r = await processQueue('download', items, async (name, call) => {
      const bytes = await readAll(await backend.readPackFile!(name, undefined, call), call);
      if (contentName(bytes, 'idx') !== name) throw new RemoteError('REMOTE_OBJECT_CORRUPTED', `pack index ${name.slice(0, 12)}… does not hash to its name`, { reason: 'corrupt' });
      writeFileSync(join(this.dir, name), bytes);
    }, settings);
    for (const f of r.failed) {
      // An index deleted between the listing and the read was being replaced by gc: not an error.
      if (f.error.code === 'REMOTE_OBJECT_MISSING') continue;
      if (f.error.code === 'REMOTE_OBJECT_CORRUPTED') this.broken.push({ name: f.item.key, why: f.error.message });
      else throw f.error;
    }
  }

  private cachedNames(): string[] {
    try {
      return readdirSync(this.dir).filter((n) => /^[0-9a-f]{64}\.idx$/.test(n));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  /** Rebuild the view from the indexes kept on disk (after a listing: only those whose packs are all there). */
  private loadCached(): void {
    this.where.clear();
    this.indexes = [];
    // Oldest first, so that where an object is in several packs the newest index wins (a copy packed
    // again after a bad one was found).
    const when = (n: string) => this.listedIndexes.get(n)?.modified?.getTime() ?? 0;
    for (const name of this.cachedNames().sort((a, b) => when(a) - when(b))) {
      let index: PackIndex;
      try {
        const bytes = readFileSync(join(this.dir, name));
        if (contentName(bytes, 'idx') !== name) throw new Error('does not hash to its name');
        index = parseIndex(bytes.toString('utf8'));
      } catch (err) {
        rmSync(join(this.dir, name), { force: true });
        if (!this.broken.some((b) => b.name === name)) this.broken.push({ name, why: (err as Error).message });
        continue;
      }
      this.packsByIndex.set(name, index.packs.map((p) => p.name));
      // An index naming a pack the remote no longer lists is being removed by a gc: ignored.
      if (this.listedOnce && index.packs.some((p) => !this.listedPacks.has(p.name))) continue;
      this.add(name, index);
    }
  }

  private add(name: string, index: PackIndex): void {
    this.indexes.push({ name, index });
    for (const e of index.entries) {
      const pack = index.packs[e.pack];
      this.where.set(e.oid, { pack: pack.name, packSize: pack.size, offset: e.offset, length: e.length, index: name });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing

export interface PackSource {
  oid: Oid;
  size: number;
  /** The cache object's path (for a chunk: the path of the object it is cut from). */
  path: string;
  /** A chunk: where its bytes start in `path`. */
  offset?: number;
}

export interface PackPushResult {
  /** Objects now on the remote in a pack named by a stored index. */
  stored: Array<{ oid: Oid; size: number }>;
  failed: Array<{ oid: Oid; error: DvsError }>;
  packs: number;
  indexes: number;
}

export interface PlannedPack {
  objects: PackSource[];
  /** Set once built: the temp file, its name, the entries that made it in. */
  built?: { tmp: string; name: string; size: number; entries: Array<Omit<PackEntry, 'pack'>> };
}

/**
 * Upload small objects in packs, then the index that names them (never before all its packs are
 * stored): a killed push leaves at most packs no index names. Objects whose cache copy is missing or
 * does not hash to its name are left out and reported.
 */
export async function pushPacks(ctx: PackContext, cache: ObjectCache, catalogue: PackCatalogue, objects: PackSource[], onStored?: (oids: Oid[]) => void, written: PlannedPack[] = []): Promise<PackPushResult> {
  const result: PackPushResult = { stored: [], failed: [], packs: 0, indexes: 0 };
  // Packs a PackWriter wrote already go first, then those built here from `objects`.
  const plan = [...written, ...planPacks(objects)];
  for (let i = 0; i < plan.length; i += PACKS_PER_INDEX) {
    const group = plan.slice(i, i + PACKS_PER_INDEX);
    try {
      await pushGroup(ctx, cache, catalogue, group, result, onStored);
    } finally {
      for (const p of group) if (p.built) rmSync(p.built.tmp, { force: true });
    }
  }
  // Not kept between pushes (a library user's process lives on); the next pack allocates it again.
  packBuffer = Buffer.alloc(0);
  return result;
}

function planPacks(objects: PackSource[]): PlannedPack[] {
  const plan: PlannedPack[] = [];
  let current: PackSource[] = [];
  let bytes = PACK_HEADER.length;
  for (const o of objects) {
    if (current.length && bytes + o.size > PACK_TARGET) {
      plan.push({ objects: current });
      current = [];
      bytes = PACK_HEADER.length;
    }
    current.push(o);
    bytes += o.size;
  }
  if (current.length) plan.push({ objects: current });
  return plan;
}

async function pushGroup(ctx: PackContext, cache: ObjectCache, catalogue: PackCatalogue, group: PlannedPack[], result: PackPushResult, onStored?: (oids: Oid[]) => void): Promise<void> {
  const { backend, settings } = ctx;
  const left = new Map<PlannedPack, Array<{ oid: Oid; error: DvsError }>>();
  const items: Array<QueueItem<PlannedPack>> = group.map((p, n) => ({
    key: `pack ${n} ${p.objects[0].oid}`,
    size: p.objects.reduce((s, o) => s + o.size, 0),
    count: p.objects.length,
    value: p,
  }));
  const r = await processQueue('upload', items, async (p, call) => {
    if (!p.built) {
      const { built, rejected } = buildPack(cache, p.objects);
      p.built = built;
      left.set(p, rejected);
    }
    if (!p.built.entries.length) return;
    await backend.putPackFile!(p.built.name, { oid: p.built.name.slice(0, 64), path: p.built.tmp, size: p.built.size, temporary: true }, call);
  }, settings);
  for (const rejected of left.values()) result.failed.push(...rejected);
  for (const f of r.failed) {
    const packed = new Set(f.item.value.built?.entries.map((e) => e.oid) ?? f.item.value.objects.map((o) => o.oid));
    for (const o of f.item.value.objects) if (packed.has(o.oid)) result.failed.push({ oid: o.oid, error: f.error });
  }
  const stored = r.done.map((d) => d.item.value).filter((p) => p.built && p.built.entries.length);
  if (!stored.length) return;
  const index: PackIndex = { packs: [], entries: [] };
  const seen = new Set<Oid>();
  for (const p of stored) {
    const n = index.packs.push({ name: p.built!.name, size: p.built!.size }) - 1;
    for (const e of p.built!.entries) {
      if (seen.has(e.oid)) continue;
      seen.add(e.oid);
      index.entries.push({ ...e, pack: n });
    }
  }
  const bytes = serializeIndex(index);
  const name = contentName(bytes, 'idx');
  const tmp = cache.tempPath();
  writeFileSync(tmp, bytes);
  try {
    const ir = await processQueue('upload', [{ key: name, size: bytes.length, count: 0, value: name }], (n, call) => backend.putPackFile!(n, { oid: n.slice(0, 64), path: tmp, size: bytes.length, temporary: true }, call), settings);
    if (ir.failed.length) {
      for (const e of index.entries) result.failed.push({ oid: e.oid, error: ir.failed[0].error });
      return;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  catalogue.remember(name, bytes);
  result.packs += stored.length;
  result.indexes += 1;
  const sizes = new Map(index.entries.map((e) => [e.oid, e.length]));
  for (const [oid, size] of sizes) result.stored.push({ oid, size });
  onStored?.([...sizes.keys()]);
}

/**
 * The bytes of the pack being built, reused from pack to pack (buildPack is synchronous: one pack at a
 * time on this thread). Objects are read straight into their place in it: no buffer per object and no
 * concatenation (fresh big buffers cost page faults and copies, more than the hashing did).
 */
let packBuffer = Buffer.alloc(0);

/** Room for `bytes` in packBuffer, keeping its first `used` bytes. */
function reservePack(bytes: number, used: number): void {
  if (packBuffer.length >= bytes) return;
  const bigger = Buffer.allocUnsafe(Math.max(bytes, PACK_TARGET + LOOSE_THRESHOLD, packBuffer.length * 2));
  packBuffer.copy(bigger, 0, 0, used);
  packBuffer = bigger;
}

/** Copy the objects into one pack file (a temp file in the cache), each hashed on the way in. */
function buildPack(cache: ObjectCache, objects: PackSource[]): { built: NonNullable<PlannedPack['built']>; rejected: Array<{ oid: Oid; error: DvsError }> } {
  const entries: Array<Omit<PackEntry, 'pack'>> = [];
  const rejected: Array<{ oid: Oid; error: DvsError }> = [];
  reservePack(PACK_HEADER.length, 0);
  let used = PACK_HEADER.copy(packBuffer, 0);
  const seen = new Set<Oid>();
  // The chunks of one object come one after another: one open file for all of them.
  let open: { path: string; fd: number } | undefined;
  try {
    for (const o of objects) {
      if (seen.has(o.oid)) continue;
      seen.add(o.oid);
      const start = used;
      try {
        if (open?.path !== o.path) {
          if (open) closeSync(open.fd);
          open = undefined;
          open = { path: o.path, fd: openSync(o.path, 'r') };
        }
        used = o.offset === undefined ? readRest(open.fd, start) : readSlice(open.fd, o.offset, o.size, start);
      } catch (err) {
        used = start;
        rejected.push({ oid: o.oid, error: cacheReadError(o.oid, err) });
        continue;
      }
      const actual = createHash('sha256').update(packBuffer.subarray(start, used)).digest('hex');
      if (actual !== o.oid) {
        used = start;
        rejected.push({ oid: o.oid, error: new RemoteError('SOURCE_CORRUPTED', `the cache object ${shortOid(o.oid)} is corrupted (its bytes hash to ${shortOid(actual)}); not uploaded`, {
          reason: 'source-corrupt',
          hint: 'Run `dvs verify` to quarantine it, then re-track the data or fetch a good copy.',
          data: { oid: o.oid, actual },
        }) });
        continue;
      }
      entries.push({ oid: o.oid, offset: start, length: used - start });
    }
  } finally {
    if (open) closeSync(open.fd);
  }
  const body = packBuffer.subarray(0, used);
  const tmp = cache.tempPath();
  writeFileSync(tmp, body, { mode: 0o444 });
  return { built: { tmp, name: contentName(body, 'pack'), size: body.length, entries }, rejected };
}

/**
 * Packs written from bytes already in memory and checked: the chunks of a big object as the chunker cuts
 * and hashes them, so that a first push reads and hashes each chunk once, not again to pack it. Packs
 * close as planPacks would close them (before PACK_TARGET), each written to a temp file in the cache;
 * pushPacks uploads them like the packs it builds. The caller removes the files with discard().
 */
export class PackWriter {
  private readonly packs: PlannedPack[] = [];
  private readonly taken = new Set<Oid>();
  private buffer = Buffer.alloc(0);
  private used = 0;
  private objects: PackSource[] = [];
  private entries: Array<Omit<PackEntry, 'pack'>> = [];
  /** Bytes in the packs written so far. */
  written = 0;

  constructor(private readonly cache: ObjectCache) {}

  has(oid: Oid): boolean {
    return this.taken.has(oid);
  }

  /** Add an object whose `bytes` hash to `source.oid` (the caller hashed these very bytes). */
  add(source: PackSource, bytes: Buffer): void {
    if (this.taken.has(source.oid)) return;
    if (this.entries.length && this.used + bytes.length > PACK_TARGET) this.flush();
    if (!this.entries.length) {
      this.reserve(PACK_TARGET + LOOSE_THRESHOLD);
      this.used = PACK_HEADER.copy(this.buffer, 0);
    }
    this.reserve(this.used + bytes.length);
    bytes.copy(this.buffer, this.used);
    this.entries.push({ oid: source.oid, offset: this.used, length: bytes.length });
    this.objects.push(source);
    this.taken.add(source.oid);
    this.used += bytes.length;
  }

  /** The packs written, the last one closed now. */
  finish(): PlannedPack[] {
    if (this.entries.length) this.flush();
    return this.packs;
  }

  discard(): void {
    for (const p of this.packs) rmSync(p.built!.tmp, { force: true });
  }

  private flush(): void {
    const body = this.buffer.subarray(0, this.used);
    const tmp = this.cache.tempPath();
    writeFileSync(tmp, body, { mode: 0o444 });
    this.packs.push({ objects: this.objects, built: { tmp, name: contentName(body, 'pack'), size: body.length, entries: this.entries } });
    this.written += body.length;
    this.objects = [];
    this.entries = [];
  }

  private reserve(bytes: number): void {
    if (this.buffer.length >= bytes) return;
    const bigger = Buffer.allocUnsafe(Math.max(bytes, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.used);
    this.buffer = bigger;
  }
}

/** A cache object that could not be read for an upload: missing, or unreadable. */
export function cacheReadError(oid: Oid, err: unknown): RemoteError {
  const missing = errnoCode(err) === 'ENOENT';
  return new RemoteError(missing ? 'OBJECT_MISSING' : 'CACHE_READ_FAILED', missing ? `object ${shortOid(oid)} is not in the cache` : `cannot read cache object ${shortOid(oid)}: ${(err as Error).message}`, { reason: 'source-corrupt' });
}

/** A whole file read into packBuffer at `at`, to its end; returns where its bytes end. */
function readRest(fd: number, at: number): number {
  let end = at;
  for (;;) {
    reservePack(end + (64 << 10), end);
    const n = readSync(fd, packBuffer, end, packBuffer.length - end, end - at);
    if (n === 0) return end;
    end += n;
  }
}

/** `length` bytes of a file from `offset` read into packBuffer at `at` (fewer at its end); returns where they end. */
function readSlice(fd: number, offset: number, length: number, at: number): number {
  reservePack(at + length, at);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, packBuffer, at + got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return at + got;
}

// ---------------------------------------------------------------------------------------------------
// Reading

export interface PackRead {
  pack: string;
  range: ByteRange | undefined;
  members: Array<{ oid: Oid; offset: number; length: number }>;
}

/**
 * The requests that read `wanted` (all in packs): per pack, neighbours closer than COALESCE_GAP share
 * one ranged read, and a pack mostly wanted is read whole.
 */
export function planReads(wanted: Array<{ oid: Oid; at: PackLocation }>): PackRead[] {
  const byPack = new Map<string, Array<{ oid: Oid; at: PackLocation }>>();
  for (const w of wanted) {
    const list = byPack.get(w.at.pack);
    if (list) list.push(w);
    else byPack.set(w.at.pack, [w]);
  }
  const reads: PackRead[] = [];
  for (const [pack, list] of byPack) {
    list.sort((a, b) => a.at.offset - b.at.offset);
    const members = list.map((w) => ({ oid: w.oid, offset: w.at.offset, length: w.at.length }));
    const wantedBytes = members.reduce((s, m) => s + m.length, 0);
    if (wantedBytes >= list[0].at.packSize * WHOLE_PACK) {
      reads.push({ pack, range: undefined, members });
      continue;
    }
    let run: PackRead | undefined;
    for (const m of members) {
      if (run && run.range && m.offset - run.range.end <= COALESCE_GAP) {
        run.members.push(m);
        run.range.end = Math.max(run.range.end, m.offset + m.length);
      } else {
        run = { pack, range: { start: m.offset, end: m.offset + m.length }, members: [m] };
        reads.push(run);
      }
    }
  }
  return reads;
}

export interface ReadOutcome {
  /** Verified (and, with a cache, stored there). */
  ok: Array<{ oid: Oid; size: number }>;
  /** Bytes that did not hash to the oid. */
  bad: Array<{ oid: Oid; error: DvsError }>;
}

/**
 * Read objects out of packs through the queue. Each object is verified against its oid; with `cache`
 * the good ones enter it. A read that fails (the pack gone after a gc, the network) fails all its
 * objects, returned with the error.
 */
export async function readPacked(ctx: PackContext, reads: PackRead[], remoteName: string, cache: ObjectCache | undefined, onOk: (oid: Oid, size: number) => void, onBad: (oid: Oid, error: DvsError) => void): Promise<Array<{ oid: Oid; error: DvsError }>> {
  const { backend, settings } = ctx;
  const items: Array<QueueItem<PackRead>> = reads.map((read) => ({
    key: `${read.pack}:${read.range?.start ?? 'all'}`,
    size: read.range ? read.range.end - read.range.start : read.members.reduce((s, m) => s + m.length, 0),
    count: read.members.length,
    value: read,
  }));
  const r = await processQueue('download', items, async (read, call) => splitRead(await backend.readPackFile!(read.pack, read.range, call), read, call, remoteName, cache), settings, (_item, outcome) => {
    for (const o of outcome.ok) onOk(o.oid, o.size);
    for (const b of outcome.bad) onBad(b.oid, b.error);
  });
  const failed: Array<{ oid: Oid; error: DvsError }> = [];
  for (const f of r.failed) for (const m of f.item.value.members) failed.push({ oid: m.oid, error: f.error });
  return failed;
}

/** Walk the bytes of one read, cutting out each member and checking it against its oid. */
async function splitRead(source: DownloadSource, read: PackRead, call: CallOptions, remoteName: string, cache: ObjectCache | undefined): Promise<ReadOutcome> {
  const stream: Readable = source.type === 'file' ? createReadStream(source.path, { highWaterMark: 1 << 20 }) : source.stream;
  const base = read.range?.start ?? 0;
  const outcome: ReadOutcome = { ok: [], bad: [] };
  let position = base;
  let next = 0;
  let parts: Buffer[] = [];
  const finish = (m: PackRead['members'][number]) => {
    const bytes = Buffer.concat(parts);
    parts = [];
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== m.oid) return outcome.bad.push({ oid: m.oid, error: corrupted(remoteName, m.oid, actual) });
    if (cache && !cache.has(m.oid)) {
      const tmp = cache.tempPath();
      writeFileSync(tmp, bytes, { mode: 0o444, flag: 'wx' });
      cache.commit(tmp, m.oid);
    }
    outcome.ok.push({ oid: m.oid, size: bytes.length });
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      call.signal.throwIfAborted();
      call.onBytes?.(chunk.length);
      let at = 0;
      while (at < chunk.length && next < read.members.length) {
        const m = read.members[next];
        const end = m.offset + m.length;
        if (position + (chunk.length - at) <= m.offset) break;
        if (position < m.offset) {
          at += m.offset - position;
          position = m.offset;
        }
        const take = Math.min(chunk.length - at, end - position);
        parts.push(chunk.subarray(at, at + take));
        at += take;
        position += take;
        if (position === end) {
          finish(m);
          next++;
        }
      }
      position += chunk.length - at;
      if (next === read.members.length && read.range) break;
    }
  } finally {
    stream.destroy();
  }
  if (next < read.members.length) {
    throw new RemoteError('REMOTE_SHORT_READ', `the read of pack ${read.pack.slice(0, 12)}… stopped after ${position - base} bytes`, { reason: 'server', retriable: true });
  }
  return outcome;
}

export async function readAll(source: DownloadSource, call: CallOptions): Promise<Buffer> {
  if (source.type === 'file') return readFileSync(source.path);
  const parts: Buffer[] = [];
  for await (const chunk of source.stream as AsyncIterable<Buffer>) {
    parts.push(chunk);
    call.onBytes?.(chunk.length);
  }
  return Buffer.concat(parts);
}

/** `<tmp>/remotes/<hash of the URL>.packs/`: the indexes this clone keeps for a remote. */
export function catalogueDir(tmpDir: string, url: string): string {
  return join(tmpDir, 'remotes', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.packs`);
}
