import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import picomatch from 'picomatch';
import { DvsError, fromSystemError } from '../errors.js';
import { isInside, isReservedName, realpathOfExisting, toPosix } from '../base/paths.js';
import { POINTER_SUFFIX } from '../pointer/format.js';
import type { Repo } from '../repo/repo.js';

/**
 * Expand glob patterns (`data/*.csv`, `raw/**\/part-*`) as a shell would, but inside the repository
 * only: relative to `cwd`, never above the repository root, never into `.git` or `.dvs`, never through a
 * linked folder (the path judge would refuse what lies behind one). `*` does not match a leading dot, as
 * in a shell. Pointer files are never data and are left out. When a match lies inside another match
 * (`data/**` matches `data/a` and `data/a/b.csv`), only the outer one is kept: tracking both would make
 * nested pointers. Returns the matches as paths relative to `cwd`, sorted, each pattern's matches in
 * turn, without duplicates. A pattern that matches nothing is an error, as in DVC.
 */
export function expandGlobs(repo: Repo, cwd: string, patterns: string[]): string[] {
  const all = new Set<string>();
  for (const pattern of patterns) {
    const matches = expandGlob(repo, cwd, pattern);
    if (matches.length === 0) {
      throw new DvsError('GLOB_NO_MATCH', `${pattern}: matches no file or folder`, {
        hint: 'Check the pattern: it is relative to the current folder, and quoted so that the shell does not expand it first.',
        data: { pattern },
      });
    }
    for (const abs of matches) all.add(abs);
  }
  const insideAnother = (abs: string) => {
    for (let dir = dirname(abs); dir.length >= repo.root.length && dir !== dirname(dir); dir = dirname(dir)) {
      if (all.has(dir)) return true;
    }
    return false;
  };
  return [...all].filter((abs) => !insideAnother(abs)).map((abs) => toPosix(relative(cwd, abs)) || '.');
}

/** Absolute paths of what one pattern matches. */
function expandGlob(repo: Repo, cwd: string, pattern: string): string[] {
  const scan = picomatch.scan(pattern);
  if (scan.negated) {
    throw new DvsError('GLOB_INVALID', `${pattern}: a negated pattern ("!…") names what not to track`, {
      hint: 'Name what to track; leave data out with .dvsignore.',
      data: { pattern },
    });
  }
  const baseAbs = resolve(cwd, scan.base || '.');
  const baseRel = toPosix(relative(repo.root, baseAbs));
  // Also a folder on the way that links out: nothing outside is even listed.
  if (baseRel.startsWith('../') || baseRel === '..' || isAbsolute(baseRel) || !isInside(repo.realRoot, realpathOfExisting(baseAbs))) {
    throw new DvsError('PATH_OUTSIDE_REPO', `${pattern}: outside the repository (${repo.root})`, {
      hint: 'dvs only tracks data inside the Git repository it was initialised in.',
      data: { path: pattern },
    });
  }
  if (!scan.isGlob) return existsSync(baseAbs) ? [baseAbs] : [];
  const match = picomatch(scan.glob, { dot: false });
  const parts = scan.glob.split('/');
  const maxDepth = parts.includes('**') || scan.glob.includes('**') ? Infinity : parts.length;
  const found: string[] = [];
  const walk = (absDir: string, relDir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      // A base that does not exist, or a file where a folder was expected: nothing matches there.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw fromSystemError(err, absDir, 'listing');
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (isReservedName(e.name)) continue;
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      const abs = `${absDir}/${e.name}`;
      if (match(rel) && !e.name.endsWith(POINTER_SUFFIX)) found.push(abs);
      // Linked folders are not walked: whatever lies behind one is refused by the path judge.
      if (e.isDirectory() && depth < maxDepth) walk(abs, rel, depth + 1);
    }
  };
  walk(baseAbs, '', 1);
  return found;
}
