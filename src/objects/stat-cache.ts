import { closeSync, fstatSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeTempsBeside, writeFileAtomic } from '../base/atomic.js';
import { readFullyAt } from '../base/read-at.js';
import { openSqlite, type SqlDatabase, type SqlStatement } from './sqlite.js';
import { sha256Hex, type FileStamp } from './hash.js';
import { SnapshotBuilder, STAMP_BYTES, type DirectorySnapshot } from './snapshot.js';
import type { Oid } from './oid.js';
import type { ValidManifests } from './manifest.js';
import { DvsError } from '../errors.js';

/**
 * The stat cache remembers which content a file had when dvs last read it: (device, inode) -> (mtime
 * in ns, size, oid). If a file's stat still matches, its oid is known without reading a byte; this is
 * what keeps `dvs status` and re-`track` of unchanged data fast. It is only a cache: losing it costs
 * re-hashing, never correctness, so it is written without fsync and rebuilt if unreadable.
 *
 * Five tables: `files` (workspace files), `objects` (cache objects known to hash to their name, so
 * checkout need not re-read them), `complete` (directory manifests whose every object was in the
 * cache when last checked; anything that deletes objects clears it), `valid_manifests_1` (manifests
 * that passed parseManifest's checks, version 1 of them: a manifest's bytes are checked against its
 * oid at every read, so they need not be checked again) and `dirs` (read only: what earlier versions
 * kept in the directory snapshot files below). Beside the database, in `snapshots/`, one file per
 * tracked directory: the stamps of its files in the order of a manifest, like Git's index. Checking
 * 100,000 unchanged files against it costs a stat each and no per-file query.
 *
 * Racy stamps: a file modified twice within one timestamp tick (a jiffy, at most 10 ms on Linux) keeps
 * its mtime and size. A file that was read less than RACY_WINDOW after its last modification is
 * therefore not recorded; it is re-hashed next time. Files dvs wrote itself (checkout) are recorded at
 * once: only a same-size rewrite by another program within one tick of dvs's own write would be missed.
 */
const RACY_WINDOW_NS = 100_000_000n;
const SCHEMA_VERSION = 4;
/** Rows of the files table up to which preload() holds them all in a map (about 200 bytes each). */
const PRELOAD_LIMIT = 250_000;

type Row = [dev: number, mtime: string, size: number, oid: Oid];
type Table = 'files' | 'objects';

export class StatCache implements ValidManifests {
  private readonly db: SqlDatabase;
  private readonly selectOne: Record<Table, SqlStatement>;
  private readonly upsert: Record<Table, SqlStatement>;
  /** Preloaded `files` rows by inode (a number key is much cheaper than a composite string). */
  private all?: Map<number, Row>;
  private tooBigToPreload = false;
  private pending: Array<[Table, number, number, string, number, Oid]> = [];
  private completeCache = new Map<Oid, boolean>();
  private completePending = new Set<Oid>();
  private validPending = new Set<Oid>();

  private constructor(
    db: SqlDatabase,
    /** Where directory snapshots are kept, one file each (see getDirectory). */
    private readonly snapshotDir: string,
  ) {
    this.db = db;
    // busy_timeout first: switching to WAL itself waits for a lock another dvs may hold.
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = OFF');
    if (this.db.prepare('PRAGMA user_version').get()?.[0] !== SCHEMA_VERSION) {
      this.db.exec('DROP TABLE IF EXISTS state; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS objects; DROP TABLE IF EXISTS complete; DROP TABLE IF EXISTS dirs;');
      this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    }
    for (const t of ['files', 'objects']) {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${t} (ino INTEGER NOT NULL, dev INTEGER NOT NULL, mtime TEXT NOT NULL, size INTEGER NOT NULL, oid TEXT NOT NULL, PRIMARY KEY (ino, dev)) WITHOUT ROWID`);
    }
    this.db.exec('CREATE TABLE IF NOT EXISTS complete (oid TEXT PRIMARY KEY) WITHOUT ROWID');
    this.db.exec('CREATE TABLE IF NOT EXISTS valid_manifests_1 (oid TEXT PRIMARY KEY) WITHOUT ROWID');
    this.db.exec('CREATE TABLE IF NOT EXISTS dirs (path TEXT PRIMARY KEY, manifest TEXT NOT NULL, listing TEXT NOT NULL, stamps BLOB NOT NULL) WITHOUT ROWID');
    const stmt = (sql: string) => this.db.prepare(sql);
    this.selectOne = {
      files: stmt('SELECT dev, mtime, size, oid FROM files WHERE ino = ? AND dev = ?'),
      objects: stmt('SELECT dev, mtime, size, oid FROM objects WHERE ino = ? AND dev = ?'),
    };
    this.upsert = {
      files: stmt('INSERT OR REPLACE INTO files (ino, dev, mtime, size, oid) VALUES (?, ?, ?, ?, ?)'),
      objects: stmt('INSERT OR REPLACE INTO objects (ino, dev, mtime, size, oid) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  static open(path: string): StatCache {
    mkdirSync(dirname(path), { recursive: true });
    const snapshots = join(dirname(path), 'snapshots');
    try {
      return new StatCache(openSqlite(path), snapshots);
    } catch (err) {
      if (err instanceof DvsError) throw err;
      // An unreadable stat cache is thrown away: it only ever saves work.
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      return new StatCache(openSqlite(path), snapshots);
    }
  }

  /** Load every file entry into memory: cheaper than one query per file when checking thousands. */
  preload(): void {
    if (this.all || this.tooBigToPreload) return;
    // A table of millions of files (a directory of millions) would cost gigabytes as a map: then each
    // file is looked up by its own query, memory stays flat.
    this.tooBigToPreload = (this.db.prepare('SELECT count(*) FROM files').get() as [number])[0] > PRELOAD_LIMIT;
    if (this.tooBigToPreload) return;
    this.all = new Map();
    const rows = this.db.prepare('SELECT ino, dev, mtime, size, oid FROM files').all() as unknown as Array<[number, number, string, number, Oid]>;
    for (const r of rows) this.all.set(r[0], [r[1], r[2], r[3], r[4]]);
  }

  /** The oid recorded for this exact stamp of a workspace file, if any. */
  get(stamp: FileStamp): Oid | undefined {
    const row = this.all ? this.all.get(stamp.ino) : (this.selectOne.files.get(stamp.ino, stamp.dev) as Row | undefined);
    return matches(row, stamp);
  }

  /**
   * Remember a file's oid (written at the next flush). Files modified just before they were read are
   * skipped (racy) unless `writtenByDvs`.
   */
  set(stamp: FileStamp, oid: Oid, writtenByDvs = false): void {
    if (!writtenByDvs && BigInt(Date.now()) * 1_000_000n - stamp.mtimeNs < RACY_WINDOW_NS) return;
    // Not added to the preloaded map: a file is looked up once per command, and holding 100,000 new
    // entries twice (map and pending rows) is what made tracking a big directory heavy.
    this.queue('files', stamp, String(stamp.mtimeNs), oid);
  }

  /** The oid a cache object was verified to have at this stamp, if any. */
  getObject(stamp: FileStamp): Oid | undefined {
    return matches(this.selectOne.objects.get(stamp.ino, stamp.dev) as Row | undefined, stamp);
  }

  /** Remember that the cache object at this stamp hashes to `oid` (dvs wrote or verified it). */
  setObject(stamp: FileStamp, oid: Oid): void {
    this.queue('objects', stamp, String(stamp.mtimeNs), oid);
  }

  /**
   * The stamps recorded for a tracked directory's files, in the order of `manifest`'s entries. Kept in a
   * file of their own (32 bytes a file: 640 KB for 20,000 files), read in one system call; through
   * SQLite the same bytes were a chain of 160 overflow pages, a tenth of a `dvs status` that finds
   * nothing changed. A row of the `dirs` table (written by earlier versions) still serves until the
   * directory's next snapshot replaces it.
   */
  getDirectory(dataPath: string): DirectorySnapshot | undefined {
    const stored = readSnapshotFile(this.snapshotFile(dataPath), dataPath);
    if (stored) return stored;
    const row = this.db.prepare('SELECT manifest, listing, stamps FROM dirs WHERE path = ?').get(dataPath) as [manifest: Oid, listing: string, stamps: Uint8Array] | undefined;
    if (!row || !(row[2] instanceof Uint8Array) || row[2].byteLength % STAMP_BYTES !== 0) return undefined;
    const [manifest, listing, stamps] = row;
    const n = stamps.byteLength / STAMP_BYTES;
    // Copy into aligned memory: typed arrays need 8-byte alignment, SQLite's buffer may not have it.
    const bytes = new Uint8Array(stamps.byteLength);
    bytes.set(stamps);
    // Moved to its file, so that the next command reads it the quick way.
    this.writeSnapshot(dataPath, manifest, listing, bytes);
    return { manifest, listing, numbers: new Float64Array(bytes.buffer, 0, 3 * n), mtimes: new BigInt64Array(bytes.buffer, 24 * n, n) };
  }

  /**
   * Record a directory's stamps in manifest order (undefined: do not vouch for that file). Files modified
   * just before they were read are left out, as in `set`.
   */
  setDirectory(dataPath: string, manifest: Oid, listing: string, stamps: Array<FileStamp | undefined>): void {
    const builder = this.snapshotBuilder();
    for (const st of stamps) builder.push(st);
    this.setDirectorySnapshot(dataPath, manifest, listing, builder);
  }

  /** A builder of a directory's stamps for setDirectorySnapshot, with this moment's racy cut-off. */
  snapshotBuilder(): SnapshotBuilder {
    return new SnapshotBuilder(BigInt(Date.now()) * 1_000_000n - RACY_WINDOW_NS);
  }

  /** setDirectory for stamps gathered one by one (a directory too big to list its files at once). */
  setDirectorySnapshot(dataPath: string, manifest: Oid, listing: string, stamps: SnapshotBuilder): void {
    this.writeSnapshot(dataPath, manifest, listing, stamps.bytes());
  }

  private writeSnapshot(dataPath: string, manifest: Oid, listing: string, stamps: Uint8Array): void {
    const header = Buffer.from(`${SNAPSHOT_MAGIC}\n${dataPath}\n${manifest} ${listing}\n`);
    const file = this.snapshotFile(dataPath);
    try {
      mkdirSync(this.snapshotDir, { recursive: true });
      // A write killed before its rename left its temp file here (32 bytes per file of the directory).
      // Removed without the repository lock (a status does not take it): a writer of the same snapshot
      // at this moment whose temp file goes with it only fails to record its snapshot, below.
      removeTempsBeside(this.snapshotDir, [basename(file)]);
      // Whole or not at all (temp file and rename): two commands may record the same directory at once.
      writeFileAtomic(file, Buffer.concat([header, stamps]));
    } catch {
      return; // a state folder that cannot be written costs a later re-check, never correctness
    }
    this.db.prepare('DELETE FROM dirs WHERE path = ?').run(dataPath);
  }

  private snapshotFile(dataPath: string): string {
    return join(this.snapshotDir, `${sha256Hex(dataPath).slice(0, 32)}.snapshot`);
  }

  /** Whether every object of this directory manifest was in the cache when last checked. */
  isComplete(manifest: Oid): boolean {
    let known = this.completeCache.get(manifest);
    if (known === undefined) {
      known = this.db.prepare('SELECT 1 FROM complete WHERE oid = ?').get(manifest) !== undefined;
      this.completeCache.set(manifest, known);
    }
    return known;
  }

  markComplete(manifest: Oid): void {
    if (this.completeCache.get(manifest) === true) return;
    this.completeCache.set(manifest, true);
    this.completePending.add(manifest);
  }

  /** Whether this manifest passed parseManifest's checks before (see ValidManifests in manifest.ts). */
  isValidManifest(manifest: Oid): boolean {
    return this.validPending.has(manifest) || this.db.prepare('SELECT 1 FROM valid_manifests_1 WHERE oid = ?').get(manifest) !== undefined;
  }

  markValidManifest(manifest: Oid): void {
    this.validPending.add(manifest);
  }

  /** Forget every completeness mark: called by whatever deletes or quarantines cache objects. */
  clearComplete(): void {
    this.completeCache.clear();
    this.completePending.clear();
    this.db.exec('DELETE FROM complete');
  }

  private queue(table: Table, stamp: FileStamp, mtime: string, oid: Oid): void {
    this.pending.push([table, stamp.ino, stamp.dev, mtime, stamp.size, oid]);
    if (this.pending.length >= 10_000) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0 && this.completePending.size === 0 && this.validPending.size === 0) return;
    const rows = this.pending;
    const complete = [...this.completePending];
    const valid = [...this.validPending];
    this.pending = [];
    this.completePending.clear();
    this.validPending.clear();
    const insertComplete = this.db.prepare('INSERT OR IGNORE INTO complete (oid) VALUES (?)');
    const insertValid = this.db.prepare('INSERT OR IGNORE INTO valid_manifests_1 (oid) VALUES (?)');
    this.db.exec('BEGIN');
    try {
      for (const [table, ino, dev, mtime, size, oid] of rows) this.upsert[table].run(ino, dev, mtime, size, oid);
      for (const oid of complete) insertComplete.run(oid);
      for (const oid of valid) insertValid.run(oid);
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

const SNAPSHOT_MAGIC = 'dvs-snapshot 1';
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * A snapshot file: "dvs-snapshot 1", the directory's path, "<manifest oid> <listing hash>", each on a
 * line, then the stamps as setDirectory stores them. Anything else (absent, torn by a crash, another
 * directory's whose path hashed the same) is no snapshot: the directory is then checked file by file.
 */
function readSnapshotFile(file: string, dataPath: string): DirectorySnapshot | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return readSnapshotFrom(fd, dataPath);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The longest snapshot header read: the magic, a path (PATH_MAX is 4,096 bytes) and two hashes. */
const SNAPSHOT_HEADER_MAX = 8192;

/**
 * The header is read on its own, then the stamps straight into memory of their own (typed arrays need
 * 8-byte alignment, and the header's length is the path's): one copy of the 640 kB of a 20,000-file
 * directory instead of two, whose fresh pages were some 160 page faults of each status.
 */
function readSnapshotFrom(fd: number, dataPath: string): DirectorySnapshot | undefined {
  const fileSize = fstatSync(fd).size;
  const head = Buffer.allocUnsafe(Math.min(fileSize, SNAPSHOT_HEADER_MAX));
  if (readFullyAt(fd, head, 0) < head.length) return undefined;
  const lineEnd = (from: number) => head.indexOf(10, from);
  const first = lineEnd(0);
  const second = first < 0 ? -1 : lineEnd(first + 1);
  const third = second < 0 ? -1 : lineEnd(second + 1);
  if (third < 0) return undefined;
  if (head.toString('utf8', 0, first) !== SNAPSHOT_MAGIC || head.toString('utf8', first + 1, second) !== dataPath) return undefined;
  const [manifest, listing, extra] = head.toString('latin1', second + 1, third).split(' ');
  const size = fileSize - third - 1;
  if (extra !== undefined || !HEX64.test(manifest) || !HEX64.test(listing ?? '') || size % STAMP_BYTES !== 0) return undefined;
  const n = size / STAMP_BYTES;
  const stamps = new Uint8Array(size);
  if (readFullyAt(fd, stamps, third + 1) < size) return undefined; // cut short meanwhile
  return { manifest, listing, numbers: new Float64Array(stamps.buffer, 0, 3 * n), mtimes: new BigInt64Array(stamps.buffer, 24 * n, n) };
}

function matches(row: Row | undefined, stamp: FileStamp): Oid | undefined {
  if (!row || row[0] !== stamp.dev || row[2] !== stamp.size || row[1] !== String(stamp.mtimeNs)) return undefined;
  return row[3];
}
