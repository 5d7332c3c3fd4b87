import { rmSync } from 'node:fs';
import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { UploadSource } from '../../remotes/types.js';
import type { Repo } from '../../repo/repo.js';
import { trackedByGit } from '../../scm/git.js';
import { CHUNK_THRESHOLD, chunkListDir } from '../../transfer/chunk-list.js';
import { pushChunked } from '../../transfer/chunks.js';
import { LOOSE_THRESHOLD, pushPacks } from '../../transfer/packs.js';
import { findPresent } from '../../transfer/presence.js';
import { processQueue, type QueueItem } from '../../transfer/queue.js';
import { expandGlobs } from '../../workspace/glob.js';
import type { OpContext } from '../context.js';
import { checkTarget, type TrackedItem, type TrackResult } from '../data/track.js';
import { checkOut, finishTrack, hashSource, itemOf, previousPointer, resolveSource, writeTrackedPointer, type DataSource, type HashedSource } from '../data/track-external.js';
import { TrackJournal } from '../data/track-journal.js';
import { refuseUnlessAppended } from '../data/append-only.js';
import { failureOf, type TransferFailure } from './failures.js';
import { openRemote, requireWritable, type OpenRemote } from './open.js';

/**
 * `dvs track <path> --to-remote`: for data bigger than this disk. The data is hashed, then sent from
 * where it is straight to the remote (each backend refuses bytes that do not hash to their name, so data
 * that changed in between is not sent under the old name), and only then is the pointer written. No copy
 * goes into the cache, only a directory's small manifest. With `-o`, the data is not placed in the
 * workspace either: `dvs pull` gets it. An upload that fails leaves no pointer; running the command
 * again sends only what the remote still lacks.
 */
export interface TrackToRemoteOptions {
  targets: string[];
  glob?: boolean;
  /** Track the one source (anywhere) as this path inside the repository. */
  out?: string;
  /** With `out`: replace (delete) what is there. */
  force?: boolean;
  remote?: string;
  jobs?: number;
}

interface Planned {
  source: DataSource;
  out: { arg: string; rel: string; pointerPath: string; abs: string; exists: boolean };
}

export async function trackToRemote(ctx: OpContext, options: TrackToRemoteOptions): Promise<TrackResult> {
  const { repo } = ctx;
  const planned = await plan(ctx, options);
  requireWritable(repo, options.remote, 'dvs track --to-remote');
  return repo.withLock({ ...ctx.lock, command: 'dvs track' }, async () => {
    const state = await repo.statCache();
    const remote = await openRemote(ctx, options);
    const items: TrackedItem[] = [];
    const warnings: Warning[] = [];
    const failures: TransferFailure[] = [];
    const journal = new TrackJournal(repo);
    try {
      await remote.syncKnown();
      for (const p of planned) {
        const hashed = await hashSource(repo, p.source, { state, store: false, onProgress: ctx.onProgress });
        warnings.push(...hashed.warnings);
        // Refused before anything is sent: an append-only directory keeps what it recorded.
        refuseUnlessAppended(repo, p.out.rel, previousPointer(repo, p.out.pointerPath), hashed);
        const failed = await send(repo, remote, p, hashed);
        if (failed.length) {
          failures.push(...failed);
          continue;
        }
        const item = { ...itemOf(p.out, hashed, options.out !== undefined ? p.source.arg : undefined), remote: remote.spec.name };
        writeTrackedPointer(repo, journal, p.out, hashed, item);
        // The workspace is to hold nothing at the destination: what was there is replaced (--force) by "not pulled".
        if (p.out.exists) rmSync(p.out.abs, { recursive: true, force: true });
        items.push(item);
      }
    } finally {
      await remote.close();
    }
    const result = await finishTrack(repo, journal, items, warnings);
    if (failures.length) {
      throw new DvsError('TRACK_UPLOAD_FAILED', `${failures.length === 1 ? failures[0].message : `${failures.length} objects could not be uploaded to remote "${remote.spec.name}"; first: ${failures[0].message}`}`, {
        hint: `${failures[0].hint ? failures[0].hint + ' ' : ''}No pointer was written for data not fully uploaded${items.length ? ` (${items.map((i) => i.path).join(', ')} tracked)` : ''}; run the command again to send the rest.`,
        data: { failures, tracked: result.items.map((i) => i.path) },
      });
    }
    return result;
  });
}

/** Sources and destinations, every refusal checked before anything is read or sent. */
async function plan(ctx: OpContext, options: TrackToRemoteOptions): Promise<Planned[]> {
  const { repo, cwd } = ctx;
  if (options.out !== undefined) {
    const source = resolveSource(cwd, options.targets[0]);
    const out = await checkOut(repo, cwd, options.out, source, { force: options.force === true });
    return [{ source, out }];
  }
  if (options.targets.length === 0) {
    throw new DvsError('NO_TARGETS', 'Nothing to track', { hint: 'Name files or directories: dvs track data/ --to-remote' });
  }
  const args = options.glob ? expandGlobs(repo, cwd, options.targets) : options.targets;
  const targets = args.map((arg) => checkTarget(repo, cwd, arg));
  const inGit = await trackedByGit(repo.root, targets.map((t) => t.rel));
  if (inGit.length) {
    const target = targets.find((t) => inGit[0] === t.rel || inGit[0].startsWith(t.rel + '/'))!;
    throw new DvsError('TRACKED_BY_GIT', `${target.arg}: ${inGit[0] === target.rel ? 'already tracked by Git' : `Git already tracks files in it (${inGit[0]})`}`, {
      hint: `Stop tracking it in Git first: git rm -r --cached ${target.rel}`,
      data: { path: target.rel, gitPath: inGit[0] },
    });
  }
  return targets.map((t) => ({
    source: { arg: t.arg, abs: t.abs, kind: t.kind, ...(t.kind === 'dir' ? { rel: t.rel } : {}) },
    // The data stays where it is: nothing at the destination is replaced.
    out: { arg: t.arg, rel: t.rel, pointerPath: t.pointerPath, abs: t.abs, exists: false },
  }));
}

/**
 * Upload a source's files the remote lacks, straight from where they are, then (a directory) its
 * manifest from the cache, only once every file is there. Returns what failed.
 */
async function send(repo: Repo, remote: OpenRemote, p: Planned, hashed: HashedSource): Promise<TransferFailure[]> {
  const { known } = remote;
  const failures: TransferFailure[] = [];
  const nameOf = new Map<Oid, string>();
  for (const part of hashed.parts) nameOf.set(part.oid, part.rel ? `${p.out.rel}/${part.rel}` : p.out.rel);
  // A copy this clone knows to be bad there is sent again whatever an existence check says.
  const unknown = [...nameOf.keys()].filter((oid) => !known.has(oid) || known.isLost(oid));
  const sizeOf = new Map(hashed.parts.map((part) => [part.oid, part.size]));
  const there = await presentOn(remote, unknown.filter((oid) => !known.isBad(oid)), (oid) => sizeOf.get(oid)!);
  const missing = new Set(unknown.filter((oid) => !there.has(oid)));
  const items: Array<QueueItem<UploadSource>> = [];
  for (const part of hashed.parts) {
    if (missing.has(part.oid)) items.push({ key: part.oid, size: part.size, value: { oid: part.oid, path: part.abs, size: part.size } });
  }
  await store(repo, remote, items, failures, (oid) => nameOf.get(oid)!);
  if (hashed.kind !== 'dir' || failures.length) return failures;
  // The manifest last: one on the remote vouches for every file of its directory.
  if (!known.has(hashed.oid) || known.isLost(hashed.oid)) {
    const size = repo.cache.sizeOf(hashed.oid) ?? 0;
    const manifest: QueueItem<UploadSource> = { key: hashed.oid, size, value: { oid: hashed.oid, path: repo.cache.pathOf(hashed.oid), size } };
    await store(repo, remote, [manifest], failures, () => `${p.out.rel} (manifest)`, true);
  }
  return failures;
}

/**
 * Which of `oids` the remote holds. A packed remote answers for its packed and chunked objects from one
 * listing of `packs/`; asking about each small or big object loose would cost the requests packing saves.
 */
async function presentOn(remote: OpenRemote, oids: Oid[], sizeOf: (oid: Oid) => number): Promise<Set<Oid>> {
  const { backend, settings, known } = remote;
  const catalogue = remote.packs();
  if (oids.length && catalogue.supported) await catalogue.refresh();
  const inCatalogue = (oid: Oid) => catalogue.lookup(oid) !== undefined || catalogue.chunked(oid);
  const packing = remote.format === 'packed';
  const askLoose = oids.filter((oid) => !inCatalogue(oid) && (!packing || looseOnPacked(sizeOf(oid))));
  const there = new Set([...oids.filter(inCatalogue), ...(await findPresent({ backend, settings }, askLoose)).keys()]);
  for (const oid of there) known.add(oid);
  return there;
}

/** On a packed remote, the sizes push stores loose: neither packed (small) nor chunked (big). */
function looseOnPacked(size: number): boolean {
  return size >= LOOSE_THRESHOLD && size < CHUNK_THRESHOLD;
}

/**
 * Send as push would: on a packed remote small files in packs and big objects as chunks, the rest loose
 * (a manifest is never packed: a reader finds it by its key, docs/remote-format.md).
 */
async function store(repo: Repo, remote: OpenRemote, items: Array<QueueItem<UploadSource>>, failures: TransferFailure[], pathOf: (oid: Oid) => string, manifests = false): Promise<void> {
  const packing = remote.format === 'packed';
  const small = packing && !manifests ? items.filter((i) => i.size < LOOSE_THRESHOLD) : [];
  const big = packing ? items.filter((i) => i.size >= CHUNK_THRESHOLD) : [];
  const { backend, settings, known } = remote;
  const failed = (f: { oid: Oid; error: DvsError }) => failures.push(failureOf(pathOf(f.oid), f.oid, asChanged(f.error)));
  try {
    if (small.length) (await pushPacks({ backend, settings }, repo.cache, remote.packs(), small.map((i) => i.value), (oids) => oids.forEach((oid) => known.confirm(oid)))).failed.forEach(failed);
    if (big.length) (await pushChunked({ backend, settings }, repo.cache, remote.packs(), chunkListDir(repo.paths.tmp), big.map((i) => i.value), (oid) => known.confirm(oid))).failed.forEach(failed);
  } finally {
    known.flush();
  }
  await upload(remote, items.filter((i) => !small.includes(i) && !big.includes(i)), failures, pathOf);
}

/** The backends' words are about cache objects; here the bytes come from the data itself. */
function asChanged(error: DvsError): Pick<DvsError, 'code' | 'message' | 'hint'> {
  return error.code === 'SOURCE_CORRUPTED' ? { code: error.code, message: 'changed while it was being tracked; not uploaded', hint: 'Track it again once nothing writes to it.' } : error;
}

async function upload(remote: OpenRemote, items: Array<QueueItem<UploadSource>>, failures: TransferFailure[], pathOf: (oid: Oid) => string): Promise<void> {
  if (items.length === 0) return;
  const { backend, known, settings } = remote;
  try {
    const r = await processQueue('upload', items, (source, call) => backend.upload(source, call), settings, (item) => known.confirm(item.key));
    for (const f of r.failed) failures.push(failureOf(pathOf(f.item.key), f.item.key, asChanged(f.error)));
  } finally {
    known.flush();
  }
}
