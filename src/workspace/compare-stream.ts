import { createHash } from 'node:crypto';
import { hashFiles } from '../objects/hash-files.js';
import { HashPool } from '../objects/hash-pool.js';
import { compareBytes, ManifestCursor, type ManifestEntry } from '../objects/manifest.js';
import type { Oid } from '../objects/oid.js';
import { snapshotMatches, type SnapshotBuilder } from '../objects/snapshot.js';
import type { Repo } from '../repo/repo.js';
import type { CompareOptions, FileChanges, WorkspaceComparison } from './comparison.js';
import { scannedFile, walkDirectory, type ScannedFile } from './scan.js';

/** Files whose fate waits for their oid, hashed this many at a time (memory: the batch, not the directory). */
const BATCH = 4096;

/**
 * A file of the workspace, an entry of the manifest, or both at one path, in path order; `oid` is the
 * file's when known (vouched for by the snapshot, or hashed).
 */
interface Pending {
  file?: ScannedFile;
  entry?: ManifestEntry;
  oid?: Oid;
}

/**
 * compareWorkspace for a directory whose manifest `oid` is in the cache, as one merge walk of the sorted
 * workspace (walkDirectory) against the sorted manifest (ManifestCursor): neither side is held whole,
 * so a directory of ten million files is compared in memory for a block of the manifest, a batch of
 * files to hash, the changes found and the directory's snapshot (32 bytes per file, built only when
 * the stored one no longer covers every file). Gives what compareWorkspace gives, without `current` and
 * `recorded` (the lists it does not build). The snapshot vouches for a file by its index in the manifest,
 * as in directoryOids, so it is used only when it was taken against this same manifest.
 */
export async function compareDirectoryStream(repo: Repo, dataPath: string, oid: Oid, options: CompareOptions): Promise<WorkspaceComparison> {
  const { state } = options;
  const found = { warnings: [], temps: [] };
  const stored = state.getDirectory(dataPath);
  const snap = stored?.manifest === oid ? stored : undefined;
  const changes: FileChanges = { added: [], removed: [], modified: [], modeOnly: [] };
  const changedFiles = new Map<string, { oid?: Oid; exec: boolean }>();
  const listing = new ListingHash();
  // The snapshot to store, started only when the stored one stops covering every file in order.
  let stamps: SnapshotBuilder | undefined;
  let files = 0;
  let pending: Pending[] = [];
  // One pool for every batch: starting its workers per batch cost three times the hashing.
  let pool: HashPool | undefined;
  const hashOptions = { state, onProgress: options.onProgress, pool: () => (pool ??= new HashPool()) };
  const settle = async () => {
    const toHash = pending.filter((p) => p.file && p.oid === undefined);
    if (toHash.length) {
      const r = await hashFiles(toHash.map((p) => p.file!), hashOptions);
      toHash.forEach((p, k) => (p.oid = r.oids[k]));
    }
    // A file that could not be read (gone since the walk) is left out, as manifestOf leaves it out.
    for (const { file, entry, oid: current } of pending) {
      if (!entry) {
        if (current !== undefined) changes.added.push(file!.rel);
      } else if (current === undefined) changes.removed.push(entry.path);
      else if (current !== entry.oid || file!.exec !== entry.exec) {
        changes.modified.push(entry.path);
        if (current === entry.oid) changes.modeOnly.push(entry.path);
      } else continue;
      if (file && (entry || current !== undefined)) changedFiles.set(file.rel, { oid: current, exec: file.exec });
    }
    pending = [];
  };
  const cursor = new ManifestCursor(repo.cache, oid, dataPath);
  try {
    for (const run of walkDirectory(repo, dataPath, found, scannedFile)) {
      for (const file of run) {
        listing.add(file);
        let entry = cursor.peek();
        while (entry !== undefined && compareBytes(entry.path, file.rel) < 0) {
          pending.push({ entry: cursor.next() });
          entry = cursor.peek();
        }
        const j = cursor.index;
        if (entry?.path !== file.rel) pending.push({ file });
        else {
          cursor.next();
          const vouched = snap !== undefined && snapshotMatches(snap, j, file.stamp);
          if (!vouched || file.exec !== entry.exec) pending.push({ file, entry, oid: vouched ? entry.oid : undefined });
        }
        if (!stamps && !(snap && files === j && pending.length === 0 && snapshotMatches(snap, files, file.stamp))) {
          stamps = state.snapshotBuilder();
          if (snap) stamps.copyFrom(snap, files);
        }
        stamps?.push(file.stamp);
        files++;
        if (pending.length >= BATCH) await settle();
      }
    }
    for (let entry = cursor.next(); entry !== undefined; entry = cursor.next()) {
      pending.push({ entry });
      if (pending.length >= BATCH) await settle();
    }
    await settle();
  } finally {
    cursor.close();
    await pool?.close();
  }
  const changed = changes.added.length + changes.removed.length + changes.modified.length;
  const result: WorkspaceComparison = { workspace: changed === 0 ? 'unchanged' : 'modified', changes, changedFiles, entries: cursor.index, warnings: found.warnings, temps: found.temps };
  if (changed === 0) {
    result.currentOid = oid;
    // Keep the snapshot in step with the directory, unless the stored one already covers it exactly.
    const digest = listing.digest();
    if (stamps || !snap || snap.listing !== digest || snap.numbers.length !== 3 * files) {
      if (!stamps) {
        stamps = state.snapshotBuilder();
        if (snap) stamps.copyFrom(snap, Math.min(files, snap.mtimes.length));
      }
      state.setDirectorySnapshot(dataPath, oid, digest, stamps);
    }
  }
  return result;
}

/** listingOf (dir-oids.ts) fed one file at a time: the same digest, the text hashed in pieces of about 1 MB. */
class ListingHash {
  private readonly hash = createHash('sha256');
  private text = '';

  add(f: ScannedFile): void {
    this.text += (f.exec ? 'x' : '-') + f.rel + '\n';
    if (this.text.length > 1 << 20) {
      this.hash.update(this.text);
      this.text = '';
    }
  }

  digest(): string {
    return this.hash.update(this.text).digest('hex');
  }
}
