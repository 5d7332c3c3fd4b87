import { existsSync, readdirSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import type { Warning } from '../events.js';
import { stampOf, type FileStamp } from '../objects/hash.js';
import { compareBytes, type Manifest } from '../objects/manifest.js';
import { findPointers, type PointerRef } from '../pointer/io.js';
import { dataPathOf, isPointerPath, pointerPathOf } from '../pointer/format.js';
import type { Repo } from '../repo/repo.js';
import { isWorkspaceTemp } from '../repo/temp-names.js';

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
    for (const e of entries) {
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
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

/**
 * Turn command-line paths into pointers. A target may name the pointer (`data.dvs`), the data (`data`),
 * a path inside a tracked directory (`data/part-1.csv`), or a folder holding pointers. No targets means
 * every pointer in the workspace.
 */
export function selectTargets(repo: Repo, cwd: string, args: string[] | undefined): Target[] {
  if (!args || args.length === 0) return findPointers(repo.root, repo.ignore).map((ref) => ({ ref }));
  const out: Target[] = [];
  for (const arg of args) {
    const { rel } = repo.resolve(cwd, arg);
    if (isPointerPath(rel) && existsSync(repo.abs(rel))) {
      out.push({ ref: { pointerPath: rel, dataPath: dataPathOf(rel) } });
      continue;
    }
    if (existsSync(repo.abs(pointerPathOf(rel)))) {
      out.push({ ref: { pointerPath: pointerPathOf(rel), dataPath: rel } });
      continue;
    }
    const owner = trackedAncestor(repo, rel);
    if (owner) {
      out.push({ ref: { pointerPath: pointerPathOf(owner), dataPath: owner }, sub: rel.slice(owner.length + 1) });
      continue;
    }
    if (isDirectory(repo.abs(rel))) {
      const inside = findPointers(repo.root, repo.ignore, rel);
      if (inside.length) {
        out.push(...inside.map((ref) => ({ ref })));
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
  return out.filter((t) => {
    const key = `${t.ref.pointerPath}\0${t.sub ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
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
