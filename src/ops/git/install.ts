import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors.js';
import { writeFileAtomic } from '../../base/atomic.js';
import type { Repo } from '../../repo/repo.js';
import { stage } from '../../scm/git.js';
import { HOOK_NAMES, hookState, hooksDir, installHook, OPTIONAL_HOOKS, registerMergeDriver, uninstallHook, unregisterMergeDriver, type InstallAction, type UninstallAction } from '../../scm/hooks.js';

export const ATTRIBUTES_LINE = '*.dvs merge=dvs';

export interface InstallResult {
  hooksDir: string;
  hooks: Array<{ name: string; action: InstallAction; reason?: string }>;
  mergeDriver: boolean;
  /** .gitattributes was changed (and staged). */
  attributes: boolean;
}

export interface InstallOptions {
  /** Also the pre-commit hook: warn when tracked data differs from the pointer being committed. */
  preCommit?: boolean;
}

/**
 * Install the Git hooks (data follows checkout, merge, pull and rebase; push sends data) and the merge
 * driver for pointers. Idempotent: running it again upgrades dvs's own hooks and changes nothing else.
 * An optional hook (pre-commit) is written when asked for, and upgraded when dvs wrote it earlier.
 */
export async function install(repo: Repo, options: InstallOptions = {}): Promise<InstallResult> {
  const dir = await hooksDir(repo.root);
  const wanted = HOOK_NAMES.filter((name) => !OPTIONAL_HOOKS.includes(name) || (name === 'pre-commit' && options.preCommit) || hookState(join(dir, name)).state === 'dvs');
  const hooks = wanted.map((name) => ({ name, ...installHook(dir, name) }));
  await registerMergeDriver(repo.root);
  const attributes = addAttributesLine(repo.root);
  if (attributes && repo.config.bool('core.autostage')) await stage(repo.root, ['.gitattributes']);
  return { hooksDir: dir, hooks: hooks.map(({ name, action, reason }) => ({ name, action, reason })), mergeDriver: true, attributes };
}

export interface UninstallResult {
  hooksDir: string;
  hooks: Array<{ name: string; action: UninstallAction }>;
}

/** Remove dvs's hooks, restore the hooks they chained, and unregister the merge driver. */
export async function uninstall(repo: Repo): Promise<UninstallResult> {
  const dir = await hooksDir(repo.root);
  const hooks = HOOK_NAMES.map((name) => ({ name, action: uninstallHook(dir, name).action }))
    // An optional hook that was never installed is not worth a line.
    .filter((h) => !(OPTIONAL_HOOKS.includes(h.name) && h.action === 'absent'));
  await unregisterMergeDriver(repo.root);
  return { hooksDir: dir, hooks };
}

function addAttributesLine(root: string): boolean {
  const path = join(root, '.gitattributes');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  if (text.split('\n').includes(ATTRIBUTES_LINE)) return false;
  writeFileAtomic(path, (text && !text.endsWith('\n') ? text + '\n' : text) + ATTRIBUTES_LINE + '\n');
  return true;
}
