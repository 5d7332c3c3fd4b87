import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, fromSystemError, isDvsError } from '../errors.js';
import { isOid, shortOid, type Oid } from '../objects/oid.js';
import { removeOrphanedTemp, removeStaleTemp } from '../base/atomic.js';
import { ownedTempPrefix } from '../base/temp-names.js';
import { notOnRemote, packGone } from './common.js';
import { RemoteError } from './errors.js';
import { hashFileInSlices } from '../objects/hash.js';
import { hashingCopy } from './local-copy.js';
import { isPackFileName, MARKER_NAME, type ByteRange, type CallOptions, type PackFileInfo, type DownloadSource, type ListedObject, type RemoteBackend, type RemoteSpec, type UploadSource, LOCK_NAME, LOCKS_DIR, type LockRecords } from './types.js';

/**
 * A remote in a directory (another disk, a network mount). Same layout as the cache: `<root>/ab/cdef…`,
 * read-only objects, uploads written to `<root>/tmp/` while hashed and renamed into place only when
 * their bytes hash to their name.
 */
export class LocalBackend implements RemoteBackend {
  readonly scheme = 'local' as const;
  readonly display: string;
  readonly defaultJobs = 8;
  readonly statBatchSize = 512;
  readonly listPageSize = 100_000;
  readonly network = false;
  private readonly root: string;
  private readonly tmpDir: string;
  private readonly madeDirs = new Set<string>();

  constructor(private readonly spec: RemoteSpec) {
    if (spec.location.scheme !== 'local') throw new Error('LocalBackend needs a local location');
    this.root = spec.location.path;
    this.tmpDir = join(this.root, 'tmp');
    this.display = this.root;
  }

  private pathOf(oid: Oid): string {
    return join(this.root, oid.slice(0, 2), oid.slice(2));
  }

  async stat(oids: readonly Oid[]): Promise<Array<number | undefined>> {
    return oids.map((oid) => {
      try {
        return statSync(this.pathOf(oid)).size;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw this.translate(err, this.pathOf(oid), 'reading');
      }
    });
  }

  async *list(shard: string | undefined): AsyncIterable<ListedObject[]> {
    let shards: string[];
    if (shard !== undefined) shards = [shard];
    else {
      try {
        shards = readdirSync(this.root).filter((s) => /^[0-9a-f]{2}$/.test(s));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        throw this.translate(err, this.root, 'listing');
      }
    }
    for (const s of shards) {
      let names: string[];
      try {
        names = readdirSync(join(this.root, s));
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        throw this.translate(err, join(this.root, s), 'listing');
      }
      const page: ListedObject[] = [];
      for (const name of names) {
        const oid = s + name;
        if (!isOid(oid)) continue;
        try {
          const st = statSync(join(this.root, s, name));
          page.push({ oid, size: st.size, modified: st.mtime });
        } catch {
          // deleted meanwhile
        }
      }
      if (page.length) yield page;
    }
  }

  async upload(source: UploadSource, _options: CallOptions): Promise<void> {
    return this.store(source, join(this.root, source.oid.slice(0, 2)), this.pathOf(source.oid));
  }

  async putPackFile(name: string, source: UploadSource): Promise<void> {
    return this.store(source, join(this.root, 'packs'), join(this.root, 'packs', name));
  }

  async readPackFile(name: string, range: ByteRange | undefined): Promise<DownloadSource> {
    const path = join(this.root, 'packs', name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw packGone(this.spec.name, name);
      throw this.translate(err, path, 'reading');
    }
    if (!range) return { type: 'file', path, size };
    if (range.end > size) throw packGone(this.spec.name, name);
    return { type: 'stream', stream: createReadStream(path, { start: range.start, end: range.end - 1, highWaterMark: 1 << 20 }), size: range.end - range.start };
  }

  async *listPackFiles(): AsyncIterable<PackFileInfo[]> {
    const dir = join(this.root, 'packs');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.translate(err, dir, 'listing');
    }
    const page: PackFileInfo[] = [];
    for (const name of names) {
      if (!isPackFileName(name)) continue;
      try {
        const st = statSync(join(dir, name));
        page.push({ name, size: st.size, modified: st.mtime });
      } catch {
        // deleted meanwhile
      }
    }
    yield page;
  }

  async deletePackFiles(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const path = join(this.root, 'packs', name);
      try {
        unlinkSync(path);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw this.translate(err, path, 'deleting');
      }
    }
  }

  /**
   * Copy into tmp/ while hashing, then rename to `dest` only if the bytes hash to the source's oid. A
   * temporary source (a pack this push built) on the same file system is hard-linked into tmp/ instead
   * of copied, then hashed there all the same: a first push of 1 GiB as packs then writes 1 GiB, not 2.
   */
  private async store(source: UploadSource, dir: string, dest: string): Promise<void> {
    const tmp = this.tempPath();
    try {
      const copied = source.temporary && this.linked(source.path, tmp) ? await hashFileInSlices(tmp) : await hashingCopy(source.path, tmp, source.size);
      if (copied.oid !== source.oid) {
        throw new RemoteError('SOURCE_CORRUPTED', `the cache object ${shortOid(source.oid)} is corrupted (its bytes hash to ${shortOid(copied.oid)}); not uploaded`, {
          reason: 'source-corrupt',
          hint: 'Run `dvs verify` to quarantine it, then re-track the data or fetch a good copy.',
          data: { oid: source.oid, actual: copied.oid },
        });
      }
      this.ensureDir(dir);
      renameSync(tmp, dest);
    } catch (err) {
      rmSync(tmp, { force: true });
      if (isDvsError(err)) throw err;
      if (errnoCode(err) === 'ENOENT' && !existsSync(source.path)) {
        throw new RemoteError('OBJECT_MISSING', `object ${shortOid(source.oid)} is not in the cache`, { reason: 'source-corrupt', data: { oid: source.oid } });
      }
      throw this.translate(err, dest, 'writing');
    }
  }

  /** `tmp` made a second name of `path`; false where links cannot be (another file system, no hard links). */
  private linked(path: string, tmp: string): boolean {
    try {
      linkSync(path, tmp);
      return true;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK') return false;
      throw err;
    }
  }

  async download(oid: Oid): Promise<DownloadSource> {
    const path = this.pathOf(oid);
    try {
      return { type: 'file', path, size: statSync(path).size };
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (!existsSync(this.root)) {
          throw new RemoteError('REMOTE_DIR_MISSING', `Remote "${this.spec.name}": the directory ${this.root} does not exist`, {
            reason: 'no-bucket',
            fatal: true,
            hint: `Check the path (dvs remote list), or mount the disk it is on. Change it with: dvs remote add --force ${this.spec.name} <path>`,
            data: { remote: this.spec.name, path: this.root },
          });
        }
        throw notOnRemote(this.spec.name, oid);
      }
      throw this.translate(err, path, 'reading');
    }
  }

  async delete(oids: readonly Oid[]): Promise<void> {
    for (const oid of oids) {
      try {
        unlinkSync(this.pathOf(oid));
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw this.translate(err, this.pathOf(oid), 'deleting');
      }
    }
  }

  async readMarker(): Promise<string | undefined> {
    try {
      return readFileSync(join(this.root, MARKER_NAME), 'utf8').trim();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw this.translate(err, join(this.root, MARKER_NAME), 'reading');
    }
  }

  async writeMarker(value: string): Promise<void> {
    const tmp = this.tempPath();
    try {
      writeFileSync(tmp, value + '\n');
      renameSync(tmp, join(this.root, MARKER_NAME));
    } catch (err) {
      rmSync(tmp, { force: true });
      throw this.translate(err, join(this.root, MARKER_NAME), 'writing');
    }
  }

  /**
   * A lock is written whole to a temp file, then hard-linked to its name: link() fails with EEXIST when
   * the name exists (atomically, also on NFS, where O_EXCL was long unreliable), and a reader never
   * sees a half-written record.
   */
  readonly locks: LockRecords = {
    create: async (name, body) => {
      const dir = join(this.root, LOCKS_DIR);
      this.ensureDir(dir);
      const tmp = this.tempPath();
      try {
        writeFileSync(tmp, body);
        linkSync(tmp, join(dir, name));
        return true;
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') return false;
        throw this.translate(err, join(dir, name), 'creating');
      } finally {
        rmSync(tmp, { force: true });
      }
    },
    read: async (name) => {
      try {
        return readFileSync(join(this.root, LOCKS_DIR, name), 'utf8');
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
        throw this.translate(err, join(this.root, LOCKS_DIR, name), 'reading');
      }
    },
    list: async () => {
      try {
        return readdirSync(join(this.root, LOCKS_DIR)).filter((n) => LOCK_NAME.test(n));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
        throw this.translate(err, join(this.root, LOCKS_DIR), 'listing');
      }
    },
    remove: async (name) => {
      try {
        unlinkSync(join(this.root, LOCKS_DIR, name));
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw this.translate(err, join(this.root, LOCKS_DIR, name), 'deleting');
      }
    },
  };

  async cleanup(olderThanMs: number): Promise<number> {
    return removeStaleTemp(this.tmpDir, olderThanMs);
  }

  async close(): Promise<void> {}

  /** A temp path in the remote's tmp/, named after this process (see repo/temp-names.ts). */
  private tempPath(): string {
    if (!this.madeDirs.has(this.tmpDir)) {
      this.ensureDir(this.tmpDir);
      // The first upload of a run also removes what killed uploads of this host left there.
      removeOrphanedTemp(this.tmpDir);
    }
    return join(this.tmpDir, ownedTempPrefix());
  }

  private ensureDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw this.translate(err, dir, 'creating');
    }
    this.madeDirs.add(dir);
  }

  /** Disk full, permissions and the like concern every object: fatal, with the OS's message mapped. */
  private translate(err: unknown, path: string, doing: string): RemoteError {
    const mapped = fromSystemError(err, path, doing);
    if (isDvsError(mapped)) {
      return new RemoteError(mapped.code, `Remote "${this.spec.name}": ${mapped.message}`, { reason: 'refused', fatal: mapped.code !== 'PATH_NOT_FOUND', hint: mapped.hint, data: mapped.data, cause: err });
    }
    return new RemoteError('REMOTE_IO', `Remote "${this.spec.name}": ${(err as Error).message} (${doing} ${path})`, { reason: 'refused', cause: err });
  }
}
