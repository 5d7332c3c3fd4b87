import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import { writeFileAtomic } from '../base/atomic.js';
import { IGNORE_FILE, type IgnoreRules } from '../repo/ignore.js';
import { dataPathProblem, type PathGuard } from '../base/paths.js';
import { readTextFile } from '../base/safe-yaml.js';
import { isWorkspaceTemp } from '../base/temp-names.js';
import { dataPathOf, isPointerPath, parsePointer, pointerSource, serializePointer, type Pointer, type PointerData } from './format.js';

/** A pointer found in the workspace: where it is and what data path it stands for. */
export interface PointerRef {
  /** POSIX path of the pointer file relative to the root, e.g. "data/train.dvs". */
  pointerPath: string;
  /** POSIX path of the data, e.g. "data/train". */
  dataPath: string;
}

/** A pointer dvs will not act on (its data path is unsafe), with the reason as an error naming it. */
export interface RefusedPointer extends PointerRef {
  error: DvsError;
}

/** The pointers under a folder: those dvs may act on, and those it refuses. */
export interface PointerScan {
  pointers: PointerRef[];
  refused: RefusedPointer[];
}

/** Refuse, by name alone, a pointer whose data path dvs may never touch (see repo/paths.ts). */
export function checkPointerName(pointerPath: string): void {
  const dataPath = dataPathOf(pointerPath);
  const problem = dataPathProblem(dataPath);
  if (problem) {
    throw new DvsError(problem.code, `${pointerPath}: refused: its data path "${dataPath}" ${problem.reason}`, {
      hint: 'Nothing was read, written or deleted for it.',
      data: { path: dataPath, pointerPath, reason: problem.reason },
    });
  }
}

export function readPointer(root: string, pointerPath: string): Pointer {
  checkPointerName(pointerPath);
  let text: string;
  try {
    // Size and file type are checked before reading: a hook must not stall on a hostile pointer.
    text = readTextFile(join(root, pointerPath), pointerSource(pointerPath));
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new DvsError('POINTER_NOT_FOUND', `${pointerPath}: no such pointer`, {
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
 * code tree, not to the data. Pointers the guard refuses are returned apart, for the caller to report.
 */
export function findPointers(root: string, ignore: IgnoreRules, guard: PathGuard, under = ''): PointerScan {
  const scan: PointerScan = { pointers: [], refused: [] };
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
    const ignored = ignore.matcher(dirRel, names.has(IGNORE_FILE));
    for (const e of entries) {
      const rel = dirRel ? `${dirRel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === '.git' || (dirRel === '' && e.name === '.dvs') || e.name === 'node_modules') continue;
        if (names.has(e.name + '.dvs')) continue; // tracked data: its pointer sits beside it
        if (ignored(e.name, true)) continue;
        walk(rel);
      } else if ((e.isFile() || e.isSymbolicLink()) && isPointerPath(e.name) && !isWorkspaceTemp(e.name)) {
        const ref = { pointerPath: rel, dataPath: dataPathOf(rel) };
        const refusal = guard.refusal(ref.dataPath, ref.pointerPath);
        if (refusal) scan.refused.push({ ...ref, error: refusal });
        else scan.pointers.push(ref);
      }
    }
  };
  walk(under);
  const byPath = (a: PointerRef, b: PointerRef) => (a.pointerPath < b.pointerPath ? -1 : a.pointerPath > b.pointerPath ? 1 : 0);
  scan.pointers.sort(byPath);
  scan.refused.sort(byPath);
  return scan;
}
