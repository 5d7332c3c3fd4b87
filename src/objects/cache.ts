import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import { copyAndHash, hashFileSync, sha256, sha256Hex, type CopyResult, type HashResult } from './hash.js';
import { isOid, shortOid, type Oid } from './oid.js';
import { removeOrphanedTemp, removeStaleTemp } from '../base/atomic.js';
import { ownedTempPrefix } from '../base/temp-names.js';

/**
 * The content-addressed object store: `<root>/<first two hex digits>/<other 62>`. An object is visible
 * under its name only once its bytes are known to hash to it: every write goes to `<root>/tmp/`, on the
 * same file system, and is renamed into place. Objects are read-only (0444).
 */
export class ObjectCache {
  readonly root: string;
  readonly tmpDir: string;
  readonly quarantineDir: string;
  private readonly knownShards = new Set<string>();
  private readonly tempPrefix = ownedTempPrefix();
  private tempCount = 0;

  constructor(root: string) {
    this.root = root;
    this.tmpDir = join(root, 'tmp');
    this.quarantineDir = join(root, 'quarantine');
  }

  pathOf(oid: Oid): string {
    return objectPath(this.root, oid);
  }

  has(oid: Oid): boolean {
    return existsSync(this.pathOf(oid));
  }

  /** Size of the object on disk, or undefined when absent. */
  sizeOf(oid: Oid): number | undefined {
    try {
      return statSync(this.pathOf(oid)).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** A fresh temp path on the cache's file system; the caller renames it in with `commit`. */
  tempPath(): string {
    this.ensureDir(this.tmpDir);
    // A prefix naming this process (so a sweep can tell orphans), random per instance (worker threads
    // share the pid), and a counter: unique without asking the kernel for random bytes 20,000 times.
    return join(this.tmpDir, `${this.tempPrefix}-${(this.tempCount++).toString(36)}`);
  }

  /**
   * Move a verified temp file into place under `oid`. If the object is already present the temp file is
   * dropped: equal names mean equal bytes. Returns whether this temp file became the object.
   */
  commit(tmp: string, oid: Oid): boolean {
    const dest = this.pathOf(oid);
    this.ensureDir(join(this.root, oid.slice(0, 2)));
    if (existsSync(dest)) {
      rmSync(tmp, { force: true });
      return false;
    }
    renameSync(tmp, dest);
    return true;
  }

  /** Store bytes held in memory (manifests, small records). Returns their oid. */
  addBuffer(data: Uint8Array | string): Oid {
    const oid = sha256Hex(data);
    if (this.has(oid)) return oid;
    const tmp = this.tempPath();
    try {
      writeFileSync(tmp, data, { mode: 0o444, flag: 'wx' });
      this.commit(tmp, oid);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw fromSystemError(err, this.pathOf(oid), 'writing cache object');
    }
    return oid;
  }

  /** Copy a file into the cache while hashing it (see copyAndHash). The object is committed under its hash. */
  async addFile(src: string): Promise<CopyResult & { placed: boolean }> {
    const tmp = this.tempPath();
    try {
      const result = await copyAndHash(src, tmp);
      return { ...result, placed: this.commit(tmp, result.oid) };
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** Read a whole object and check its hash (for records and other small objects). */
  readVerified(oid: Oid, what: string): Buffer {
    let data: Buffer;
    try {
      data = readFileSync(this.pathOf(oid));
    } catch (err) {
      throw this.readError(err, oid, what);
    }
    if (sha256Hex(data) !== oid) throw this.corrupted(oid, what);
    return data;
  }

  /**
   * Read an object in blocks of `blockSize` (the block is reused: copy what you keep) and check its hash
   * at the end; returns its size. For objects too big to hold (a manifest of millions of entries). A
   * throw from `onBlock` on bytes that prove corrupted becomes OBJECT_CORRUPTED: damage is reported as
   * damage, not as whatever the damaged bytes looked like.
   */
  readBlocks(oid: Oid, what: string, blockSize: number, onBlock: (block: Buffer) => void): number {
    const blocks = this.blocks(oid, what, blockSize);
    let failure: unknown;
    for (;;) {
      const r = blocks.next();
      if (r.done) {
        if (failure !== undefined) throw failure;
        return r.value;
      }
      if (failure !== undefined) continue; // hashing goes on: corrupted bytes are reported as such
      try {
        onBlock(r.value);
      } catch (err) {
        failure = err;
      }
    }
  }

  /**
   * An object's bytes block by block, for a reader that pulls them (readBlocks pushes): the block is
   * reused, copy what you keep. After the last block the hash is checked (OBJECT_CORRUPTED on a mismatch)
   * and the size returned. A reader that stops early must call `return()`, which closes the file.
   */
  *blocks(oid: Oid, what: string, blockSize: number): Generator<Buffer, number, void> {
    let fd: number;
    try {
      fd = openSync(this.pathOf(oid), 'r');
    } catch (err) {
      throw this.readError(err, oid, what);
    }
    const hash = sha256();
    let size = 0;
    try {
      // No bigger than the object: small manifests are read by the thousand (gc, status).
      const block = Buffer.allocUnsafe(Math.max(1, Math.min(blockSize, fstatSync(fd).size)));
      for (;;) {
        const n = readSync(fd, block, 0, block.length, null);
        if (n === 0) break;
        size += n;
        hash.update(block.subarray(0, n));
        yield block.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
    if (hash.digest('hex') !== oid) throw this.corrupted(oid, what);
    return size;
  }

  private readError(err: unknown, oid: Oid, what: string): unknown {
    if (errnoCode(err) !== 'ENOENT') return err;
    return new DvsError('OBJECT_MISSING', `The ${what} ${shortOid(oid)} is not in the cache`, {
      hint: 'Fetch it from a remote (dvs fetch) or re-track the data.',
      data: { oid },
    });
  }

  private corrupted(oid: Oid, what: string): DvsError {
    return new DvsError('OBJECT_CORRUPTED', `The ${what} ${shortOid(oid)} in the cache is corrupted (its bytes do not hash to its name)`, {
      hint: 'Run `dvs verify` to quarantine it, then fetch it again from a remote.',
      data: { oid, path: this.pathOf(oid) },
    });
  }

  /** Re-hash an object on disk. */
  rehash(oid: Oid, buffer: Buffer): HashResult {
    return hashFileSync(this.pathOf(oid), buffer);
  }

  /** Move a corrupted object aside so it can never be checked out, keeping it for inspection. */
  quarantine(oid: Oid): string {
    this.ensureDir(this.quarantineDir);
    const dest = join(this.quarantineDir, `${oid}-${Date.now()}`);
    renameSync(this.pathOf(oid), dest);
    return dest;
  }

  remove(oid: Oid): void {
    try {
      unlinkSync(this.pathOf(oid));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
  }

  /** Every object name in the cache (reads the 256 shard directories, not the objects). */
  *list(): Generator<Oid> {
    let shards: string[];
    try {
      shards = readdirSync(this.root);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const shard of shards) {
      if (shard.length !== 2) continue;
      for (const rest of readdirSync(join(this.root, shard))) {
        const oid = shard + rest;
        if (isOid(oid)) yield oid;
      }
    }
  }

  /** Remove temp files older than `ageMs` left by killed commands. */
  cleanTemp(ageMs = 60 * 60 * 1000): number {
    return removeStaleTemp(this.tmpDir, ageMs);
  }

  /** Remove the temp files of killed processes of this host, whatever their age. */
  removeOrphanedTemp(): number {
    return removeOrphanedTemp(this.tmpDir);
  }

  ensureDir(dir: string): void {
    if (this.knownShards.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    this.knownShards.add(dir);
  }
}

export function objectPath(root: string, oid: Oid): string {
  return join(root, oid.slice(0, 2), oid.slice(2));
}
