import { existsSync, readdirSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import type { Warning } from '../events.js';
import { stampOf, type FileStamp } from '../objects/hash.js';
import { compareBytes, type Manifest } from '../objects/manifest.js';
import { findPointers, type PointerRef, type PointerScan, type RefusedPointer } from '../pointer/io.js';
import { dataPathOf, isPointerPath, pointerPathOf } from '../pointer/format.js';
import { isReservedName } from '../base/paths.js';
import type { Repo } from '../repo/repo.js';
import { isWorkspaceTemp } from '../base/temp-names.js';

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
  const files: ScannedFile[] = [];
  const warnings: Warning[] = [];
  const temps: string[] = [];
  const base = join(repo.root, dataPath);
  const walk = (relDir: string) => {
    const absDir = relDir ? join(repo.root, dataPath, relDir) : join(repo.root, dataPath);
    let entries: Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      throw fromSystemError(err, join(dataPath, relDir), 'listing');
    }
    const ignored = repo.ignore.matcher(relDir ? `${dataPath}/${relDir}` : dataPath);
    const undecodable = entries.some((e) => e.name.includes('\uFFFD')) ? namesNotUtf8(absDir) : undefined;
    for (const e of entries) {
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      if (isReservedName(e.name)) {
        // A nested repository's .git (or a .dvs) is never data: no manifest may name it (repo/paths.ts).
        warnings.push({ code: 'RESERVED_NAME', message: `${dataPath}/${rel}: a folder or file named like .git or .dvs is never tracked, skipped`, path: `${dataPath}/${rel}` });
        continue;
      }
      if (undecodable?.has(e.name)) {
        // Node decodes such a name with U+FFFD in place of the bad bytes: a name that does not exist, and
        // one a manifest (UTF-8 text) could not record. Skipped here; track refuses the directory.
        warnings.push({ code: 'NAME_NOT_UTF8', message: `${dataPath}/${rel}: the file name is not valid UTF-8, skipped`, path: `${dataPath}/${rel}`, hint: 'Rename it to a UTF-8 name (for example with convmv), then run the command again.' });
        continue;
      }
      // Plain concatenation: the parts are clean names, and path.join's normalising costs per file.
      const abs = `${absDir}/${e.name}`;
      let isDir = e.isDirectory();
      if (!isDir && isWorkspaceTemp(e.name)) {
        temps.push(rel);
        continue;
      }
      let st: BigIntStats | undefined;
      if (e.isSymbolicLink()) {
        try {
          st = statSync(abs, { bigint: true });
        } catch {
          warnings.push({ code: 'BROKEN_LINK', message: `${dataPath}/${rel}: broken symbolic link, skipped`, path: `${dataPath}/${rel}` });
          continue;
        }
        if (st.isDirectory()) {
          warnings.push({ code: 'LINKED_DIRECTORY', message: `${dataPath}/${rel}: symbolic link to a directory, skipped`, path: `${dataPath}/${rel}`, hint: 'Copy the directory in, or track it where it really is.' });
          continue;
        }
        isDir = false;
      }
      if (ignored(e.name, isDir)) continue;
      if (isDir) {
        walk(rel);
        continue;
      }
      if (!e.isFile() && !e.isSymbolicLink()) {
        warnings.push({ code: 'SPECIAL_FILE', message: `${dataPath}/${rel}: not a regular file, skipped`, path: `${dataPath}/${rel}` });
        continue;
      }
      try {
        st ??= statSync(abs, { bigint: true });
      } catch (err) {
        throw fromSystemError(err, `${dataPath}/${rel}`, 'reading');
      }
      files.push(new ScannedFile(base, rel, stampOf(st), (Number(st.mode) & 0o100) !== 0));
    }
  };
  walk('');
  files.sort((a, b) => compareBytes(a.rel, b.rel));
  return { files, warnings, temps };
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

/** What a command-line target names: a tracked data path, and optionally a path inside it. */
export interface Target {
  ref: PointerRef;
  /** A file or folder inside a tracked directory (granular operations). */
  sub?: string;
}

/** The targets a command acts on, and the pointers it refuses to act on (reported, never touched). */
export interface TargetSelection {
  targets: Target[];
  refused: RefusedPointer[];
}

/** Every pointer in the workspace (or under a folder), those the path guard refuses apart. */
export function workspacePointers(repo: Repo, under = ''): PointerScan {
  return findPointers(repo.root, repo.ignore, repo.guard, under);
}

/**
 * Turn command-line paths into pointers. A target may name the pointer (`data.dvs`), the data (`data`),
 * a path inside a tracked directory (`data/part-1.csv`), or a folder holding pointers. No targets means
 * every pointer in the workspace. A pointer named on the command line that the path guard refuses is an
 * error; one found by walking a folder is returned as refused.
 */
export function selectTargets(repo: Repo, cwd: string, args: string[] | undefined): TargetSelection {
  if (!args || args.length === 0) {
    const scan = workspacePointers(repo);
    return { targets: scan.pointers.map((ref) => ({ ref })), refused: scan.refused };
  }
  const out: Target[] = [];
  const refused: RefusedPointer[] = [];
  const named = (ref: PointerRef, sub?: string) => {
    repo.guard.check(ref.dataPath, ref.pointerPath);
    out.push(sub === undefined ? { ref } : { ref, sub });
  };
  for (const arg of args) {
    const { rel } = repo.resolve(cwd, arg);
    if (isPointerPath(rel) && existsSync(repo.abs(rel))) {
      named({ pointerPath: rel, dataPath: dataPathOf(rel) });
      continue;
    }
    if (existsSync(repo.abs(pointerPathOf(rel)))) {
      named({ pointerPath: pointerPathOf(rel), dataPath: rel });
      continue;
    }
    const owner = trackedAncestor(repo, rel);
    if (owner) {
      named({ pointerPath: pointerPathOf(owner), dataPath: owner }, rel.slice(owner.length + 1));
      continue;
    }
    if (isDirectory(repo.abs(rel))) {
      const inside = workspacePointers(repo, rel);
      if (inside.pointers.length || inside.refused.length) {
        out.push(...inside.pointers.map((ref) => ({ ref })));
        refused.push(...inside.refused);
        continue;
      }
    }
    throw new DvsError('notfound', 'NOT_TRACKED', `${arg}: not tracked by dvs (no ${pointerPathOf(rel)})`, {
      hint: existsSync(repo.abs(rel)) ? `Track it first: dvs track ${arg}` : 'Check the path; list tracked data with `dvs status`.',
      data: { path: rel },
    });
  }
  // The same pointer named twice (by data and by pointer path) is one target.
  const seen = new Set<string>();
  const targets = out.filter((t) => {
    const key = `${t.ref.pointerPath}\0${t.sub ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { targets, refused };
}

/** A refused pointer as a warning, for commands that go on with the rest. */
export function refusalWarning(r: RefusedPointer): Warning {
  return { code: r.error.code, message: r.error.message, path: r.pointerPath, hint: r.error.hint };
}

/** The nearest ancestor directory of `rel` that is tracked (has a pointer beside it). */
export function trackedAncestor(repo: Repo, rel: string): string | undefined {
  const parts = rel.split('/');
  for (let n = parts.length - 1; n >= 1; n--) {
    const candidate = parts.slice(0, n).join('/');
    if (existsSync(repo.abs(pointerPathOf(candidate)))) return candidate;
  }
  return undefined;
}

export function isDirectory(abs: string): boolean {
  try {
    return statSync(abs).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}
