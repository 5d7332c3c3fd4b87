import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DvsError, errnoCode } from '../errors.js';

/**
 * Paths inside dvs are POSIX and relative to the repository root ("data/train"). These checks are the
 * one place that decides whether a path may be read or written, so that no pointer, manifest or
 * argument can make dvs touch anything outside the repository.
 */

/** Reject a relative path that is empty, absolute, or climbs out with `..`. */
export function checkRelativePath(p: string, where: string): void {
  // Plain string tests, not split(): this runs for every line of a 100,000-file manifest.
  const bad =
    p === '' ||
    p === '.' ||
    p === '..' ||
    p.charCodeAt(0) === 47 /* / */ ||
    p.charCodeAt(p.length - 1) === 47 ||
    p.startsWith('./') ||
    p.startsWith('../') ||
    p.endsWith('/.') ||
    p.endsWith('/..') ||
    p.includes('//') ||
    p.includes('/./') ||
    p.includes('/../') ||
    p.includes('\0') ||
    (p.length > 2 && p.charCodeAt(1) === 58 /* : */ && /^[A-Za-z]:[\\/]/.test(p));
  if (bad) {
    throw new DvsError('input', 'PATH_OUTSIDE_REPO', `${where}: path "${p}" is not a plain relative path inside the repository`, {
      hint: 'Paths in pointers and manifests must be relative, use "/", and never contain "..", "." or empty parts.',
      data: { path: p },
    });
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
 * outside the repository, including through a symbolic link, and paths inside `.git` or `.dvs`.
 */
export function resolveRepoPath(root: string, realRoot: string, cwd: string, arg: string): RepoPath {
  const abs = resolve(cwd, arg);
  const rel = toPosix(relative(root, abs));
  if (rel === '' || rel.startsWith('../') || rel === '..' || isAbsolute(rel)) {
    throw new DvsError('input', 'PATH_OUTSIDE_REPO', `${arg}: outside the repository (${root})`, {
      hint: 'dvs only tracks data inside the Git repository it was initialised in.',
      data: { path: arg },
    });
  }
  // The parent directory must resolve inside the repository: a link must not lead the write elsewhere.
  const realParent = realpathOfExisting(dirname(abs));
  if (!isInside(realRoot, realParent)) {
    throw new DvsError('input', 'PATH_OUTSIDE_REPO', `${arg}: resolves through a symbolic link to ${realParent}, outside the repository`, {
      hint: 'Move the data into the repository, or track it at its real location.',
      data: { path: arg },
    });
  }
  const first = rel.split('/')[0];
  if (first === '.git' || first === '.dvs') {
    throw new DvsError('input', 'PATH_RESERVED', `${arg}: inside ${first}/, which dvs never tracks`, {
      hint: `Name data outside ${first}/.`,
      data: { path: arg },
    });
  }
  return { abs, rel };
}
