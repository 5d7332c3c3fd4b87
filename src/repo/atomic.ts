import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
