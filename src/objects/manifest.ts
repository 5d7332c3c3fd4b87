import { DvsError } from '../errors.js';
import { checkRelativePath } from '../repo/paths.js';
import type { Oid } from './oid.js';

/**
 * A directory manifest lists a tracked directory's files. It is stored as an object like any other, so
 * its oid names the whole tree. Encoding (one valid form, so equal trees give equal oids):
 *
 *   dvs-manifest 1\n
 *   <64 hex oid> <size> <x|-> <path>\n     one line per file, sorted by path (byte order)
 *
 * Paths are POSIX, relative, with `%`, CR and LF percent-encoded.
 */
export interface ManifestEntry {
  path: string;
  oid: Oid;
  size: number;
  exec: boolean;
}

export interface Manifest {
  entries: ManifestEntry[];
}

const HEADER = 'dvs-manifest 1';

const SURROGATE = /[\uD800-\uDFFF]/;

/** UTF-8 byte order, the order the spec fixes (JS's `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareBytes(a: string, b: string): number {
  if (SURROGATE.test(a) || SURROGATE.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortEntries(entries: ManifestEntry[]): ManifestEntry[] {
  return entries.sort((a, b) => compareBytes(a.path, b.path));
}

function encodePath(p: string): string {
  return /[%\r\n]/.test(p) ? p.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A') : p;
}

function decodePath(p: string): string {
  return p.includes('%') ? p.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%') : p;
}

export function serializeManifest(manifest: Manifest): string {
  const lines = [HEADER];
  let previous: string | undefined;
  for (const e of manifest.entries) {
    if (previous !== undefined && compareBytes(previous, e.path) >= 0) {
      throw new DvsError('internal', 'MANIFEST_UNSORTED', `manifest entries out of order at ${e.path}`);
    }
    previous = e.path;
    lines.push(`${e.oid} ${e.size} ${e.exec ? 'x' : '-'} ${encodePath(e.path)}`);
  }
  return lines.join('\n') + '\n';
}

/** Parse and validate a manifest; `where` names it in messages. Rejects paths that leave the directory. */
export function parseManifest(text: string, where: string): Manifest {
  const lines = text.split('\n');
  if (lines[0] !== HEADER) {
    throw new DvsError('input', 'MANIFEST_INVALID', `${where}: not a dvs manifest (first line is "${lines[0].slice(0, 40)}")`, {
      hint: 'The object may be corrupted: run `dvs verify`.',
    });
  }
  if (lines[lines.length - 1] !== '') {
    throw new DvsError('input', 'MANIFEST_INVALID', `${where}: truncated (no final newline)`, {
      hint: 'The object may be corrupted: run `dvs verify`.',
    });
  }
  const entries: ManifestEntry[] = new Array(lines.length - 2);
  let previous: string | undefined;
  for (let i = 1; i < lines.length - 1; i++) {
    const line = lines[i];
    const s1 = line.indexOf(' ', 65);
    const oid = isHex64At(line) ? line.slice(0, 64) : '';
    const size = Number(line.slice(65, s1));
    const flag = line[s1 + 1];
    const path = decodePath(line.slice(s1 + 3));
    if (line[64] !== ' ' || s1 < 0 || oid === '' || !Number.isSafeInteger(size) || size < 0 ||
        (flag !== 'x' && flag !== '-') || line[s1 + 2] !== ' ' || path === '') {
      throw new DvsError('input', 'MANIFEST_INVALID', `${where}: line ${i + 1} is malformed`, {
        hint: 'The object may be corrupted: run `dvs verify`.',
      });
    }
    checkRelativePath(path, `${where}: line ${i + 1}`);
    if (previous !== undefined && compareBytes(previous, path) >= 0) {
      throw new DvsError('input', 'MANIFEST_INVALID', `${where}: line ${i + 1}: paths are not sorted or repeat ("${path}")`);
    }
    previous = path;
    entries[i - 1] = { path, oid, size, exec: flag === 'x' };
  }
  return { entries };
}

/** Whether a line starts with 64 lowercase hex digits (no regex, no slice: this is the hot loop). */
function isHex64At(line: string): boolean {
  if (line.length < 64) return false;
  for (let k = 0; k < 64; k++) {
    const c = line.charCodeAt(k);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

export function manifestTotals(manifest: Manifest): { files: number; size: number } {
  let size = 0;
  for (const e of manifest.entries) size += e.size;
  return { files: manifest.entries.length, size };
}
