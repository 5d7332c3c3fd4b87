import { readdirSync, statSync, type BigIntStats, type Dirent } from 'node:fs';
import { DvsError, fromSystemError } from '../errors.js';
import type { Warning } from '../events.js';
import { isReservedName } from '../base/paths.js';
import { stampOf } from '../objects/hash.js';
import { compareBytes } from '../objects/manifest.js';
import { ScannedFile, type DirectoryScan } from './scan.js';

/**
 * List the files of a directory outside the repository (`dvs track /mnt/x -o data/x`), as scanDirectory
 * lists a tracked one: links to files followed, links to folders, special files and names like .git or
 * .dvs skipped with a warning. No .dvsignore applies out there. The directory is only read. A name that
 * is not UTF-8 cannot be recorded in a manifest, so the directory is refused rather than copied in part.
 */
export function scanOutside(base: string, display: string): DirectoryScan {
  const files: ScannedFile[] = [];
  const warnings: Warning[] = [];
  const walk = (relDir: string) => {
    const absDir = relDir ? `${base}/${relDir}` : base;
    let entries: Dirent[];
    try {
      entries = readdirSync(absDir, { withFileTypes: true });
    } catch (err) {
      throw fromSystemError(err, shown(relDir), 'listing');
    }
    const raw = entries.some((e) => e.name.includes('\uFFFD')) ? readdirSync(absDir, { encoding: 'buffer' }) : [];
    for (const name of raw) {
      if (!Buffer.from(name.toString('utf8')).equals(name)) {
        throw new DvsError('NAME_NOT_UTF8', `${shown(relDir ? `${relDir}/${name.toString('utf8')}` : name.toString('utf8'))}: the file name is not valid UTF-8; dvs records names as UTF-8 text and will not track the directory without it`, {
          hint: 'Rename it to a UTF-8 name (for example with convmv), then track the directory.',
          data: { path: shown(relDir) },
        });
      }
    }
    for (const e of entries) {
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      const abs = `${absDir}/${e.name}`;
      if (isReservedName(e.name)) {
        warnings.push({ code: 'RESERVED_NAME', message: `${shown(rel)}: a folder or file named like .git or .dvs is never tracked, skipped`, path: shown(rel) });
        continue;
      }
      let st: BigIntStats | undefined;
      if (e.isSymbolicLink()) {
        try {
          st = statSync(abs, { bigint: true });
        } catch {
          warnings.push({ code: 'BROKEN_LINK', message: `${shown(rel)}: broken symbolic link, skipped`, path: shown(rel) });
          continue;
        }
        if (st.isDirectory()) {
          warnings.push({ code: 'LINKED_DIRECTORY', message: `${shown(rel)}: symbolic link to a directory, skipped`, path: shown(rel), hint: 'Track the folder it points to on its own.' });
          continue;
        }
      } else if (e.isDirectory()) {
        walk(rel);
        continue;
      }
      if (!e.isFile() && !st?.isFile()) {
        warnings.push({ code: 'SPECIAL_FILE', message: `${shown(rel)}: not a regular file, skipped`, path: shown(rel) });
        continue;
      }
      try {
        st ??= statSync(abs, { bigint: true });
      } catch (err) {
        throw fromSystemError(err, shown(rel), 'reading');
      }
      files.push(new ScannedFile(base, rel, stampOf(st), (Number(st.mode) & 0o100) !== 0));
    }
  };
  const shown = (rel: string) => (rel ? `${display}/${rel}` : display);
  walk('');
  files.sort((a, b) => compareBytes(a.rel, b.rel));
  return { files, warnings, temps: [] };
}
