import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DvsError, isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { currentHost, currentUser } from '../../audit/identity.js';
import { Fields } from '../../base/fields.js';
import { loadManifestIfPresent, type Manifest } from '../../objects/manifest.js';
import { pointerPathOf, type PointerData } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import type { CallOptions, LockRecords } from '../../remotes/types.js';
import { trackedAncestor } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';
import { isAtOrBelow } from '../data/dir-edit.js';
import type { RemoteRef } from './failures.js';
import { openRemote, type OpenRemote } from './open.js';

/**
 * Partition locks: `dvs lock data/stream/2024-09` writes a record on the remote, create-only (see
 * RemoteBackend.locks), so of two clones racing for one partition exactly one wins. While someone else
 * holds it, `dvs track` refuses to add to or change files under it, and `dvs push` refuses to send a
 * version of it other than the one recorded in the lock. Locks concern append-only directories (the
 * grain of team-wide appends); a lock names a path inside one, or the whole directory.
 */
export interface PartitionLock {
  /** The locked path (repository-relative): a folder or file inside an append-only directory, or the directory. */
  path: string;
  /** The append-only directory it lies in. */
  dataset: string;
  /** Who holds it: Git's author identity ("Name <email>"), as in audit events. */
  owner: string;
  host: string;
  /** ISO 8601 UTC. */
  time: string;
  /** SHA-256 of the partition's manifest lines when it was locked: the version others may push. */
  digest: string;
  /** Files under the path when it was locked. */
  files: number;
  /**
   * The first 16 hex digits of the SHA-256 of each of those files' manifest lines, sorted; left out
   * above LOCK_ENTRIES_MAX files (then only the digest says which version may be pushed).
   */
  entries?: string[];
}

/** Files a lock lists one by one (16 hex digits each: a lock stays well under 1 MiB). */
export const LOCK_ENTRIES_MAX = 20_000;

export interface LockResult {
  remote: RemoteRef;
  lock: PartitionLock;
  /** False: the caller already held it; nothing was written. */
  created: boolean;
}

export interface UnlockResult {
  remote: RemoteRef;
  lock: PartitionLock;
  /** Someone else's lock, removed with --force. */
  forced: boolean;
}

export interface LocksResult {
  remote: RemoteRef;
  locks: Array<PartitionLock & { mine: boolean }>;
}

const LOCK_VERSION = 1;

interface Partition {
  path: string;
  dataset: string;
  /** Path inside the dataset ('' for the whole of it). */
  sub: string;
  pointer: PointerData;
}

/** The partition an argument names: a path in (or equal to) an append-only tracked directory. */
function partitionOf(repo: Repo, cwd: string, arg: string): Partition {
  const { rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  const own = existsSync(repo.abs(pointerPathOf(rel)));
  const dataset = own ? rel : trackedAncestor(repo, rel);
  if (!dataset) {
    throw new DvsError('NOT_TRACKED', `${arg}: not inside tracked data`, { hint: 'Lock a partition (folder) of an append-only directory: dvs lock data/stream/2024-09', data: { path: rel } });
  }
  repo.guard.check(dataset, pointerPathOf(dataset));
  const pointer = readPointer(repo.root, pointerPathOf(dataset));
  if (!pointer.appendOnly) {
    throw new DvsError('NOT_APPEND_ONLY', `${arg}: ${dataset} is not an append-only directory; partition locks guard appends to one`, {
      hint: `Declare it first: dvs track --append-only ${dataset}`,
      data: { path: rel, dataset },
    });
  }
  return { path: rel, dataset, sub: dataset === rel ? '' : rel.slice(dataset.length + 1), pointer };
}

/**
 * The partition's manifest lines, hashed: equal digests mean the same files with the same bytes; and
 * each line's short hash, so that a version holding only files the lock lists (an older one) can be told
 * from one that adds to the partition.
 */
export function partitionDigest(manifest: Manifest, sub: string): { digest: string; files: number; entries: string[] } {
  const h = createHash('sha256');
  const entries: string[] = [];
  for (const e of manifest.entries) {
    if (sub !== '' && !isAtOrBelow(e.path, sub)) continue;
    const line = `${e.oid} ${e.exec ? 'x' : '-'} ${e.path}\n`;
    h.update(line);
    entries.push(createHash('sha256').update(line).digest('hex').slice(0, 16));
  }
  return { digest: h.digest('hex'), files: entries.length, entries: entries.sort() };
}

function lockName(path: string): string {
  return `${createHash('sha256').update(path).digest('hex')}.json`;
}

function callOptions(remote: OpenRemote): CallOptions {
  return { signal: AbortSignal.timeout(Math.max(remote.spec.timeoutSeconds, 1) * 1000) };
}

function recordsOf(remote: OpenRemote): LockRecords {
  const records = remote.backend.locks;
  if (!records) {
    throw new DvsError('LOCKS_UNSUPPORTED', `Remote "${remote.spec.name}" (${remote.backend.display}) cannot write create-only records, so it cannot hold locks`, {
      hint: 'Keep locks on a directory, GCS, Azure, or S3 remote with conditional writes: dvs lock -r <remote> <partition>',
      data: { remote: remote.spec.name, scheme: remote.backend.scheme },
    });
  }
  return records;
}

function parseLock(text: string, where: string): PartitionLock {
  const fail = (reason: string): never => {
    throw new DvsError('LOCK_INVALID', `${where}: not a dvs lock (${reason})`, { hint: 'Remove it with dvs unlock --force <path>, or from the remote by hand.', data: { where } });
  };
  // A lock is at most a few hundred KiB; anything bigger is not one, and is not parsed.
  if (text.length > 1 << 20) fail('larger than 1 MiB');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  const f = Fields.of(value, 'lock', fail, true);
  if ((value as { v?: unknown }).v !== LOCK_VERSION) fail(`version must be ${LOCK_VERSION}`);
  const files = (value as { files?: unknown }).files;
  const entries = (value as { entries?: unknown }).entries;
  if (entries !== undefined && (!Array.isArray(entries) || !entries.every((e) => typeof e === 'string' && /^[0-9a-f]{16}$/.test(e)))) fail('entries must be a list of 16 hex digits each');
  return {
    path: f.required('path'),
    dataset: f.required('dataset'),
    owner: f.required('owner'),
    host: f.required('host'),
    time: f.required('time'),
    digest: f.required('digest'),
    files: typeof files === 'number' && Number.isSafeInteger(files) && files >= 0 ? files : 0,
    ...(entries !== undefined ? { entries: entries as string[] } : {}),
  };
}

async function readLocks(remote: OpenRemote): Promise<PartitionLock[]> {
  const records = recordsOf(remote);
  const names = await records.list(callOptions(remote));
  const out: PartitionLock[] = [];
  for (const name of names) {
    const text = await records.read(name, callOptions(remote));
    if (text !== undefined) out.push(parseLock(text, `lock ${name} on remote "${remote.spec.name}"`));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Whether two repository paths are the same or one lies inside the other. */
function overlaps(a: string, b: string): boolean {
  return isAtOrBelow(a, b) || isAtOrBelow(b, a);
}

/** A lock as commands report it: the entry hashes are for push to compare, the count says enough. */
function shown(lock: PartitionLock): PartitionLock {
  const { entries: _entries, ...rest } = lock;
  return rest;
}

function heldBy(lock: PartitionLock, remote: string): DvsError {
  return new DvsError('LOCK_HELD', `${lock.path} is locked by ${lock.owner} (on ${lock.host} since ${lock.time}, remote "${remote}")`, {
    hint: `Ask them to run \`dvs unlock ${lock.path}\` when done; \`dvs locks\` lists the locks.`,
    data: { lock: shown(lock), remote },
  });
}

async function withRemote<T>(ctx: OpContext, remoteName: string | undefined, body: (remote: OpenRemote, ref: RemoteRef) => Promise<T>): Promise<T> {
  const remote = await openRemote(ctx, { remote: remoteName });
  try {
    return await body(remote, { name: remote.spec.name, url: remote.url });
  } finally {
    await remote.close();
  }
}

export async function lock(ctx: OpContext, options: { target: string; remote?: string }): Promise<LockResult> {
  const { repo } = ctx;
  const part = partitionOf(repo, ctx.cwd, options.target);
  const manifest = loadManifestIfPresent(repo.cache, part.pointer.oid, part.dataset);
  if (!manifest) {
    throw new DvsError('APPEND_ONLY_BASE_MISSING', `${part.dataset}: its manifest (${part.pointer.oid.slice(0, 10)}) is not in the cache, so the locked version cannot be recorded`, {
      hint: `Fetch it first: dvs fetch ${part.dataset}`,
      data: { path: part.dataset },
    });
  }
  const owner = await currentUser(repo.root);
  const { digest, files, entries } = partitionDigest(manifest, part.sub);
  const lock: PartitionLock = { path: part.path, dataset: part.dataset, owner, host: currentHost(), time: new Date().toISOString(), digest, files, ...(files <= LOCK_ENTRIES_MAX ? { entries } : {}) };
  return withRemote(ctx, options.remote, async (remote, ref) => {
    const records = recordsOf(remote);
    const name = lockName(part.path);
    const body = JSON.stringify({ v: LOCK_VERSION, ...lock }) + '\n';
    if (!(await records.create(name, body, callOptions(remote)))) {
      const text = await records.read(name, callOptions(remote));
      // Removed between the two calls: the caller may try again; saying "held" would be wrong.
      if (text === undefined) throw new DvsError('LOCK_HELD', `${part.path} was locked and unlocked while dvs looked; try again`, { data: { path: part.path } });
      const held = parseLock(text, `lock of ${part.path} on remote "${remote.spec.name}"`);
      if (held.owner !== owner) throw heldBy(held, remote.spec.name);
      return { remote: ref, lock: shown(held), created: false };
    }
    // A lock on a folder around this one, or inside it, held by someone else wins: this one is withdrawn.
    const other = (await readLocks(remote)).find((l) => l.owner !== owner && overlaps(l.path, part.path));
    if (other) {
      await records.remove(name, callOptions(remote));
      throw heldBy(other, remote.spec.name);
    }
    return { remote: ref, lock: shown(lock), created: true };
  });
}

export async function unlock(ctx: OpContext, options: { target: string; remote?: string; force?: boolean }): Promise<UnlockResult> {
  const { repo } = ctx;
  const { rel } = repo.resolve(ctx.cwd, options.target.replace(/\/+$/, '') || options.target);
  const owner = await currentUser(repo.root);
  return withRemote(ctx, options.remote, async (remote, ref) => {
    const records = recordsOf(remote);
    const name = lockName(rel);
    const text = await records.read(name, callOptions(remote));
    if (text === undefined) {
      throw new DvsError('LOCK_NOT_HELD', `${rel} is not locked on remote "${remote.spec.name}"`, { hint: 'List the locks with: dvs locks', data: { path: rel, remote: remote.spec.name } });
    }
    let held: PartitionLock;
    try {
      held = parseLock(text, `lock of ${rel} on remote "${remote.spec.name}"`);
    } catch (err) {
      if (!options.force) throw err;
      held = { path: rel, dataset: '', owner: '', host: '', time: '', digest: '', files: 0 };
    }
    const forced = held.owner !== owner;
    if (forced && !options.force) {
      throw new DvsError('LOCK_NOT_OWNER', `${rel} is locked by ${held.owner}, not by you (${owner})`, {
        hint: `Ask them to unlock it; if they cannot, break the lock with: dvs unlock --force ${rel}`,
        data: { lock: shown(held), remote: remote.spec.name },
      });
    }
    await records.remove(name, callOptions(remote));
    return { remote: ref, lock: shown(held), forced };
  });
}

export async function listLocks(ctx: OpContext, options: { remote?: string }): Promise<LocksResult> {
  const owner = await currentUser(ctx.repo.root);
  return withRemote(ctx, options.remote, async (remote, ref) => ({ remote: ref, locks: (await readLocks(remote)).map((l) => ({ ...shown(l), mine: l.owner === owner })) }));
}

/**
 * For `dvs track`: refuse when a change at `paths` (inside the append-only `dataset`) falls under a
 * partition someone else locked on the default remote. No remote: no locks to honour. A remote that
 * cannot be asked gives a warning, so that tracking works offline.
 */
export async function refuseLockedTrack(ctx: OpContext, dataset: string, paths: readonly string[], warnings: Warning[]): Promise<void> {
  if (paths.length === 0 || ctx.repo.config.remoteNames().length === 0) return;
  let locks: PartitionLock[];
  let remoteName: string;
  let owner: string;
  try {
    [locks, remoteName] = await withRemote(ctx, undefined, async (remote) => [remote.backend.locks ? await readLocks(remote) : [], remote.spec.name] as const);
    owner = await currentUser(ctx.repo.root);
  } catch (err) {
    if (isDvsError(err) && (err.code === 'NO_REMOTE' || err.code === 'REMOTE_NOT_FOUND')) return;
    warnings.push({ code: 'LOCKS_UNCHECKED', message: `${dataset}: partition locks were not checked: ${err instanceof Error ? err.message : String(err)}`, hint: 'Check `dvs locks` before pushing.', path: dataset });
    return;
  }
  for (const l of locks) {
    if (l.owner === owner || !overlaps(l.path, dataset)) continue;
    const hit = paths.find((p) => overlaps(l.path, `${dataset}/${p}`) || l.path === dataset);
    if (hit !== undefined) {
      const err = heldBy(l, remoteName);
      throw new DvsError('LOCK_HELD', `${dataset}/${hit}: not tracked: ${err.message}; nothing was written`, { hint: err.hint, data: err.data });
    }
  }
}

/**
 * For `dvs push`: refuse to send a version of a partition locked by someone else that holds a file the
 * lock's version did not (an append or a change made beside the holder). Remotes that cannot hold locks
 * have none to honour.
 */
export async function refuseLockedPush(repo: Repo, remote: OpenRemote, pointers: ReadonlyArray<{ dataPath: string; pointer: PointerData }>): Promise<void> {
  const dirs = pointers.filter((p) => p.pointer.kind === 'dir' && p.pointer.appendOnly);
  if (dirs.length === 0 || !remote.backend.locks) return;
  const owner = await currentUser(repo.root);
  const locks = (await readLocks(remote)).filter((l) => l.owner !== owner);
  for (const l of locks) {
    for (const p of dirs) {
      if (l.dataset !== p.dataPath) continue;
      const manifest = loadManifestIfPresent(repo.cache, p.pointer.oid, p.dataPath);
      if (!manifest) continue; // not in the cache: nothing of it can be pushed from here either
      const sub = l.path === l.dataset ? '' : l.path.slice(l.dataset.length + 1);
      const mine = partitionDigest(manifest, sub);
      if (mine.digest === l.digest) continue;
      // Only files the lock lists: an older version of the partition (the pre-push hook sends history).
      if (l.entries) {
        const listed = new Set(l.entries);
        if (mine.entries.every((e) => listed.has(e))) continue;
      }
      const err = heldBy(l, remote.spec.name);
      throw new DvsError('LOCK_HELD', `Not pushed: this version of ${p.dataPath} changes ${l.path}, and ${err.message}`, {
        hint: `Wait for \`dvs unlock ${l.path}\` (then pull and merge), or move your change out of that partition. ${err.hint}`,
        data: err.data,
      });
    }
  }
}
