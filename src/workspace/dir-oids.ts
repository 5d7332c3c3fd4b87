import { statSync, type BigIntStats } from 'node:fs';
import { fromSystemError } from '../errors.js';
import { hashFiles, type HashFilesOptions, type HashFilesResult } from '../objects/hash-files.js';
import type { FileStamp } from '../objects/hash.js';
import { compareBytes, type Manifest, loadManifest } from '../objects/manifest.js';
import type { Oid } from '../objects/oid.js';
import { createHash } from 'node:crypto';
import { msOfNs, snapshotMatches, snapshotMatchesPlain, type DirectorySnapshot } from '../objects/snapshot.js';
import type { Repo } from '../repo/repo.js';
import { pathOrder, readFolder, statBase, type DirectoryScan, type ScannedFile } from './scan.js';

export interface DirectoryOids extends HashFilesResult {
  /** The manifest the directory's snapshot was taken against (already parsed, for reuse). */
  known?: { oid: Oid; manifest: Manifest };
  /** Whether every file was vouched for by the snapshot (nothing read, nothing looked up). */
  allFromSnapshot: boolean;
}

/**
 * The oids of a tracked directory's files. First the directory's snapshot (its files' stamps in the
 * order of a manifest) vouches for files whose stamp is unchanged; only the rest go through the per-file
 * stat cache and, failing that, are read. With `cache`, the bytes of files read are stored too.
 */
export async function directoryOids(repo: Repo, dataPath: string, files: ScannedFile[], options: HashFilesOptions): Promise<DirectoryOids> {
  const { state, cache } = options;
  const oids: Array<Oid | undefined> = new Array(files.length);
  let known: DirectoryOids['known'];
  const snap = state.getDirectory(dataPath);
  if (snap && repo.cache.has(snap.manifest)) {
    try {
      known = { oid: snap.manifest, manifest: loadManifest(repo.cache, snap.manifest, dataPath) };
    } catch {
      known = undefined; // a bad manifest is verify's business; here it only means no shortcut
    }
  }
  if (snap && known && known.manifest.entries.length * 3 === snap.numbers.length) {
    const entries = known.manifest.entries;
    // Objects must exist when storing: a complete manifest vouches for all of them at once.
    const mustHave = cache && !state.isComplete(known.oid);
    let j = 0;
    for (let i = 0; i < files.length && j < entries.length; i++) {
      while (j < entries.length && compareBytes(entries[j].path, files[i].rel) < 0) j++;
      if (j < entries.length && entries[j].path === files[i].rel && snapshotMatches(snap, j, files[i].stamp)) {
        if (!mustHave || cache.has(entries[j].oid)) oids[i] = entries[j].oid;
      }
    }
  }
  const misses: number[] = [];
  for (let i = 0; i < files.length; i++) if (oids[i] === undefined) misses.push(i);
  if (misses.length === 0) return { oids, errors: [], hashedFiles: 0, hashedBytes: 0, known, allFromSnapshot: true };
  // ScannedFile has what FileToHash needs: pass the objects themselves, not 100,000 copies.
  const r = await hashFiles(misses.map((i) => files[i]), options);
  misses.forEach((i, k) => (oids[i] = r.oids[k]));
  return {
    oids,
    errors: r.errors.map((e) => ({ ...e, index: misses[e.index] })),
    hashedFiles: r.hashedFiles,
    hashedBytes: r.hashedBytes,
    known,
    allFromSnapshot: false,
  };
}

/**
 * Hash of a directory's file list (paths and executable bits, in manifest order). With it, a snapshot
 * whose listing and stamps all match says the directory holds exactly its manifest, without reading
 * the manifest.
 */
export function listingOf(files: ScannedFile[]): string {
  // One string, one update: 100,000 small updates cost more than the hashing itself.
  return createHash('sha256').update(listingText(files)).digest('hex');
}

function listingText(files: ReadonlyArray<{ rel: string; exec: boolean }>): string {
  let text = '';
  for (const f of files) text += (f.exec ? 'x' : '-') + f.rel + '\n';
  return text;
}

/**
 * Whether a tracked directory still holds exactly what its snapshot recorded (the same file list and
 * executable bits, the same stamps, in the same order), found by walking it one folder at a time and
 * keeping nothing per file: each folder's files are stat'ed in the order the system lists them into one
 * array of numbers, then compared in manifest order. Holding 100,000 file records alive until the end is
 * what made the garbage collector the biggest cost of a status that finds nothing changed; a short-lived
 * record per file still cost some 6 ms of CPU in the walk of 20,000 files. Stops at the first difference;
 * warnings and temp files met on the way go to `found`.
 */
export function snapshotStillHolds(repo: Repo, dataPath: string, snap: DirectorySnapshot, found: Pick<DirectoryScan, 'warnings' | 'temps'>): boolean {
  const count = snap.numbers.length / 3;
  const listing = createHash('sha256');
  const at = statBase(repo);
  let i = 0;
  // dev, ino, size, mtime in ms (as Node's plain stat gives it), executable bit: per entry, in list order.
  // One array per depth, reused by the folders met at that depth (fresh memory costs page faults).
  const stampsAt: Float64Array[] = [];
  const holds = (relDir: string, depth: number): boolean => {
    const { absDir, names, dirs, linked } = readFolder(repo, dataPath, relDir, found, at);
    if ((stampsAt[depth]?.length ?? 0) < 5 * names.length) stampsAt[depth] = new Float64Array(5 * Math.max(names.length, 256));
    const stamps = stampsAt[depth];
    const prefix = relDir ? `${relDir}/` : '';
    for (let j = 0; j < names.length; j++) {
      if (dirs[j]) continue;
      try {
        plainStamp(stamps, 5 * j, `${absDir}/${names[j]}`, linked?.get(j));
      } catch (err) {
        throw fromSystemError(err, `${dataPath}/${prefix}${names[j]}`, 'reading');
      }
    }
    // The files between two folders, in manifest order, hash as listingOf hashes them.
    let text = '';
    for (const j of pathOrder(names, dirs)) {
      if (dirs[j]) {
        listing.update(text);
        text = '';
        if (!holds(prefix + names[j], depth + 1)) return false;
        continue;
      }
      const k = 5 * j;
      if (i === count || !snapshotMatchesPlain(snap, i++, stamps[k], stamps[k + 1], stamps[k + 2], stamps[k + 3])) return false;
      text += (stamps[k + 4] ? 'x' : '-') + prefix + names[j] + '\n';
    }
    listing.update(text);
    return true;
  };
  return holds('', 0) && i === count && listing.digest('hex') === snap.listing;
}

/**
 * A file's stamp as snapshotStillHolds compares it, written at `stamps[k]`, from a plain stat: Node's stat
 * with BigInt times builds some twenty BigInts per file, a sixth of the instructions of a status of
 * 20,000 unchanged files. `linked`: the stat readFolder took of a symbolic link's target.
 */
function plainStamp(stamps: Float64Array, k: number, path: string, linked: BigIntStats | undefined): void {
  if (linked) {
    stamps[k] = Number(linked.dev);
    stamps[k + 1] = Number(linked.ino);
    stamps[k + 2] = Number(linked.size);
    stamps[k + 3] = msOfNs(linked.mtimeNs);
    stamps[k + 4] = Number(linked.mode) & 0o100;
    return;
  }
  const st = statSync(path);
  stamps[k] = st.dev;
  stamps[k + 1] = st.ino;
  stamps[k + 2] = st.size;
  stamps[k + 3] = st.mtimeMs;
  stamps[k + 4] = st.mode & 0o100;
}

/** The stamps of files that all have oids, in manifest order (what `setDirectory` records). */
export function stampsOf(files: ScannedFile[], oids: Array<Oid | undefined>): Array<FileStamp> | undefined {
  const out: FileStamp[] = [];
  for (let i = 0; i < files.length; i++) {
    if (oids[i] === undefined) return undefined;
    out.push(files[i].stamp);
  }
  return out;
}
