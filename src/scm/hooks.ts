import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../base/atomic.js';
import { runGit } from './git.js';
import { HOOK_NAMES, OPTIONAL_HOOKS, type HookName } from './hook-names.js';

/**
 * Git hook files. dvs writes its hooks from the templates in hooks/, marks them with `dvs-hook vN`, and
 * never clobbers a hook it did not write: a foreign hook is moved aside to `<name>.pre-dvs` and the dvs
 * hook runs it first (respecting its exit status); uninstall moves it back. Like git-lfs, only hook
 * bodies that dvs wrote are upgraded.
 */
export { HOOK_NAMES, OPTIONAL_HOOKS, type HookName };
export const HOOK_VERSION = 1;
const MARKER = /^# dvs-hook v(\d+):/m;
export const CHAINED_SUFFIX = '.pre-dvs';

/** The hooks directory Git uses for this repository (honours core.hooksPath). */
export async function hooksDir(root: string): Promise<string> {
  const out = (await runGit(root, ['rev-parse', '--git-path', 'hooks'])).trim();
  return isAbsolute(out) ? out : resolve(root, out);
}

function templatesDir(): string {
  return fileURLToPath(new URL('../../hooks/', import.meta.url));
}

/** The hook script for `name`, calling this very installation of dvs. */
export function renderHook(name: HookName): string {
  const dvsJs = fileURLToPath(new URL('../../bin/dvs.js', import.meta.url));
  return readFileSync(join(templatesDir(), name), 'utf8')
    .replaceAll('@VERSION@', `v${HOOK_VERSION}`)
    .replaceAll('@NODE@', process.execPath)
    .replaceAll('@DVS_JS@', dvsJs);
}

export type HookState = 'absent' | 'dvs' | 'foreign';

export function hookState(path: string): { state: HookState; version?: number } {
  if (!existsSync(path)) return { state: 'absent' };
  const m = MARKER.exec(readFileSync(path, 'utf8'));
  return m ? { state: 'dvs', version: Number(m[1]) } : { state: 'foreign' };
}

export type InstallAction = 'installed' | 'upgraded' | 'unchanged' | 'chained' | 'refused';

/** Install one hook. A foreign hook is chained, unless one is chained already (then refused). */
export function installHook(dir: string, name: HookName): { action: InstallAction; path: string; reason?: string } {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const chained = path + CHAINED_SUFFIX;
  const body = renderHook(name);
  const { state } = hookState(path);
  if (state === 'dvs') {
    if (readFileSync(path, 'utf8') === body) return { action: 'unchanged', path };
    writeFileAtomic(path, body, 0o755);
    return { action: 'upgraded', path };
  }
  if (state === 'foreign') {
    if (existsSync(chained)) {
      return { action: 'refused', path, reason: `${chained} already holds an earlier hook` };
    }
    renameSync(path, chained);
    chmodSync(chained, 0o755);
    writeFileAtomic(path, body, 0o755);
    return { action: 'chained', path };
  }
  writeFileAtomic(path, body, 0o755);
  return { action: 'installed', path };
}

export type UninstallAction = 'removed' | 'restored' | 'not-ours' | 'absent';

/** Remove a dvs hook and put back the hook it had chained. Foreign hooks are left alone. */
export function uninstallHook(dir: string, name: HookName): { action: UninstallAction; path: string } {
  const path = join(dir, name);
  const chained = path + CHAINED_SUFFIX;
  const { state } = hookState(path);
  if (state === 'foreign') return { action: 'not-ours', path };
  if (state === 'dvs') rmSync(path);
  if (existsSync(chained)) {
    renameSync(chained, path);
    return { action: 'restored', path };
  }
  return { action: state === 'dvs' ? 'removed' : 'absent', path };
}

/** The merge driver for pointers: `git merge` calls `dvs merge-driver %O %A %B %P` for `*.dvs` files. */
export async function registerMergeDriver(root: string): Promise<void> {
  const dvsJs = fileURLToPath(new URL('../../bin/dvs.js', import.meta.url));
  await runGit(root, ['config', 'merge.dvs.name', 'dvs: three-way merge of data pointers and directory manifests']);
  await runGit(root, ['config', 'merge.dvs.driver', `'${process.execPath}' '${dvsJs}' merge-driver %O %A %B %P`]);
}

export async function unregisterMergeDriver(root: string): Promise<void> {
  await runGit(root, ['config', '--remove-section', 'merge.dvs']).catch(() => undefined);
}
