import { existsSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../base/atomic.js';
import type { FileStamp } from '../objects/hash.js';
import { isOid, type Oid } from '../objects/oid.js';
import type { DataKind } from '../pointer/format.js';
import type { Repo } from '../repo/repo.js';

/**
 * The record of what dvs placed in the workspace: per data path it wrote (checkout, pull) or tracked,
 * the oid (a directory's manifest) and, for a file, the stamp of what it left there. When a pointer is
 * gone, this is how dvs knows the data at its path is its own to remove (workspace/orphans.ts), and not
 * something the user made there since.
 *
 * It lives in this machine's state folder (`repo.paths.tmp`, moved into the Git directory when a clone
 * commits `.dvs/tmp`), written whole to a temp file and renamed. It is only a hint: missing or
 * unreadable, it is empty, and then dvs removes nothing (the safe way to be wrong).
 */
export interface PlacedEntry {
  kind: DataKind;
  oid: Oid;
  /** Files only: size, modification time and identity of the file dvs left. */
  stamp?: FileStamp;
}

const FILE_NAME = 'placed.json';
const VERSION = 1;

interface StoredStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeNs: string;
}

interface StoredEntry {
  kind: DataKind;
  oid: Oid;
  stamp?: StoredStamp;
}

export class PlacedRecord {
  private changed = false;
  /** Every stored entry checked and converted: made on first need of more than one entry. */
  private checked?: Map<string, PlacedEntry>;

  private constructor(
    private readonly file: string,
    /** The stored entries as read: a hook that looks up one path of thousands converts only that one. */
    private readonly stored: Record<string, unknown>,
  ) {}

  static load(repo: Repo): PlacedRecord {
    const file = join(repo.paths.tmp, FILE_NAME);
    return new PlacedRecord(file, readStored(file));
  }

  private get entries(): Map<string, PlacedEntry> {
    if (!this.checked) {
      this.checked = new Map();
      for (const [path, raw] of Object.entries(this.stored)) {
        const entry = entryOf(raw);
        if (entry && path.length > 0) this.checked.set(path, entry);
      }
    }
    return this.checked;
  }

  get size(): number {
    return this.entries.size;
  }

  get(path: string): PlacedEntry | undefined {
    if (this.checked) return this.checked.get(path);
    return path.length > 0 && Object.hasOwn(this.stored, path) ? entryOf(this.stored[path]) : undefined;
  }

  paths(): string[] {
    return [...this.entries.keys()].sort();
  }

  record(path: string, entry: PlacedEntry): void {
    const old = this.get(path);
    if (old && old.kind === entry.kind && old.oid === entry.oid && sameStamp(old.stamp, entry.stamp)) return;
    this.entries.set(path, entry);
    this.changed = true;
  }

  /** A file dvs just wrote or tracked: its stamp is taken now. A file gone meanwhile is not recorded. */
  recordFile(repo: Repo, path: string, oid: Oid): void {
    const stamp = currentStamp(repo.abs(path));
    if (stamp) this.record(path, { kind: 'file', oid, stamp });
  }

  forget(path: string): void {
    if (this.entries.delete(path)) this.changed = true;
  }

  /** Write the record if it changed. A failure to write costs only a later removal, never data. */
  save(): void {
    if (!this.changed) return;
    const entries: Record<string, StoredEntry> = {};
    for (const [path, e] of [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      entries[path] = { kind: e.kind, oid: e.oid, ...(e.stamp ? { stamp: { ...e.stamp, mtimeNs: e.stamp.mtimeNs.toString() } } : {}) };
    }
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileAtomic(this.file, JSON.stringify({ version: VERSION, entries }) + '\n');
      this.changed = false;
    } catch {
      // The state folder is not writable: the next command tries again.
    }
  }
}

/** Whether dvs has recorded anything it placed (a stat: checkouts with no pointer left skip the lock when not). */
export function hasPlacedRecord(repo: Repo): boolean {
  return existsSync(join(repo.paths.tmp, FILE_NAME));
}

/** Load, change and save in one go (for commands that touch a few paths). */
export function updatePlaced(repo: Repo, change: (record: PlacedRecord) => void): void {
  const record = PlacedRecord.load(repo);
  change(record);
  record.save();
}

/** The stamp of a workspace file as the record keeps it (a link is stamped as its target, as the stat cache does). */
export function currentStamp(abs: string): FileStamp | undefined {
  try {
    const st = lstatSync(abs, { bigint: true });
    if (!st.isFile() && !st.isSymbolicLink()) return undefined;
    // Through a link: checkout may place files as symbolic links into the cache.
    const target = st.isSymbolicLink() ? statSync(abs, { bigint: true }) : st;
    return { dev: Number(target.dev), ino: Number(target.ino), size: Number(target.size), mtimeNs: target.mtimeNs };
  } catch {
    return undefined;
  }
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  if (!a || !b) return a === b;
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/** The stored entries, unchecked (entryOf checks each when it is used); none when absent or corrupt. */
function readStored(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {}; // absent or corrupt: nothing is known to be dvs's
  }
  const stored = (parsed as { version?: unknown; entries?: unknown } | null)?.entries;
  if ((parsed as { version?: unknown } | null)?.version !== VERSION || typeof stored !== 'object' || stored === null || Array.isArray(stored)) return {};
  return stored as Record<string, unknown>;
}

/** One stored entry, or undefined when any field is not what dvs writes (such an entry is dropped). */
function entryOf(raw: unknown): PlacedEntry | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { kind, oid, stamp } = raw as Record<string, unknown>;
  if ((kind !== 'file' && kind !== 'dir') || !isOid(oid)) return undefined;
  if (kind === 'dir') return { kind, oid };
  if (typeof stamp !== 'object' || stamp === null) return undefined;
  const s = stamp as Record<string, unknown>;
  const whole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!whole(s.dev) || !whole(s.ino) || !whole(s.size) || typeof s.mtimeNs !== 'string' || !/^-?\d{1,30}$/.test(s.mtimeNs)) return undefined;
  return { kind, oid, stamp: { dev: s.dev, ino: s.ino, size: s.size, mtimeNs: BigInt(s.mtimeNs) } };
}
