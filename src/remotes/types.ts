import type { Readable } from 'node:stream';
import type { Oid } from '../objects/oid.js';

/**
 * The contract between the transfer queue and a storage backend. A backend only moves bytes: it says
 * which objects exist, lists them, uploads, downloads and deletes. Dedupe, concurrency, retries,
 * timeouts, progress, hash verification of downloads and the order of uploads are the queue's
 * (src/transfer/), so every backend gets them the same way.
 *
 * Objects live at `<prefix>/<oid[0:2]>/<oid[2:]>`, like the cache. A backend must never make an object
 * visible under its name before all its bytes are there (temp file + rename, S3 PUT/multipart
 * completion, GCS upload finalisation, Azure block-list commit), and must not finish an upload whose source bytes do not hash
 * to the oid (see UploadSource).
 */
export type RemoteScheme = 'local' | 's3' | 'gcs' | 'azure' | 'ssh' | 'http';

export type RemoteLocation =
  | { scheme: 'local'; path: string }
  | { scheme: 's3'; bucket: string; prefix: string }
  | { scheme: 'gcs'; bucket: string; prefix: string }
  | { scheme: 'azure'; container: string; prefix: string }
  | { scheme: 'ssh'; host: string; port?: number; user?: string; path: string }
  /** `url`: `http(s)://host[:port]/path`, no trailing slash, no credentials, query or fragment. */
  | { scheme: 'http'; url: string };

/** Options a remote may carry, as in `remote.<name>.<option>` (repo/config.ts REMOTE_OPTIONS). */
export interface RemoteOptions {
  endpoint?: string;
  region?: string;
  profile?: string;
  path_style?: boolean;
  checksum?: string;
  credentials_file?: string;
  access_key_id?: string;
  secret_access_key?: string;
  session_token?: string;
  project?: string;
  account_name?: string;
  account_key?: string;
  connection_string?: string;
  sas_token?: string;
  jobs?: number;
  /** SSH: user name (default: the URL's, else the local user); HTTP(S) basic auth: user name (config.local only). */
  user?: string;
  /** SSH port (default: the URL's, else 22). */
  port?: number;
  key_file?: string;
  known_hosts?: string;
  /** SSH or HTTP(S) basic-auth password: a secret (never the committed config). */
  password?: string;
  /** HTTP(S): basic, bearer or none; user/password/token are secrets (never the committed config). */
  auth?: string;
  token?: string;
  /** HTTP(S): a PEM file of a private CA to trust besides the system's. */
  ca_file?: string;
  /** How push stores small objects: packed or loose (docs/remote-format.md). */
  format?: RemoteFormat;
}

export type RemoteFormat = 'packed' | 'loose';

/** A configured remote: name, where it is and how to reach it. */
export interface RemoteSpec {
  name: string;
  /** As written in the config. */
  url: string;
  location: RemoteLocation;
  options: RemoteOptions;
  /** For each option set, the file it came from (for messages about credentials). */
  sources: Partial<Record<keyof RemoteOptions | 'url', string>>;
  /** Repository root: relative local paths and credential files are relative to it. */
  root: string;
  /** Seconds a request may stall, from transfer.timeout. */
  timeoutSeconds: number;
}

export interface CallOptions {
  /** Aborted when the request stalls or the queue stops. */
  signal: AbortSignal;
  /** Called as bytes move, so that the queue can show progress and tell a slow transfer from a stall. */
  onBytes?: (n: number) => void;
}

/** What to upload: a file (normally a cache object) that must hash to `oid`. */
export interface UploadSource {
  oid: Oid;
  path: string;
  size: number;
  /**
   * The file is a temp file of this command (a pack, an index or a chunk list it built), never changed
   * and deleted after the upload: a remote on the same file system may give it a second name (a hard
   * link) instead of copying its bytes. Never set for a cache object (a link would tie the remote's
   * copy to the cache's).
   */
  temporary?: boolean;
}

/** A download: either a readable file (local remotes) or a byte stream, hashed by the queue. */
export type DownloadSource =
  | { type: 'file'; path: string; size: number }
  | { type: 'stream'; stream: Readable; size?: number };

export interface ListedObject {
  oid: Oid;
  size: number;
  /** Last modification, when the store says. */
  modified?: Date;
}

/**
 * A file of the packed format (docs/remote-format.md) under `<prefix>/packs/`: `<sha256>.pack` or
 * `<sha256>.idx`, where the hash is that of the file's bytes, or `<oid>.chunks`, the chunk list of the
 * object `<oid>` (the hash of the bytes its chunks join to).
 */
export interface PackFileInfo {
  name: string;
  size: number;
  modified?: Date;
}

/** Bytes `[start, end)` of a stored file. */
export interface ByteRange {
  start: number;
  end: number;
}

/** `<hash>.pack`, `<hash>.idx` or `<oid>.chunks` (a chunk list); anything else under `packs/` is not dvs's. */
export function isPackFileName(name: string): boolean {
  return /^[0-9a-f]{64}\.(pack|idx|chunks)$/.test(name);
}

export function packFileKey(prefix: string, name: string): string {
  return `${prefix ? prefix + '/' : ''}packs/${name}`;
}

export interface RemoteBackend {
  readonly scheme: RemoteScheme;
  /** For messages: `s3://bucket/prefix (endpoint http://…)`. */
  readonly display: string;
  /** Parallel transfers when neither -j nor the config says. */
  readonly defaultJobs: number;
  /** How many oids one `stat` call takes (a HEAD each on object stores, a stat each locally). */
  readonly statBatchSize: number;
  /** Objects one listing request returns at most. */
  readonly listPageSize: number;
  /** Whether requests go over a network (stall timeouts apply). */
  readonly network: boolean;
  /**
   * The remote can only be read (HTTP(S)): upload, delete and writeMarker throw REMOTE_READ_ONLY, and
   * commands that write (push, gc --remote, track --to-remote) refuse before doing any work.
   */
  readonly readOnly?: boolean;
  /**
   * The service URL when the remote's options do not name it but it decides which store this is (an
   * Azure container name is unique only within its account): it keys the record of what the remote holds.
   */
  readonly serviceUrl?: string;

  /** Size of each object, or undefined where it does not exist. */
  stat(oids: readonly Oid[], options: CallOptions): Promise<Array<number | undefined>>;
  /**
   * Every object whose oid starts with `shard` (two hex digits), or every object; page by page. Absent
   * where the store cannot list (a static web server): callers then ask with `stat`, object by object.
   */
  list?(shard: string | undefined, options: CallOptions): AsyncIterable<ListedObject[]>;
  upload(source: UploadSource, options: CallOptions): Promise<void>;
  /** Throws a RemoteError with reason 'not-found' when the object is not there. */
  download(oid: Oid, options: CallOptions): Promise<DownloadSource>;
  /** Delete objects; missing ones are not an error. */
  delete(oids: readonly Oid[], options: CallOptions): Promise<void>;
  /**
   * The remote's epoch marker (`<prefix>/dvs-epoch`, a short text): changed by every dvs command that
   * deletes objects, so that clones know their record of what the remote holds is stale.
   */
  readMarker(options: CallOptions): Promise<string | undefined>;
  writeMarker(value: string, options: CallOptions): Promise<void>;
  /**
   * The packed format (docs/remote-format.md): files under `<prefix>/packs/`, each named by the hash of
   * its bytes. Every backend reads them; HTTP(S), read-only, has no put or delete, and its listing throws
   * REMOTE_CANNOT_LIST where the web server does not list `packs/` (only its loose objects are then found).
   * putPackFile: like upload (atomic, refuses a source whose bytes do not hash to `source.oid`: the hash in
   * `name`, except for a chunk list, named by the object it lists).
   */
  putPackFile?(name: string, source: UploadSource, options: CallOptions): Promise<void>;
  /** The whole file, or `range` of it (a ranged GET). Throws a RemoteError with reason 'not-found' when it is gone. */
  readPackFile?(name: string, range: ByteRange | undefined, options: CallOptions): Promise<DownloadSource>;
  /** Every pack file, page by page. */
  listPackFiles?(options: CallOptions): AsyncIterable<PackFileInfo[]>;
  /** Delete pack files; missing ones are not an error. */
  deletePackFiles?(names: readonly string[], options: CallOptions): Promise<void>;
  /**
   * Partition locks (`<prefix>/dvs-locks/<name>`): small records written create-only, so that of two
   * clones creating one name exactly one succeeds. Absent where the store cannot refuse to overwrite.
   */
  readonly locks?: LockRecords;
  /** Remove leftovers of killed uploads older than `olderThanMs` (temp files, multipart uploads). */
  cleanup?(olderThanMs: number, options: CallOptions): Promise<number>;
  close(): Promise<void>;
}

export const MARKER_NAME = 'dvs-epoch';

/** The folder of lock records below a remote's prefix. */
export const LOCKS_DIR = 'dvs-locks';

/** Create-only small records (see RemoteBackend.locks). Names are `[0-9a-f]{64}.json`. */
export interface LockRecords {
  /** Write `body` under `name` only if nothing is there yet: true if this call wrote it, false if a record was there. */
  create(name: string, body: string, options: CallOptions): Promise<boolean>;
  /** The record's text, or undefined when there is none. */
  read(name: string, options: CallOptions): Promise<string | undefined>;
  /** Every record's name. */
  list(options: CallOptions): Promise<string[]>;
  /** Remove a record; a missing one is not an error. */
  remove(name: string, options: CallOptions): Promise<void>;
}

/** `<prefix>/dvs-locks/<name>`. */
export function lockKey(prefix: string, name: string): string {
  return `${prefix ? prefix + '/' : ''}${LOCKS_DIR}/${name}`;
}

export const LOCK_NAME = /^[0-9a-f]{64}\.json$/;

/** `<prefix>/<oid[0:2]>/<oid[2:]>`, with no leading slash when the prefix is empty. */
export function objectKey(prefix: string, oid: Oid): string {
  return `${prefix ? prefix + '/' : ''}${oid.slice(0, 2)}/${oid.slice(2)}`;
}

/** The oid of a key under `prefix`, or undefined for anything else (temp files, strays). */
export function oidOfKey(prefix: string, key: string): Oid | undefined {
  const rest = prefix ? (key.startsWith(prefix + '/') ? key.slice(prefix.length + 1) : undefined) : key;
  if (rest === undefined || rest.length !== 65 || rest[2] !== '/') return undefined;
  const oid = rest.slice(0, 2) + rest.slice(3);
  return /^[0-9a-f]{64}$/.test(oid) ? oid : undefined;
}

/** Remotes dvs can only read from, known from the URL alone (so that writers refuse before any work). */
export function isReadOnlyLocation(location: RemoteLocation): boolean {
  return location.scheme === 'http';
}
