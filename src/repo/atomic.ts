import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
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
