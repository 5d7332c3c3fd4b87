import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fromSystemError } from '../errors.js';

/**
 * Replace a small file (pointer, config, .gitignore) all at once: write a temp file beside it, then
 * rename. A killed command leaves either the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, content, { mode });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw fromSystemError(err, path, 'writing');
  }
}

/**
 * Remove entries of a temp directory older than `ageMs`: what killed commands left behind before they
 * could rename it into place. A missing directory is an empty one. Returns how many went.
 */
export function removeStaleTemp(dir: string, ageMs: number): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  const cutoff = Date.now() - ageMs;
  let removed = 0;
  for (const name of names) {
    const p = join(dir, name);
    try {
      if (lstatSync(p).mtimeMs < cutoff) {
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
