import { readdirSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { fromSystemError } from '../errors.js';
import type { Warning } from '../events.js';
import { isReservedName } from '../base/paths.js';
import { isWorkspaceTemp } from '../base/temp-names.js';
import { stampOf, type FileStamp } from '../objects/hash.js';
import { byteOrder, compareBytes, type Manifest } from '../objects/manifest.js';
import { IGNORE_FILE } from '../repo/ignore.js';
import type { Repo } from '../repo/repo.js';

/** A file found inside a tracked directory in the workspace. */
export class ScannedFile {
  constructor(
    /** The tracked directory's absolute path (shared by all its files). */
    private readonly base: string,
    /** Path relative to the tracked directory. */
    readonly rel: string,
    readonly stamp: FileStamp,
    readonly exec: boolean,
  ) {}

  /** Made when asked: a directory of 100,000 files need not hold 100,000 absolute paths. */
  get abs(): string {
    return `${this.base}/${this.rel}`;
  }
}

/**
 * How a listed file becomes an item of a scan: `abs` is stat'ed (following a link: the data is what it
 * points to); `linked` is that stat when the listing already took it (a symbolic link). Errors go up.
 */
export type FileMaker<F> = (base: string, rel: string, abs: string, linked?: BigIntStats) => F;

/** The usual item: a ScannedFile with its exact stamp (mtime in ns). */
export const scannedFile: FileMaker<ScannedFile> = (base, rel, abs, linked) => {
  const st = linked ?? statSync(abs, { bigint: true });
  return new ScannedFile(base, rel, stampOf(st), (Number(st.mode) & 0o100) !== 0);
};

export interface DirectoryScan {
  files: ScannedFile[];
  warnings: Warning[];
  /** Temp files of dvs's own found inside (left by a killed checkout): never data; checkout removes them. */
  temps: string[];
}

/**
 * List a directory's files as dvs sees them: `.dvsignore`d entries left out, symbolic links to files
 * followed (a symlink checkout is still the data), links to directories and special files skipped with
 * a warning. Sorted in manifest order.
 */
export function scanDirectory(repo: Repo, dataPath: string): DirectoryScan {
  const scan: DirectoryScan = { files: [], warnings: [], temps: [] };
  const walk = (relDir: string) => {
    for (const item of listFolder(repo, dataPath, relDir, scan, scannedFile)) {
      if (typeof item === 'string') walk(item);
      else scan.files.push(item);
    }
  };
  walk('');
  // One sort of the whole list: cheaper for a directory that fits in memory than sorting folder by folder.
  scan.files.sort((a, b) => compareBytes(a.rel, b.rel));
  return scan;
}

/**
 * scanDirectory's files in manifest order, a run of one folder's files at a time, for a directory too big
 * to hold as a list: each folder's entries are sorted as they are read, a folder's path counting as
 * "path/" (so that "a-b" and "a.txt" come before the files of folder "a", and "a0" after them, as in byte
 * order of whole paths). Warnings and temp files go to `found` as they are met.
 */
export function* walkDirectory<F extends { rel: string }>(repo: Repo, dataPath: string, found: Pick<DirectoryScan, 'warnings' | 'temps'>, make: FileMaker<F>): Generator<F[], void, void> {
  const at = statBase(repo);
  function* walk(relDir: string): Generator<F[], void, void> {
    let run: F[] = [];
    for (const item of inPathOrder(listFolder(repo, dataPath, relDir, found, make, at))) {
      if (typeof item !== 'string') {
        run.push(item);
        continue;
      }
      if (run.length) yield run;
      run = [];
      yield* walk(item);
    }
    if (run.length) yield run;
  }
  yield* walk('');
}

/**
 * Where the paths a walk stats start: "." when the working directory is the repository's root, whose
 * paths relative to it are shorter for the system to resolve at each stat (about a tenth of a stat's cost
 * for 20,000 files); the root otherwise.
 */
export function statBase(repo: Repo): string {
  return process.cwd() === repo.root ? '.' : repo.root;
}

/**
 * One folder of a tracked directory as dvs sees it, in the order the system lists it (stat in that order
 * costs less than in name order): the names of its files and folders, `.dvsignore`d entries, reserved
 * names, dvs's own temp files, undecodable names, links to folders and special files left out (with a
 * warning or in `found.temps`, as scanDirectory says).
 */
export interface FolderEntries {
  /** The folder's path as stats take it (under `at`, see statBase). */
  absDir: string;
  names: string[];
  /** 1 where the entry is a folder to walk into. */
  dirs: Uint8Array;
  /** A symbolic link to a file: its target's stat, which telling it from a link to a folder took. */
  linked: Map<number, BigIntStats> | undefined;
}

export function readFolder(repo: Repo, dataPath: string, relDir: string, found: Pick<DirectoryScan, 'warnings' | 'temps'>, at: string): FolderEntries {
  const { warnings, temps } = found;
  const absDir = relDir ? join(at, dataPath, relDir) : join(at, dataPath);
  let entries: Dirent[];
  try {
    entries = readdirSync(absDir, { withFileTypes: true });
  } catch (err) {
    throw fromSystemError(err, join(dataPath, relDir), 'listing');
  }
  const ignored = repo.ignore.matcher(relDir ? `${dataPath}/${relDir}` : dataPath, entries.some((e) => e.name === IGNORE_FILE));
  const undecodable = entries.some((e) => e.name.includes('\uFFFD')) ? namesNotUtf8(absDir) : undefined;
  // How warnings name an entry: its path in the repository.
  const shown = relDir ? `${dataPath}/${relDir}/` : `${dataPath}/`;
  const names: string[] = [];
  const dirs = new Uint8Array(entries.length);
  let linked: Map<number, BigIntStats> | undefined;
  for (const e of entries) {
    const name = e.name;
    if (isReservedName(name)) {
      // A nested repository's .git (or a .dvs) is never data: no manifest may name it (repo/paths.ts).
      const path = shown + name;
      warnings.push({ code: 'RESERVED_NAME', message: `${path}: a folder or file named like .git or .dvs is never tracked, skipped`, path });
      continue;
    }
    if (undecodable?.has(name)) {
      // Node decodes such a name with U+FFFD in place of the bad bytes: a name that does not exist, and
      // one a manifest (UTF-8 text) could not record. Skipped here; track refuses the directory.
      const path = shown + name;
      warnings.push({ code: 'NAME_NOT_UTF8', message: `${path}: the file name is not valid UTF-8, skipped`, path, hint: 'Rename it to a UTF-8 name (for example with convmv), then run the command again.' });
      continue;
    }
    let isDir = e.isDirectory();
    if (!isDir && isWorkspaceTemp(name)) {
      temps.push(relDir ? `${relDir}/${name}` : name);
      continue;
    }
    let st: BigIntStats | undefined;
    if (e.isSymbolicLink()) {
      const path = shown + name;
      try {
        // Plain concatenation: the parts are clean names, and path.join's normalising costs per file.
        st = statSync(`${absDir}/${name}`, { bigint: true });
      } catch {
        warnings.push({ code: 'BROKEN_LINK', message: `${path}: broken symbolic link, skipped`, path });
        continue;
      }
      if (st.isDirectory()) {
        warnings.push({ code: 'LINKED_DIRECTORY', message: `${path}: symbolic link to a directory, skipped`, path, hint: 'Copy the directory in, or track it where it really is.' });
        continue;
      }
      isDir = false;
    }
    if (ignored(name, isDir)) continue;
    if (!isDir && !e.isFile() && !e.isSymbolicLink()) {
      const path = shown + name;
      warnings.push({ code: 'SPECIAL_FILE', message: `${path}: not a regular file, skipped`, path });
      continue;
    }
    if (isDir) dirs[names.length] = 1;
    else if (st) (linked ??= new Map()).set(names.length, st);
    names.push(name);
  }
  return { absDir, names, dirs: dirs.subarray(0, names.length), linked };
}

/** One folder's files, made into items by `make`, and the paths (relative to the tracked directory) of its folders. */
function listFolder<F>(repo: Repo, dataPath: string, relDir: string, found: Pick<DirectoryScan, 'warnings' | 'temps'>, make: FileMaker<F>, at = repo.root): Array<F | string> {
  const { absDir, names, dirs, linked } = readFolder(repo, dataPath, relDir, found, at);
  const base = join(repo.root, dataPath);
  const items: Array<F | string> = [];
  for (let j = 0; j < names.length; j++) {
    const rel = relDir ? `${relDir}/${names[j]}` : names[j];
    if (dirs[j]) {
      items.push(rel);
      continue;
    }
    try {
      items.push(make(base, rel, `${absDir}/${names[j]}`, linked?.get(j)));
    } catch (err) {
      throw fromSystemError(err, `${dataPath}/${rel}`, 'reading');
    }
  }
  return items;
}

/**
 * A folder's files and folders in the order their paths take in a manifest: a folder sorts as its path
 * followed by "/", since every path below it continues that way.
 */
function inPathOrder<F extends { rel: string }>(items: Array<F | string>): Array<F | string> {
  return byteOrder(items.map((item) => (typeof item === 'string' ? `${item}/` : item.rel))).map((j) => items[j]);
}

/** The positions of a folder's entries (readFolder's) in manifest order, as inPathOrder orders items. */
export function pathOrder(names: readonly string[], dirs: Uint8Array): number[] {
  return byteOrder(names.map((name, j) => (dirs[j] ? `${name}/` : name)));
}

/** The names (as Node decodes them) of the entries of a folder whose raw bytes are not valid UTF-8. */
function namesNotUtf8(absDir: string): Set<string> {
  const bad = new Set<string>();
  for (const raw of readdirSync(absDir, { encoding: 'buffer' })) {
    const name = raw.toString('utf8');
    if (!Buffer.from(name).equals(raw)) bad.add(name);
  }
  return bad;
}

/** Build a manifest from scanned files and their oids (files without an oid are left out). */
export function manifestOf(files: ScannedFile[], oids: Array<string | undefined>): Manifest {
  const entries = [];
  for (let i = 0; i < files.length; i++) {
    const oid = oids[i];
    if (oid !== undefined) entries.push({ path: files[i].rel, oid, size: files[i].stamp.size, exec: files[i].exec });
  }
  return { entries };
}

