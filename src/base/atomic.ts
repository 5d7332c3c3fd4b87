import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fromSystemError } from '../errors.js';
import { isOrphanedTemp, isWorkspaceTemp, isWorkspaceTempOf, workspaceTempName } from './temp-names.js';

/**
 * Replace a small file (pointer, config, .gitignore) all at once: write a temp file beside it, then
 * rename. A killed command leaves either the old file or the new one, never half of one; the temp file
 * it may leave is named so that dvs recognises it (repo/temp-names.ts).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644, tempDir = dirname(path)): void {
  const tmp = join(tempDir, workspaceTempName(basename(path)));
  try {
    writeFileSync(tmp, content, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw fromSystemError(err, path, 'writing');
  }
}

/**
 * Remove the temp files in `dir` that dvs made to write any of `targets` (file names in `dir`): what
 * killed commands left beside them. Call holding the repository lock (it serialises their writers).
 * `listed` keeps each directory's temp files across calls, so many targets in one folder cost one read.
 */
export function removeTempsBeside(dir: string, targets: string[], listed = new Map<string, string[]>()): void {
  let temps = listed.get(dir);
  if (!temps) {
    try {
      temps = readdirSync(dir).filter(isWorkspaceTemp);
    } catch {
      temps = [];
    }
    listed.set(dir, temps);
  }
  for (const name of temps) {
    if (targets.some((t) => isWorkspaceTempOf(name, t))) removeQuietly(join(dir, name));
  }
}

/** Remove a file if it is there; a failure to clean up must not hide the error being reported. */
export function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // left for the next command's sweep
  }
}

/**
 * Remove entries of a temp directory older than `ageMs`: what killed commands left behind before they
 * could rename it into place. A missing directory is an empty one. Returns how many went.
 */
export function removeStaleTemp(dir: string, ageMs: number): number {
  const cutoff = Date.now() - ageMs;
  return removeEntries(dir, (_name, p) => lstatSync(p).mtimeMs < cutoff);
}

/**
 * Remove entries of a temp directory made by processes of this host that are gone (killed mid-write),
 * whatever their age: a killed download of a big file must not hold its size on disk for an hour.
 */
export function removeOrphanedTemp(dir: string): number {
  return removeEntries(dir, (name) => isOrphanedTemp(name));
}

function removeEntries(dir: string, doomed: (name: string, path: string) => boolean): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const p = join(dir, name);
    try {
      if (doomed(name, p)) {
        rmSync(p, { force: true, recursive: true });
        removed++;
      }
    } catch {
      // raced with another cleaner
    }
  }
  return removed;
}

/**
 * Create a folder and its missing parents, one level at a time. Node's `mkdirSync(p, {recursive: true})`
 * never returns on some file systems that answer ENOENT for any new name (`/proc`); this stops with a
 * clear error instead.
 */
export function makeDirectories(path: string): void {
  const missing: string[] = [];
  let cursor = path;
  for (;;) {
    try {
      if (!statSync(cursor).isDirectory()) throw fromSystemError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), cursor, 'creating a folder in');
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw fromSystemError(err, cursor, 'creating');
      const parent = dirname(cursor);
      if (parent === cursor) break;
      missing.push(cursor);
      cursor = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw fromSystemError(err, dir, 'creating');
    }
  }
}
