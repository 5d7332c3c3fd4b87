import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DvsError, errnoCode } from '../errors.js';

/**
 * Paths inside dvs are POSIX and relative to the repository root ("data/train"). This module is the one
 * place that decides whether a path may be read, written or deleted, so that no pointer name, manifest
 * line, argument or config value can make dvs touch anything outside the data it tracks. Two checks:
 *
 * - `pathProblem` looks at the string alone (cheap enough for every line of a 100,000-file manifest):
 *   a plain relative path, no `..`, no part named `.git` or `.dvs` in any letter case or disguise.
 * - `PathGuard` adds what only the file system can tell: no folder on the way is a symbolic link, and
 *   the pointer itself is a regular file.
 */

export type PathProblemCode = 'PATH_OUTSIDE_REPO' | 'PATH_RESERVED' | 'PATH_INVALID' | 'PATH_THROUGH_SYMLINK';

export interface PathProblem {
  code: PathProblemCode;
  /** Completes "path … ": e.g. 'climbs out of the repository with ".."'. */
  reason: string;
}

/**
 * Names Git and dvs keep for themselves. Compared as a case-insensitive file system would (NTFS, APFS,
 * HFS+): letter case, trailing dots and spaces (dropped by Windows), the 8.3 short names, and the
 * zero-width characters HFS+ ignores, as Git's own `verify_path` does.
 */
const RESERVED_NAME = /^(\.git|\.dvs|git~1|dvs~1)[. ]*$/i;
const HFS_IGNORABLE = /[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

export function isReservedName(name: string): boolean {
  const c = name.charCodeAt(0);
  // Fast exit for the usual name: only ".", "g", "d" (any case) or an ignorable can start a reserved one.
  if (c !== 46 && c !== 103 && c !== 71 && c !== 100 && c !== 68 && c < 0x200c) return false;
  return RESERVED_NAME.test(name.replace(HFS_IGNORABLE, ''));
}

/** What is wrong with a relative path as a string, or undefined when it is a plain path inside the repository. */
export function pathProblem(p: string): PathProblem | undefined {
  if (p === '' || p === '.') return { code: 'PATH_OUTSIDE_REPO', reason: 'is the repository root itself' };
  if (p.charCodeAt(0) === 47 /* / */ || (p.length > 2 && p.charCodeAt(1) === 58 /* : */ && /^[A-Za-z]:[\\/]/.test(p))) {
    return { code: 'PATH_OUTSIDE_REPO', reason: 'is absolute' };
  }
  if (p.includes('\0')) return { code: 'PATH_INVALID', reason: 'contains a NUL byte' };
  let start = 0;
  for (;;) {
    let end = p.indexOf('/', start);
    if (end < 0) end = p.length;
    const len = end - start;
    if (len === 0) return { code: 'PATH_OUTSIDE_REPO', reason: 'has an empty part ("//" or a trailing "/")' };
    if (p.charCodeAt(start) === 46 /* . */ && (len === 1 || (len === 2 && p.charCodeAt(start + 1) === 46))) {
      return { code: 'PATH_OUTSIDE_REPO', reason: len === 1 ? 'has a "." part' : 'climbs out with ".."' };
    }
    const name = p.slice(start, end);
    if (isReservedName(name)) return { code: 'PATH_RESERVED', reason: `is inside or is "${name}", which dvs never touches` };
    if (end === p.length) return undefined;
    start = end + 1;
  }
}

/** The longest file name most file systems accept, in bytes. */
export const NAME_MAX = 255;
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * What is wrong with a tracked data path (a pointer's data), which must also be writable as a
 * `.gitignore` line and have a pointer beside it: no control characters, and room for the pointer's name.
 */
export function dataPathProblem(dataPath: string): PathProblem | undefined {
  const problem = pathProblem(dataPath);
  if (problem) return problem;
  if (CONTROL.test(dataPath)) return { code: 'PATH_INVALID', reason: 'contains a control character (a newline, tab or similar)' };
  const name = dataPath.slice(dataPath.lastIndexOf('/') + 1);
  if (Buffer.byteLength(name) + '.dvs'.length > NAME_MAX) {
    return { code: 'PATH_INVALID', reason: `has a name too long for its pointer (${Buffer.byteLength(name)} bytes; at most ${NAME_MAX - 4})` };
  }
  return undefined;
}

const PATH_HINT: Record<PathProblemCode, string> = {
  PATH_OUTSIDE_REPO: 'Paths in pointers and manifests must be relative, use "/", and never contain "..", "." or empty parts.',
  PATH_RESERVED: 'dvs never reads, writes or deletes anything in .git or .dvs.',
  PATH_INVALID: 'Rename the data to a plain name.',
  PATH_THROUGH_SYMLINK: 'A symbolic link must not lead dvs elsewhere: replace the link with a real folder, or track the data where it really is.',
};

function problemError(problem: PathProblem, message: string, data: Record<string, unknown>, hint = PATH_HINT[problem.code]): DvsError {
  return new DvsError(problem.code, message, { hint, data: { ...data, reason: problem.reason } });
}

/** Reject a relative path (a manifest line, a pointer path) that is not a plain path inside the repository. */
export function checkRelativePath(p: string, where: string): void {
  const problem = pathProblem(p);
  if (problem) throw problemError(problem, `${where}: path "${p}" ${problem.reason}`, { path: p });
}

/**
 * Decides whether dvs may touch a tracked data path and its pointer: the path passes `dataPathProblem`,
 * no folder between the root and the data is a symbolic link or not a folder, and the pointer is a regular
 * file. Folders found good are remembered for the life of the guard (one command).
 */
export class PathGuard {
  private readonly realDirs = new Set<string>();

  constructor(private readonly root: string) {}

  /** Why the data (and its pointer, when named) may not be touched, as an error naming the pointer; or undefined. */
  refusal(dataPath: string, pointerPath?: string): DvsError | undefined {
    const subject = pointerPath ?? dataPath;
    const data = { path: dataPath, pointerPath };
    const hint = pointerPath ? `Nothing was read, written or deleted for it. If the repository is yours, rename or delete the pointer: git rm --cached -- '${pointerPath}'` : undefined;
    const lexical = dataPathProblem(dataPath);
    if (lexical) {
      const what = pointerPath ? `refused: its data path "${dataPath}" ${lexical.reason}` : `path "${dataPath}" ${lexical.reason}`;
      return problemError(lexical, `${subject}: ${what}`, data, hint);
    }
    const through = this.linkOnTheWay(dataPath);
    if (through) {
      const problem: PathProblem = { code: 'PATH_THROUGH_SYMLINK', reason: `passes through ${through.what} (${through.at})` };
      return problemError(problem, `${subject}: refused: ${problem.reason}`, data, hint ?? PATH_HINT.PATH_THROUGH_SYMLINK);
    }
    if (pointerPath !== undefined) {
      try {
        if (lstatSync(`${this.root}/${pointerPath}`).isSymbolicLink()) {
          const problem: PathProblem = { code: 'PATH_THROUGH_SYMLINK', reason: 'the pointer is a symbolic link' };
          return problemError(problem, `${subject}: refused: ${problem.reason}`, data, hint);
        }
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
      }
    }
    return undefined;
  }

  /** Throw the refusal, if any. */
  check(dataPath: string, pointerPath?: string): void {
    const refusal = this.refusal(dataPath, pointerPath);
    if (refusal) throw refusal;
  }

  /** The first folder on the way to `rel` (below the root) that is a symbolic link or not a folder. */
  linkOnTheWay(rel: string): { at: string; what: string } | undefined {
    let slash = rel.indexOf('/');
    while (slash >= 0) {
      const dir = rel.slice(0, slash);
      if (!this.realDirs.has(dir)) {
        let st;
        try {
          st = lstatSync(`${this.root}/${dir}`);
        } catch (err) {
          if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined; // nothing further exists
          throw err;
        }
        if (st.isSymbolicLink()) return { at: dir, what: 'a symbolic link' };
        if (!st.isDirectory()) return { at: dir, what: 'something that is not a folder' };
        this.realDirs.add(dir);
      }
      slash = rel.indexOf('/', slash + 1);
    }
    return undefined;
  }

  /** Forget what was checked (after dvs itself removed or created folders). */
  forget(): void {
    this.realDirs.clear();
  }
}

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The real path of `abs`, or of its nearest existing ancestor joined with the rest. */
export function realpathOfExisting(abs: string): string {
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = realpathSync(head);
      return tail.length ? resolve(real, ...tail.reverse()) : real;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = dirname(head);
      if (parent === head) return abs;
      tail.push(head.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      head = parent;
    }
  }
}

export interface RepoPath {
  /** Absolute path as the user named it (not resolved through links). */
  abs: string;
  /** POSIX path relative to the repository root. */
  rel: string;
}

/**
 * Resolve a path given on the command line (relative to `cwd`) to a repository path, refusing paths
 * outside the repository, paths through a symbolic link, and paths inside `.git` or `.dvs`.
 */
export function resolveRepoPath(root: string, realRoot: string, guard: PathGuard, cwd: string, arg: string): RepoPath {
  const abs = resolve(cwd, arg);
  const rel = toPosix(relative(root, abs));
  if (rel === '' || rel.startsWith('../') || rel === '..' || isAbsolute(rel)) {
    throw new DvsError('PATH_OUTSIDE_REPO', `${arg}: ${rel === '' ? 'is the repository root itself' : `outside the repository (${root})`}`, {
      hint: rel === '' ? 'Name the data inside the repository (a file or folder).' : 'dvs only tracks data inside the Git repository it was initialised in.',
      data: { path: arg },
    });
  }
  const lexical = pathProblem(rel);
  if (lexical?.code === 'PATH_RESERVED') {
    const first = rel.split('/').find(isReservedName)!;
    throw new DvsError('PATH_RESERVED', `${arg}: inside ${first}/, which dvs never tracks`, {
      hint: `Name data outside ${first}/.`,
      data: { path: arg },
    });
  }
  if (lexical) throw problemError(lexical, `${arg}: ${lexical.reason}`, { path: arg });
  // No folder on the way may be a link: not one that leads outside (the write would land there), and
  // not one inside either (the pointer would be written beside the link, naming data that is elsewhere).
  const realParent = realpathOfExisting(dirname(abs));
  if (!isInside(realRoot, realParent)) {
    throw new DvsError('PATH_OUTSIDE_REPO', `${arg}: resolves through a symbolic link to ${realParent}, outside the repository`, {
      hint: 'Move the data into the repository, or track it at its real location.',
      data: { path: arg },
    });
  }
  const through = guard.linkOnTheWay(rel);
  if (through) {
    const real = toPosix(relative(realRoot, realpathOfExisting(abs)));
    throw new DvsError('PATH_THROUGH_SYMLINK', `${arg}: passes through ${through.what} (${through.at})`, {
      hint: `Name the data by its real path${real && !real.startsWith('..') ? ` (${real})` : ''}.`,
      data: { path: arg, real },
    });
  }
  return { abs, rel };
}
