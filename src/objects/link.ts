import { chmodSync, constants, copyFileSync, linkSync, rmSync, symlinkSync } from 'node:fs';
import { DvsError, errnoCode } from '../errors.js';

/** How a checkout places a cache object in the workspace, in the order `cache.type` lists them. */
export type LinkType = 'reflink' | 'hardlink' | 'symlink' | 'copy';
export const LINK_TYPES: readonly LinkType[] = ['reflink', 'hardlink', 'symlink', 'copy'];

/**
 * Materialise a cache object at a (temporary) workspace path using the first link type that works on
 * this file system, in the order configured by `cache.type`. A type that fails because the file system
 * cannot do it (no reflink on ext4, no hardlink across devices) is remembered and skipped afterwards.
 *
 * Copies are writable; hardlinks and symlinks share the read-only cache object, so the workspace file is
 * read-only too (`dvs unprotect` replaces it with a writable copy). An executable file is never one of
 * those: its mode would be the cache object's, and making the object executable would make every other
 * checkout of the same bytes executable too. It is copied instead (or reflinked, a file of its own).
 */
export class Linker {
  private readonly unsupported = new Set<LinkType>();

  /** The order for executable files: links that share the object's mode become copies. */
  private readonly execOrder: LinkType[];

  constructor(private readonly order: LinkType[]) {
    this.execOrder = [...new Set(order.map((t): LinkType => (t === 'hardlink' || t === 'symlink' ? 'copy' : t)))];
  }

  /** Link `object` to `dest` (which must not exist). Returns the type used. */
  async link(object: string, dest: string, exec: boolean): Promise<LinkType> {
    for (const type of exec ? this.execOrder : this.order) {
      if (this.unsupported.has(type)) continue;
      try {
        await linkOne(type, object, dest, exec);
        return type;
      } catch (err) {
        rmSync(dest, { force: true });
        if (!isUnsupported(err)) throw err;
        this.unsupported.add(type);
      }
    }
    throw new DvsError('NO_LINK_TYPE', `None of the link types ${this.order.join(', ')} works for ${dest}`, {
      hint: 'Add copy to the list: dvs config cache.type reflink,copy',
    });
  }

  /** The first type expected to work, for reporting. */
  preferred(): LinkType | undefined {
    return this.order.find((t) => !this.unsupported.has(t));
  }
}

async function linkOne(type: LinkType, object: string, dest: string, exec: boolean): Promise<void> {
  switch (type) {
    case 'reflink':
      await process.getBuiltinModule('node:fs/promises').copyFile(object, dest, constants.COPYFILE_FICLONE_FORCE);
      chmodSync(dest, newFileMode(exec));
      return;
    case 'copy':
      await process.getBuiltinModule('node:fs/promises').copyFile(object, dest);
      chmodSync(dest, newFileMode(exec));
      return;
    case 'hardlink':
      linkSync(object, dest);
      return;
    case 'symlink':
      symlinkSync(object, dest);
      return;
  }
}

/** Synchronous copy for the rare paths that need no throughput (unprotect). */
export function copyWritable(object: string, dest: string, exec: boolean): void {
  copyFileSync(object, dest);
  chmodSync(dest, newFileMode(exec));
}

let umask: number | undefined;

/**
 * The mode of a file dvs creates in the workspace: what a new file gets under the user's umask (as Git
 * does), with execute bits for an executable one. A copy would otherwise take the cache object's 0444.
 */
export function newFileMode(exec: boolean): number {
  // Read once: process.umask() sets the mask back and forth to read it.
  umask ??= process.umask();
  return (exec ? 0o777 : 0o666) & ~umask;
}

/**
 * `mode` with the executable bits set or cleared: execute where there is read (as `chmod +x` under the
 * usual umask gives), none at all when not executable.
 */
export function withExecBit(mode: number, exec: boolean): number {
  const bits = mode & 0o7777;
  return exec ? bits | ((bits & 0o444) >> 2) : bits & ~0o111;
}

function isUnsupported(err: unknown): boolean {
  const code = errnoCode(err);
  // ENOTSUP/EOPNOTSUPP/EINVAL/ENOSYS: no reflink here; EXDEV: other device; EPERM/EMLINK: no (more) links.
  return code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EINVAL' || code === 'ENOSYS' || code === 'EXDEV' ||
    code === 'EMLINK' || code === 'EPERM' || code === 'ERR_FS_CP_EINVAL';
}
