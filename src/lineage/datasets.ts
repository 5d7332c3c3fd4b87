import { existsSync } from 'node:fs';
import { DvsError, type ErrorCode } from '../errors.js';
import { dataPathOf, isPointerPath, pointerPathOf, type Pointer } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';
import type { StatCache } from '../objects/stat-cache.js';
import { compareWorkspace } from '../workspace/compare.js';

/** A tracked dataset named on the command line, with its pointer as it is in the workspace. */
export interface TrackedDataset {
  arg: string;
  path: string;
  pointerPath: string;
  pointer: Pointer;
}

/** Resolve `data/train` or `data/train.dvs` to a tracked dataset; refuse anything untracked. */
export function resolveTracked(repo: Repo, cwd: string, arg: string, role: string): TrackedDataset {
  const { rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
  if (!existsSync(repo.abs(pointerPath))) {
    throw new DvsError('NOT_TRACKED', `${role} ${arg}: not tracked by dvs (no ${pointerPath})`, {
      hint: existsSync(repo.abs(rel)) ? `Track it first: dvs track ${arg}` : 'Check the path; list tracked data with `dvs status`.',
      data: { path: rel },
    });
  }
  return { arg, path: dataPathOf(pointerPath), pointerPath, pointer: readPointer(repo.root, pointerPath) };
}

/**
 * Refuse data whose workspace content is not what its pointer says: a record naming the pointer's oid
 * would then describe data nobody used.
 */
export async function requireUnchanged(repo: Repo, ds: TrackedDataset, state: StatCache, role: string, code: ErrorCode = 'DATASET_MODIFIED'): Promise<void> {
  const s = await compareWorkspace(repo, ds.path, ds.pointer, { state });
  if (s.workspace === 'missing') {
    throw new DvsError('DATASET_MISSING', `${role} ${ds.path}: not in the workspace`, {
      hint: `Bring it back first: dvs checkout ${ds.path} (or dvs pull ${ds.path}).`,
      data: { path: ds.path },
    });
  }
  if (s.workspace === 'modified') {
    throw new DvsError(code, `${role} ${ds.path}: the workspace data differs from its pointer ${ds.pointerPath}`, {
      hint: `Record the change with \`dvs track ${ds.path}\` (and commit it), or restore the tracked version with \`dvs checkout ${ds.path}\`.`,
      data: { path: ds.path, pointerOid: ds.pointer.oid, workspaceOid: s.currentOid },
    });
  }
}
