import { lstatSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DvsError } from '../../errors.js';
import { copyWritable } from '../../objects/link.js';
import { workspaceTempName } from '../../base/temp-names.js';
import type { OpContext } from '../context.js';
import { scanDirectory } from '../../workspace/scan.js';
import { selectTargets } from '../../workspace/targets.js';

export interface UnprotectOptions {
  targets: string[];
}

export interface UnprotectResult {
  unprotected: string[];
}

/**
 * Make checked-out data editable: a hardlink or symlink into the read-only cache is replaced by a
 * writable copy, so that editing it cannot corrupt the cache.
 */
export async function unprotect(ctx: OpContext, options: UnprotectOptions): Promise<UnprotectResult> {
  const { repo } = ctx;
  if (options.targets.length === 0) {
    throw new DvsError('NO_TARGETS', 'Nothing to unprotect', { hint: 'Name tracked files or directories.' });
  }
  const { targets } = selectTargets(repo, ctx.cwd, options.targets);
  return repo.withLock({ ...ctx.lock, command: 'dvs unprotect' }, async () => {
    const unprotected: string[] = [];
    for (const { ref, sub } of targets) {
      const abs = repo.abs(ref.dataPath);
      const files = statSync(abs).isDirectory()
        ? scanDirectory(repo, ref.dataPath).files.filter((f) => sub === undefined || f.rel === sub || f.rel.startsWith(sub + '/')).map((f) => ({ path: `${ref.dataPath}/${f.rel}`, abs: f.abs }))
        : [{ path: ref.dataPath, abs }];
      for (const f of files) {
        const lst = lstatSync(f.abs);
        const shared = lst.isSymbolicLink() || lst.nlink > 1 || (lst.mode & 0o200) === 0;
        if (!shared) continue;
        const exec = (statSync(f.abs).mode & 0o100) !== 0;
        const tmp = join(dirname(f.abs), workspaceTempName(basename(f.abs)));
        try {
          copyWritable(f.abs, tmp, exec);
          renameSync(tmp, f.abs);
        } catch (err) {
          rmSync(tmp, { force: true });
          throw err;
        }
        unprotected.push(f.path);
      }
    }
    return { unprotected };
  });
}
