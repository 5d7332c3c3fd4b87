import { isAbsolute, resolve } from 'node:path';
import { makeDirectories } from '../../base/atomic.js';
import type { Repo } from '../../repo/repo.js';
import { writeSetting } from './config.js';

export interface CacheDirOptions {
  /** New location; omit to show the current one. */
  path?: string;
  cwd: string;
  local?: boolean;
}

export interface CacheDirResult {
  dir: string;
  changed: boolean;
}

/**
 * Show or move the cache location. Several repositories may share one cache: objects are named by
 * content, so sharing never mixes data. Existing objects are not moved; copy them over or fetch again.
 */
export function cacheDir(repo: Repo, options: CacheDirOptions): CacheDirResult {
  if (options.path === undefined) return { dir: repo.cache.root, changed: false };
  const abs = isAbsolute(options.path) ? options.path : resolve(options.cwd, options.path);
  makeDirectories(abs);
  writeSetting(repo, 'cache.dir', abs, options.local === true);
  return { dir: abs, changed: true };
}
