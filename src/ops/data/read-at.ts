import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { DvsError, isDvsError } from '../../errors.js';
import { ObjectCache, objectPath } from '../../objects/cache.js';
import { loadManifest, type Manifest } from '../../objects/manifest.js';
import { shortOid, type Oid } from '../../objects/oid.js';
import { dataPathOf, parsePointer, pointerPathOf, type DataKind, type Pointer } from '../../pointer/format.js';
import { checkPointerName, readPointer } from '../../pointer/io.js';
import type { DownloadSource, RemoteBackend, RemoteSpec } from '../../remotes/types.js';
import { objectKey } from '../../remotes/types.js';
import { Repo } from '../../repo/repo.js';
import { BlobReader, pointersAtCommit, resolveRevision } from '../../scm/git.js';
import { corrupted, downloadToCache, stalled, verifiedStream } from '../../transfer/download.js';
import { catalogueDir, PackCatalogue } from '../../transfer/packs.js';
import { openObject } from '../../transfer/chunks.js';
import { canonicalUrl } from '../../remotes/url.js';
import type { QueueSettings } from '../../transfer/queue.js';
import { workspacePointersRead } from '../../workspace/references.js';
import { remoteSpec } from '../remote/open.js';
import { fetchManifest, ObjectSupply, sourceRemoteSpec } from '../registry/source-objects.js';
import { openSource, sourceDataPath, type SourceRepo } from '../registry/source-repo.js';

/**
 * Reading tracked data at any revision without a checkout (the library API's open/read/list/getUrl):
 * the pointer comes from Git's objects (or the workspace when no revision is named), a path inside a
 * tracked directory is found through its manifest, and the bytes come from the cache or straight from
 * the remote, hashed as they stream. Nothing in the workspace or the index changes.
 */
export interface ReadAtOptions {
  /** A branch, tag, commit or expression (`HEAD~1`); absent: the pointers in the workspace. */
  rev?: string;
  /** The repository: a local path (default: the current directory) or a Git URL (cloned, bare, into a temp dir). */
  repo?: string;
  /** The remote to read objects from (default: core.remote, or the only one). Local repositories only. */
  remote?: string;
}

/** What a path names at a revision. */
export interface DataEntry {
  /** From the top of the repository. */
  path: string;
  kind: DataKind;
  oid: Oid;
  size: number;
  /** Directories: number of files. */
  files?: number;
  /** Files inside a tracked directory: that directory. */
  trackedIn?: string;
}

/** A repository at one revision, whatever the kind of place it is read from. */
interface Snapshot {
  readonly label: string;
  pointerAt(pointerPath: string): Promise<Pointer | undefined>;
  pointersUnder(under?: string): Promise<Array<{ dataPath: string; pointer: Pointer }>>;
  manifest(oid: Oid, dataPath: string): Promise<Manifest>;
  object(oid: Oid, size: number): Promise<Readable>;
  objectUrl(oid: Oid): Promise<string | undefined>;
  close(): Promise<void>;
}

const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/|^[^/\s]+@[^/\s]+:/;

async function openSnapshot(cwd: string, options: ReadAtOptions): Promise<Snapshot> {
  if (options.repo !== undefined && URL_LIKE.test(options.repo)) {
    if (options.remote !== undefined) {
      throw new DvsError('UNEXPECTED_OPTION', `remote applies to a local repository; ${options.repo} is read through the remote its committed .dvs/config names`);
    }
    return sourceSnapshot(await openSource(cwd, options.repo, options.rev));
  }
  const repo = Repo.find(resolve(cwd, options.repo ?? '.'));
  try {
    return await localSnapshot(repo, options);
  } catch (err) {
    repo.close();
    throw err;
  }
}

/** Run `use` on a snapshot, closed afterwards whatever happens. */
async function withSnapshot<T>(cwd: string, options: ReadAtOptions, use: (s: Snapshot) => Promise<T>): Promise<T> {
  const snapshot = await openSnapshot(cwd, options);
  try {
    return await use(snapshot);
  } finally {
    await snapshot.close();
  }
}

/** The tracked data `dataPath` names, or the tracked directory it is inside (then `sub` is the rest). */
async function findOwner(s: Snapshot, dataPath: string): Promise<{ owner: string; pointer: Pointer; sub?: string } | undefined> {
  const parts = dataPath.split('/');
  for (let n = parts.length; n >= 1; n--) {
    const owner = parts.slice(0, n).join('/');
    const pointer = await s.pointerAt(pointerPathOf(owner));
    if (pointer === undefined) continue;
    if (n === parts.length) return { owner, pointer };
    return pointer.kind === 'dir' ? { owner, pointer, sub: parts.slice(n).join('/') } : undefined;
  }
  return undefined;
}

function notTracked(s: Snapshot, path: string): DvsError {
  return new DvsError('NOT_TRACKED', `${path}: not tracked by dvs in ${s.label}`, {
    hint: 'List what is tracked there with list() (dvs status in a checkout), or name another revision.',
    data: { path },
  });
}

/** The one file `path` names: tracked itself, or a file inside a tracked directory. */
async function resolveFile(s: Snapshot, path: string): Promise<DataEntry> {
  const dataPath = sourceDataPath(path);
  const found = await findOwner(s, dataPath);
  if (!found) throw notTracked(s, dataPath);
  const { owner, pointer, sub } = found;
  if (pointer.kind === 'file') return { path: dataPath, kind: 'file', oid: pointer.oid, size: pointer.size };
  if (sub === undefined) {
    throw new DvsError('IS_A_DIRECTORY', `${dataPath}: a tracked directory (${pointer.files ?? '?'} files), not a file`, {
      hint: `Open one of its files (list('${dataPath}') names them).`,
      data: { path: dataPath },
    });
  }
  const entry = (await s.manifest(pointer.oid, owner)).entries.find((e) => e.path === sub);
  if (!entry) throw notTracked(s, dataPath);
  return { path: dataPath, kind: 'file', oid: entry.oid, size: entry.size, trackedIn: owner };
}

/** A readable stream of a tracked file at a revision; it errors at the end if the bytes are not the file's. */
export async function openData(cwd: string, path: string, options: ReadAtOptions = {}): Promise<Readable> {
  const snapshot = await openSnapshot(cwd, options);
  let stream: Readable;
  try {
    const file = await resolveFile(snapshot, path);
    stream = await snapshot.object(file.oid, file.size);
  } catch (err) {
    await snapshot.close();
    throw err;
  }
  stream.once('close', () => void snapshot.close());
  return stream;
}

/** The tracked data at or under `path` (every tracked path when absent); the files of a tracked directory named. */
export function listData(cwd: string, path: string | undefined, options: ReadAtOptions & { recursive?: boolean } = {}): Promise<DataEntry[]> {
  return withSnapshot(cwd, options, async (s) => {
    const under = path === undefined || path === '' || path === '.' ? undefined : sourceDataPath(path);
    const found = under === undefined ? undefined : await findOwner(s, under);
    if (found) {
      const { owner, pointer, sub } = found;
      if (pointer.kind === 'file') return [{ path: owner, kind: 'file', oid: pointer.oid, size: pointer.size }];
      const files = await filesOf(s, owner, pointer.oid);
      const inside = sub === undefined ? files : files.filter((f) => f.path.startsWith(`${owner}/${sub}/`));
      if (inside.length === 0) throw notTracked(s, under!);
      return inside;
    }
    const data = await s.pointersUnder(under);
    if (under !== undefined && data.length === 0) throw notTracked(s, under);
    const out: DataEntry[] = [];
    for (const { dataPath, pointer } of data.sort((a, b) => (a.dataPath < b.dataPath ? -1 : 1))) {
      out.push({ path: dataPath, kind: pointer.kind, oid: pointer.oid, size: pointer.size, ...(pointer.kind === 'dir' ? { files: pointer.files } : {}) });
      if (options.recursive && pointer.kind === 'dir') out.push(...(await filesOf(s, dataPath, pointer.oid)));
    }
    return out;
  });
}

async function filesOf(s: Snapshot, owner: string, oid: Oid): Promise<DataEntry[]> {
  return (await s.manifest(oid, owner)).entries.map((e) => ({ path: `${owner}/${e.path}`, kind: 'file' as const, oid: e.oid, size: e.size, trackedIn: owner }));
}

/**
 * Where the remote keeps the object of `path` (a file, or a directory's manifest): a file path, s3://…,
 * gs://…, the blob's https URL on Azure, ssh://… or the http(s) URL; undefined when no remote is
 * configured, or when a packed remote keeps the object inside a pack or as chunks (it has no key of its
 * own there: read it with open()). Whether a loose object is really there is not asked; a packed remote's indexes are.
 */
export function dataUrl(cwd: string, path: string, options: ReadAtOptions = {}): Promise<string | undefined> {
  return withSnapshot(cwd, options, async (s) => {
    const dataPath = sourceDataPath(path);
    const found = await findOwner(s, dataPath);
    if (found?.pointer.kind === 'dir' && found.sub === undefined) return s.objectUrl(found.pointer.oid);
    return s.objectUrl((await resolveFile(s, path)).oid);
  });
}

/** Where a remote keeps an object, as its users name such places (its loose key; see dataUrl for packs). */
async function urlOnRemote(spec: RemoteSpec, oid: Oid, opened: () => Promise<{ backend: RemoteBackend; packs: PackCatalogue }>): Promise<string | undefined> {
  if (spec.options.format === 'packed') {
    const { packs } = await opened();
    await packs.learn([oid]);
    if (packs.lookup(oid) || packs.chunked(oid)) return undefined;
  }
  const location = spec.location;
  switch (location.scheme) {
    case 'local':
      return objectPath(location.path, oid);
    case 's3':
      return `s3://${location.bucket}/${objectKey(location.prefix, oid)}`;
    case 'gcs':
      return `gs://${location.bucket}/${objectKey(location.prefix, oid)}`;
    case 'azure': {
      // The account's endpoint may come from a connection string: the backend knows it.
      const { backend } = await opened();
      return backend.serviceUrl === undefined ? undefined : `${backend.serviceUrl.replace(/\/+$/, '')}/${location.container}/${objectKey(location.prefix, oid)}`;
    }
    case 'ssh': {
      const user = location.user === undefined ? '' : `${encodeURIComponent(location.user)}@`;
      const port = location.port === undefined ? '' : `:${location.port}`;
      return `ssh://${user}${location.host}${port}${location.path.replace(/\/+$/, '')}/${objectKey('', oid)}`;
    }
    case 'http':
      return `${location.url.replace(/\/+$/, '')}/${objectKey('', oid)}`;
    default:
      return undefined;
  }
}

/** A stream handed to the caller is watched for stalls as the transfer queue watches its requests. */
function stallWatch(spec: RemoteSpec): { ms: number; error(): Error } {
  return { ms: spec.timeoutSeconds * 1000, error: () => stalled(spec.name, spec.timeoutSeconds) };
}

function signal(): AbortSignal {
  return new AbortController().signal;
}

/** This clone: its workspace or Git's objects for pointers, its cache, then its remote. */
async function localSnapshot(repo: Repo, options: ReadAtOptions): Promise<Snapshot> {
  const commit = options.rev === undefined ? undefined : await resolveRevision(repo.root, options.rev);
  const reader = commit === undefined ? undefined : new BlobReader(repo.root);
  let remote: { spec: RemoteSpec; backend: RemoteBackend; packs: PackCatalogue } | undefined;
  const openedRemote = async () => {
    if (remote) return remote;
    const spec = remoteSpec(repo, options.remote);
    const backend = await (await import('../../remotes/index.js')).openBackend(spec);
    const packs = new PackCatalogue({ backend, settings: readerSettings(spec.name) }, catalogueDir(repo.paths.tmp, canonicalUrl(spec.location, spec.options.endpoint ?? backend.serviceUrl)));
    remote = { spec, backend, packs };
    return remote;
  };
  const label = commit === undefined ? `the workspace of ${repo.root}` : `${repo.root} at ${commit.slice(0, 10)}`;
  const snapshot: Snapshot = {
    label,
    async pointerAt(pointerPath) {
      checkPointerName(pointerPath);
      if (reader === undefined) {
        // In the workspace, a folder on the way may be a link out of the repository.
        repo.guard.check(dataPathOf(pointerPath), pointerPath);
        try {
          return readPointer(repo.root, pointerPath);
        } catch (err) {
          if (isDvsError(err) && err.code === 'POINTER_NOT_FOUND') return undefined;
          throw err;
        }
      }
      const text = await reader.read(`${commit}:${pointerPath}`);
      return text === undefined ? undefined : parsePointer(text.toString('utf8'), `${pointerPath} at ${commit!.slice(0, 10)}`);
    },
    async pointersUnder(under) {
      if (commit === undefined) return workspacePointersRead(repo, under === undefined ? undefined : [under]);
      const out: Array<{ dataPath: string; pointer: Pointer }> = [];
      for (const entry of await pointersAtCommit(repo.root, commit, under === undefined ? undefined : [under, pointerPathOf(under)])) {
        const dataPath = dataPathOf(entry.path);
        if (under !== undefined && dataPath !== under && !dataPath.startsWith(under + '/')) continue;
        const pointer = await snapshot.pointerAt(entry.path);
        if (pointer) out.push({ dataPath, pointer });
      }
      return out;
    },
    async manifest(oid, dataPath) {
      if (!repo.cache.has(oid)) {
        const { spec, backend, packs } = await openedRemote();
        await downloadToCache(backend, repo.cache, oid, { signal: signal() }, spec.name, (o, call) => openObject(backend, packs, o, call, spec.name));
      }
      return loadManifest(repo.cache, oid, dataPath);
    },
    async object(oid, size) {
      const cached = repo.cache.sizeOf(oid);
      if (cached !== undefined) {
        const path = repo.cache.pathOf(oid);
        return verifiedStream({ type: 'file', path, size: cached }, oid, {
          mismatch: () =>
            new DvsError('OBJECT_CORRUPTED', `The cache object ${shortOid(oid)} is corrupted (its bytes do not hash to its name)`, {
              hint: 'Run `dvs verify` to quarantine it, then fetch it again from a remote.',
              data: { oid, path },
            }),
        });
      }
      const { spec, backend, packs } = await openedRemote();
      const source = await openObject(backend, packs, oid, { signal: signal() }, spec.name);
      return verifiedStream(withSize(source, size), oid, { mismatch: (actual) => corrupted(spec.name, oid, actual), cache: repo.cache, stall: stallWatch(spec) });
    },
    async objectUrl(oid) {
      try {
        return await urlOnRemote(remoteSpec(repo, options.remote), oid, openedRemote);
      } catch (err) {
        if (isDvsError(err) && err.code === 'NO_REMOTE' && options.remote === undefined) return undefined;
        throw err;
      }
    },
    async close() {
      reader?.close();
      if (remote) {
        await remote.backend.close();
        await (await import('../../remotes/local-copy.js')).closeCopyPool();
      }
      repo.close();
    },
  };
  return snapshot;
}

/** A stream download whose size the store did not say is held to the size the pointer records. */
function withSize(source: DownloadSource, size: number): DownloadSource {
  return source.type === 'stream' && source.size === undefined ? { ...source, size } : source;
}

/** Another repository, cloned bare into a temp dir: its cache when it is a local clone, else its remote. */
function sourceSnapshot(source: SourceRepo): Snapshot {
  const cacheDir = mkdtempSync(join(tmpdir(), 'dvs-read-'));
  const cache = new ObjectCache(cacheDir);
  let supply: ObjectSupply | undefined;
  let backend: RemoteBackend | undefined;
  let spec: RemoteSpec | undefined;
  let packs: PackCatalogue | undefined;
  const sharedCache = source.localRoot ? join(source.localRoot, '.dvs', 'cache') : undefined;
  const openedRemote = async (remote: RemoteSpec) => {
    backend ??= await (await import('../../remotes/index.js')).openBackend(remote);
    packs ??= new PackCatalogue({ backend, settings: readerSettings(remote.name) }, join(cacheDir, 'packs'));
    return { backend, packs };
  };
  const snapshot: Snapshot = {
    label: `${source.url} at ${source.commit.slice(0, 10)}`,
    async pointerAt(pointerPath) {
      checkPointerName(pointerPath);
      const text = await source.readText(pointerPath);
      return text === undefined ? undefined : parsePointer(text, `${source.url}:${pointerPath}`);
    },
    async pointersUnder(under) {
      const out: Array<{ dataPath: string; pointer: Pointer }> = [];
      for (const entry of await source.pointers(under)) {
        const dataPath = dataPathOf(entry.path);
        if (under !== undefined && dataPath !== under && !dataPath.startsWith(under + '/')) continue;
        const pointer = await snapshot.pointerAt(entry.path);
        if (pointer) out.push({ dataPath, pointer });
      }
      return out;
    },
    async manifest(oid, dataPath) {
      supply ??= await ObjectSupply.of(source);
      return (await fetchManifest(supply, cache, oid, dataPath)).manifest;
    },
    async object(oid, size) {
      const shared = sharedCache === undefined ? undefined : objectPath(sharedCache, oid);
      const sharedSize = shared === undefined ? undefined : statSync(shared, { throwIfNoEntry: false })?.size;
      if (shared !== undefined && sharedSize !== undefined) {
        return verifiedStream({ type: 'file', path: shared, size: sharedSize }, oid, { mismatch: (actual) => corrupted(`the cache of ${source.localRoot}`, oid, actual) });
      }
      spec ??= sourceRemoteSpec(source, await source.readText('.dvs/config'));
      if (spec === undefined) {
        throw new DvsError('SOURCE_NO_REMOTE', `${source.url} names no dvs remote in its committed .dvs/config, and has no cache here to read from`, {
          hint: 'Ask its owners to set a default remote (dvs remote add --default …), or give the path of a local clone that has the data in its cache.',
        });
      }
      const opened = await openedRemote(spec);
      const name = spec.name;
      const stall = stallWatch(spec);
      return verifiedStream(withSize(await openObject(opened.backend, opened.packs, oid, { signal: signal() }, name), size), oid, { mismatch: (actual) => corrupted(name, oid, actual), stall });
    },
    async objectUrl(oid) {
      spec ??= sourceRemoteSpec(source, await source.readText('.dvs/config'));
      const known = spec;
      return known === undefined ? undefined : urlOnRemote(known, oid, () => openedRemote(known));
    },
    async close() {
      await supply?.close();
      await backend?.close();
      source.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
  return snapshot;
}

/** Listing a remote's pack indexes outside a transfer (the library's read): a few requests at a time. */
function readerSettings(name: string): QueueSettings {
  return { jobs: 4, retries: 4, stallMs: 30_000, label: `remote "${name}"` };
}
