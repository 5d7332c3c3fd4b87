import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { FileStamp } from './hash.js';
import type { Oid } from './oid.js';

/**
 * The state cache remembers which content a file had when dvs last read it: (device, inode) -> (mtime
 * in ns, size, oid). If a file's stat still matches, its oid is known without reading a byte; this is
 * what keeps `dvs status` and re-`track` of unchanged data fast. It is only a cache: losing it costs
 * re-hashing, never correctness, so it is written without fsync and rebuilt if unreadable.
 *
 * Racy stamps: a file modified twice within one timestamp tick (a jiffy, at most 10 ms on Linux) keeps
 * its mtime and size. A file that was read less than RACY_WINDOW after its last modification is
 * therefore not recorded; it is re-hashed next time. Files dvs wrote itself (checkout) are recorded at
 * once: only a same-size rewrite by another program within one tick of dvs's own write would be missed.
 */
const RACY_WINDOW_NS = 100_000_000n;

export class StateCache {
  private readonly db: Database.Database;
  private readonly selectOne: Database.Statement;
  private readonly upsert: Database.Statement;
  private all?: Map<string, { mtime: string; size: number; oid: Oid }>;
  private pending: Array<[string, string, number, Oid]> = [];

  private constructor(db: Database.Database) {
    this.db = db;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec('CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, mtime TEXT NOT NULL, size INTEGER NOT NULL, oid TEXT NOT NULL) WITHOUT ROWID');
    this.selectOne = this.db.prepare('SELECT mtime, size, oid FROM state WHERE key = ?');
    this.upsert = this.db.prepare('INSERT INTO state (key, mtime, size, oid) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET mtime = excluded.mtime, size = excluded.size, oid = excluded.oid');
  }

  static open(path: string): StateCache {
    mkdirSync(dirname(path), { recursive: true });
    try {
      return new StateCache(new Database(path));
    } catch {
      // An unreadable state cache is thrown away: it only ever saves work.
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      return new StateCache(new Database(path));
    }
  }

  /** Load every entry into memory: cheaper than one query per file when checking thousands of files. */
  preload(): void {
    if (this.all) return;
    this.all = new Map();
    for (const row of this.db.prepare('SELECT key, mtime, size, oid FROM state').raw().iterate() as Iterable<[string, string, number, Oid]>) {
      this.all.set(row[0], { mtime: row[1], size: row[2], oid: row[3] });
    }
  }

  /** The oid recorded for this exact stamp, if any. */
  get(stamp: FileStamp): Oid | undefined {
    const key = `${stamp.dev}:${stamp.ino}`;
    const row = this.all ? this.all.get(key) : (this.selectOne.get(key) as { mtime: string; size: number; oid: Oid } | undefined);
    if (!row || row.size !== stamp.size || row.mtime !== String(stamp.mtimeNs)) return undefined;
    return row.oid;
  }

  /**
   * Remember a stamp's oid (written at the next flush). Files modified just before they were read are
   * skipped (racy) unless `writtenByDvs`.
   */
  set(stamp: FileStamp, oid: Oid, writtenByDvs = false): void {
    if (!writtenByDvs && BigInt(Date.now()) * 1_000_000n - stamp.mtimeNs < RACY_WINDOW_NS) return;
    const key = `${stamp.dev}:${stamp.ino}`;
    const mtime = String(stamp.mtimeNs);
    this.all?.set(key, { mtime, size: stamp.size, oid });
    this.pending.push([key, mtime, stamp.size, oid]);
    if (this.pending.length >= 10_000) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const r of rows) this.upsert.run(r);
    })();
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
