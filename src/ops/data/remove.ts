import { existsSync, rmSync } from 'node:fs';
import { DvsError } from '../../errors.js';
import { dataPathOf, isPointerPath, pointerPathOf } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import { unignoreInGit } from '../../repo/gitignore.js';
import { stage, unstage } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { updatePlaced } from '../../workspace/placed.js';

export interface RemoveOptions {
  targets: string[];
}

export interface RemoveResult {
  removed: Array<{ path: string; pointerPath: string }>;
  staged: string[];
  toStage: string[];
}

/**
 * Stop tracking data: delete its pointer and its .gitignore entry. The data stays in the workspace and
 * its objects stay in the cache (until gc).
 */
export async function remove(ctx: OpContext, options: RemoveOptions): Promise<RemoveResult> {
  const { repo } = ctx;
  if (options.targets.length === 0) {
    throw new DvsError('NO_TARGETS', 'Nothing to remove', { hint: 'Name pointer files: dvs remove data.dvs' });
  }
  const refs = options.targets.map((arg) => {
    const { rel } = repo.resolve(ctx.cwd, arg.replace(/\/+$/, ''));
    const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
    if (!existsSync(repo.abs(pointerPath))) {
      throw new DvsError('NOT_TRACKED', `${arg}: no pointer ${pointerPath}`, {
        hint: 'List tracked data with `dvs status`.',
        data: { path: rel },
      });
    }
    // Parsing proves it is a dvs pointer and not some other file ending in .dvs.
    const { oid, kind, size } = readPointer(repo.root, pointerPath);
    return { pointerPath, path: dataPathOf(pointerPath), oid, kind, size };
  });
  return repo.withLock({ ...ctx.lock, command: 'dvs remove' }, async () => {
    const ignoreFiles = new Set<string>();
    for (const r of refs) {
      rmSync(repo.abs(r.pointerPath));
      const changed = unignoreInGit(repo.root, r.path);
      if (changed) ignoreFiles.add(changed);
    }
    // The data stays and is the user's now: no later checkout may take it for dvs's and remove it.
    updatePlaced(repo, (record) => refs.forEach((r) => record.forget(r.path)));
    const pointerPaths = refs.map((r) => r.pointerPath);
    const autostage = repo.config.bool('core.autostage');
    if (autostage) {
      await unstage(repo.root, pointerPaths);
      await stage(repo.root, [...ignoreFiles]);
    }
    const all = [...pointerPaths, ...ignoreFiles];
    await (await import('../../audit/record.js')).recordAuditEvent(repo, { type: 'remove', paths: refs.map(({ path, oid, kind, size }) => ({ path, oid, kind, size })) });
    return { removed: refs.map(({ path, pointerPath }) => ({ path, pointerPath })), staged: autostage ? all : [], toStage: autostage ? [] : all };
  });
}
