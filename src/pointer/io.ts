import { readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import { writeFileAtomic } from '../repo/atomic.js';
import type { IgnoreRules } from '../repo/ignore.js';
import { checkRelativePath } from '../repo/paths.js';
import { isWorkspaceTemp } from '../repo/temp-names.js';
import { dataPathOf, isPointerPath, parsePointer, serializePointer, type Pointer, type PointerData } from './format.js';

/** A pointer found in the workspace: where it is and what data path it stands for. */
export interface PointerRef {
  /** POSIX path of the pointer file relative to the root, e.g. "data/train.dvs". */
  pointerPath: string;
  /** POSIX path of the data, e.g. "data/train". */
  dataPath: string;
}

export function readPointer(root: string, pointerPath: string): Pointer {
  checkRelativePath(pointerPath, pointerPath);
  let text: string;
  try {
    text = readFileSync(join(root, pointerPath), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new DvsError('notfound', 'POINTER_NOT_FOUND', `${pointerPath}: no such pointer`, {
        hint: 'List tracked data with `dvs status`.',
        data: { path: pointerPath },
      });
    }
    throw fromSystemError(err, pointerPath, 'reading');
  }
  return parsePointer(text, pointerPath);
}

export function writePointer(root: string, pointerPath: string, data: PointerData, previous?: Pointer): void {
  writeFileAtomic(join(root, pointerPath), serializePointer(data, previous?.doc));
}

/**
 * Find every pointer under the repository root (or under `under`). Tracked data directories, `.git`,
 * `.dvs` and `.dvsignore`d directories are not descended into, so the walk stays proportional to the
 * code tree, not to the data.
 */
export function findPointers(root: string, ignore: IgnoreRules, under = ''): PointerRef[] {
  const found: PointerRef[] = [];
  const walk = (dirRel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, dirRel), { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw fromSystemError(err, dirRel || '.', 'listing');
    }
    const names = new Set(entries.map((e) => e.name));
    const ignored = ignore.matcher(dirRel);
    for (const e of entries) {
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === '.git' || (dirRel === '' && e.name === '.dvs') || e.name === 'node_modules') continue;
        if (names.has(e.name + '.dvs')) continue; // tracked data: its pointer sits beside it
        if (ignored(e.name, true)) continue;
        walk(rel);
      } else if ((e.isFile() || e.isSymbolicLink()) && isPointerPath(e.name) && !isWorkspaceTemp(e.name)) {
        if (e.isSymbolicLink() && !isRegularFile(join(root, rel))) continue;
        found.push({ pointerPath: rel, dataPath: dataPathOf(rel) });
      }
    }
  };
  walk(under);
  found.sort((a, b) => (a.pointerPath < b.pointerPath ? -1 : a.pointerPath > b.pointerPath ? 1 : 0));
  return found;
}

function isRegularFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
