import { existsSync, lstatSync, rmSync } from 'node:fs';
import { isDvsError } from '../../errors.js';
import { dataPathOf, isPointerPath, parsePointer, type Pointer } from '../../pointer/format.js';
import type { Repo } from '../../repo/repo.js';
import { changedPointersBetween } from '../../scm/changed-pointers.js';
import type { OpContext } from '../context.js';
import type { HookOptions, HookResult } from './hook-result.js';
import { isDirectory, workspacePointers, type Target } from '../../workspace/targets.js';

// A hook with nothing to do (the usual branch switch) must cost almost nothing: what only syncing data
// needs (checkout, the workspace comparison, manifests, the stat cache) is imported when there is some,
// and so is scm/git.ts (node:child_process): the post-checkout diff is read without starting Git.

async function runGit(cwd: string, args: string[]): Promise<string> {
  return (await import('../../scm/git.js')).runGit(cwd, args);
}

const NULL_SHA = /^0+$/;

/**
 * The work behind each Git hook. Hooks that follow a ref (post-checkout, post-merge, post-rewrite)
 * never fail the Git command: they sync the pointers that changed between the two commits, as read from
 * Git (never by walking the workspace), leave modified data alone, and report what they could not do.
 */
export async function runHook(ctx: OpContext, options: HookOptions): Promise<HookResult> {
  const base: HookResult = { name: options.name, pointers: [], removed: [], kept: [], refused: [], missing: 0 };
  const { repo } = ctx;
  switch (options.name) {
    case 'post-checkout': {
      const [oldRev, newRev, flag] = options.args;
      if (flag !== '1') return { ...base, skipped: 'file checkout' };
      if (await rebaseInProgress(repo)) return { ...base, skipped: 'rebase in progress' };
      if (oldRev === newRev) return restoreMissing(ctx, base); // `git checkout -b new`: nothing moved
      return followRef(ctx, base, NULL_SHA.test(oldRev) ? undefined : oldRev, newRev);
    }
    case 'post-merge': {
      if (options.args[0] === '1') return followWorkspace(ctx, base); // squash: HEAD did not move
      const orig = await revParse(repo, 'ORIG_HEAD');
      return followRef(ctx, base, orig, 'HEAD');
    }
    case 'post-rewrite': {
      if (options.args[0] !== 'rebase') return { ...base, skipped: 'amend' };
      // The workspace may hold the data of any commit the rebase passed through (its own checkouts run
      // no post-checkout), so every pointer is checked against the workspace once, at the end.
      return followAllPointers(ctx, base);
    }
    case 'pre-push':
      return (await import('./pre-push.js')).prePush(ctx, base, options);
    case 'pre-commit':
      return (await import('./pre-commit.js')).preCommit(ctx, base);
  }
}

async function revParse(repo: Repo, rev: string): Promise<string | undefined> {
  try {
    return (await runGit(repo.root, ['rev-parse', '--verify', '--quiet', rev])).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function rebaseInProgress(repo: Repo): Promise<boolean> {
  const names = ['rebase-merge', 'rebase-apply'];
  // The common case, a plain .git directory, needs no git process (hooks must be quick).
  if (isDirectory(`${repo.root}/.git`)) return names.some((n) => existsSync(`${repo.root}/.git/${n}`));
  for (const name of names) {
    const p = (await runGit(repo.root, ['rev-parse', '--git-path', name])).trim();
    if (existsSync(p.startsWith('/') ? p : `${repo.root}/${p}`)) return true;
  }
  return false;
}

/** Pointer files that differ between two commits (all of the new one's when `oldRev` is unknown). */
async function changedPointers(repo: Repo, oldRev: string | undefined, newRev: string): Promise<{ changed: string[]; deleted: string[] }> {
  if (!oldRev) {
    const out = await runGit(repo.root, ['ls-tree', '-r', '-z', '--name-only', '--full-tree', newRev]);
    return { changed: out.split('\0').filter((p) => isPointerPath(p) && !p.startsWith('.dvs/')), deleted: [] };
  }
  const changed: string[] = [];
  const deleted: string[] = [];
  for (const c of await changedPointersBetween(repo.root, oldRev, newRev)) (c.newBlob ? changed : deleted).push(c.path);
  return { changed, deleted };
}

async function followRef(ctx: OpContext, result: HookResult, oldRev: string | undefined, newRev: string): Promise<HookResult> {
  const { repo } = ctx;
  const { changed, deleted } = await changedPointers(repo, oldRev, newRev);
  result.pointers = [...changed, ...deleted];
  if (result.pointers.length === 0) return { ...result, skipped: 'no pointer changed' };
  const safeDeleted = deleted.filter((p) => guarded(repo, result, p));
  if (safeDeleted.length && oldRev) await removeOrphanedData(ctx, result, oldRev, safeDeleted);
  return syncTargets(ctx, result, targetsOf(repo, result, changed));
}

async function followWorkspace(ctx: OpContext, result: HookResult): Promise<HookResult> {
  const out = await runGit(ctx.repo.root, ['diff', '--name-only', '-z', 'HEAD', '--']);
  const changed = out.split('\0').filter((p) => isPointerPath(p));
  result.pointers = changed;
  if (!changed.length) return { ...result, skipped: 'no pointer changed' };
  return syncTargets(ctx, result, targetsOf(ctx.repo, result, changed));
}

async function followAllPointers(ctx: OpContext, result: HookResult): Promise<HookResult> {
  const scan = workspacePointers(ctx.repo);
  for (const r of scan.refused) result.refused.push({ pointerPath: r.pointerPath, message: r.error.message });
  result.pointers = scan.pointers.map((ref) => ref.pointerPath);
  return syncTargets(ctx, result, scan.pointers.map((ref) => ({ ref })));
}

/**
 * A branch checkout that stays on the same commit (`git checkout -b new`) changes no pointer, but DVC's
 * hook then restores data the user deleted, and so does this one: only data paths, or files of tracked
 * directories, that are missing are looked for (a stat each), and only those pointers are checked out,
 * so the usual switch between two commits is not slowed and modified data is left alone.
 */
async function restoreMissing(ctx: OpContext, result: HookResult): Promise<HookResult> {
  const { repo } = ctx;
  const scan = workspacePointers(repo);
  for (const r of scan.refused) result.refused.push({ pointerPath: r.pointerPath, message: r.error.message });
  const targets: Target[] = [];
  const { readPointer } = await import('../../pointer/io.js');
  const { loadManifestIfPresent } = await import('../../objects/manifest.js');
  for (const ref of scan.pointers) {
    if (!existsSync(repo.abs(ref.dataPath))) {
      targets.push({ ref });
      continue;
    }
    let pointer: Pointer;
    try {
      pointer = readPointer(repo.root, ref.pointerPath);
    } catch {
      continue; // status reports a broken pointer; a hook stays quiet
    }
    if (pointer.kind !== 'dir' || !isDirectory(repo.abs(ref.dataPath)) || !repo.cache.has(pointer.oid)) continue;
    const entries = loadManifestIfPresent(repo.cache, pointer.oid, ref.dataPath)?.entries ?? [];
    if (entries.some((e) => !existsSync(`${repo.abs(ref.dataPath)}/${e.path}`))) targets.push({ ref });
  }
  result.pointers = targets.map((t) => t.ref.pointerPath);
  if (targets.length === 0) return { ...result, skipped: 'same commit, nothing missing' };
  return syncTargets(ctx, result, targets);
}

/** Pointer paths named by Git that exist in the workspace and that the path guard accepts, as targets. */
function targetsOf(repo: Repo, result: HookResult, pointerPaths: string[]): Target[] {
  return pointerPaths.filter((p) => existsSync(repo.abs(p)) && guarded(repo, result, p)).map((p) => ({ ref: { pointerPath: p, dataPath: dataPathOf(p) } }));
}

/** Whether the path guard accepts a pointer Git named; a refusal is recorded for the warning. */
function guarded(repo: Repo, result: HookResult, pointerPath: string): boolean {
  const refusal = repo.guard.refusal(dataPathOf(pointerPath), pointerPath);
  if (refusal) result.refused.push({ pointerPath, message: refusal.message });
  return refusal === undefined;
}

/** Check out the targets, fetching missing objects first when hooks.autofetch is on. */
async function syncTargets(ctx: OpContext, result: HookResult, targets: Target[]): Promise<HookResult> {
  const { repo } = ctx;
  if (targets.length === 0) return result;
  const remote = repo.config.bool('hooks.autofetch') ? await autofetchRemote(repo) : undefined;
  if (remote) result.fetched = await autofetch(ctx, targets, remote);
  const { checkout } = await import('../data/checkout.js');
  result.checkout = await checkout(ctx, { pointers: targets });
  result.missing = result.checkout.failures.filter((f) => f.code === 'OBJECT_MISSING').length;
  return result;
}

/** Fetch what the targets need and the cache lacks (manifests first, then their files). */
/** The remote `dvs pull` would use (the default, else the only one), or none. */
async function autofetchRemote(repo: Repo): Promise<string | undefined> {
  const { remoteName } = await import('../remote/open.js');
  try {
    return remoteName(repo);
  } catch {
    return undefined; // no remote to fetch from: the missing objects are reported as usual
  }
}

async function autofetch(ctx: OpContext, targets: Target[], remote: string): Promise<number> {
  const { repo } = ctx;
  const { readPointer } = await import('../../pointer/io.js');
  const { objectsOf } = await import('../../workspace/references.js');
  const pointers = targets.map((t) => ({ ...t.ref, pointer: readPointer(repo.root, t.ref.pointerPath) }));
  const { fetchObjects } = await import('../remote/fetch.js');
  let fetched = 0;
  const manifests = pointers.filter((p) => p.pointer.kind === 'dir' && !repo.cache.has(p.pointer.oid)).map((p) => p.pointer.oid);
  if (manifests.length) fetched += (await fetchObjects(ctx, manifests, { remote })).fetched;
  const needed = [...objectsOf(repo, pointers).oids].filter((oid) => !repo.cache.has(oid));
  if (needed.length) fetched += (await fetchObjects(ctx, needed, { remote })).fetched;
  return fetched;
}

/**
 * A pointer that the new commit no longer has: its data goes too, but only if the workspace still holds
 * exactly the old version and that version is safe in the cache; anything else is left and reported.
 */
async function removeOrphanedData(ctx: OpContext, result: HookResult, oldRev: string, deleted: string[]): Promise<void> {
  const { repo } = ctx;
  const { compareWorkspace } = await import('../../workspace/compare.js');
  const { countMissing } = await import('../data/status.js');
  const { loadManifest } = await import('../../objects/manifest.js');
  const { updatePlaced } = await import('../../workspace/placed.js');
  const { BlobReader } = await import('../../scm/git.js');
  const reader = new BlobReader(repo.root);
  const state = await repo.statCache();
  try {
    for (const pointerPath of deleted) {
      const dataPath = dataPathOf(pointerPath);
      if (existsSync(repo.abs(pointerPath))) continue; // still there (untracked or re-created): not ours to touch
      if (!existsSync(repo.abs(dataPath))) continue;
      let pointer: Pointer;
      try {
        const blob = await reader.read(`${oldRev}:${pointerPath}`);
        if (!blob) continue;
        pointer = parsePointer(blob.toString('utf8'), `${pointerPath} at ${oldRev.slice(0, 10)}`);
      } catch (err) {
        if (isDvsError(err)) {
          result.kept.push(dataPath);
          continue;
        }
        throw err;
      }
      const ds = await compareWorkspace(repo, dataPath, pointer, { state });
      const safe = ds.workspace === 'unchanged' && repo.cache.has(pointer.oid) &&
        (pointer.kind === 'file' || countMissing(repo.cache, loadManifest(repo.cache, pointer.oid, dataPath)) === 0);
      if (!safe) {
        result.kept.push(dataPath);
        continue;
      }
      rmSync(repo.abs(dataPath), { recursive: lstatSync(repo.abs(dataPath)).isDirectory(), force: true });
      result.removed.push(dataPath);
    }
  } finally {
    reader.close();
    state.flush();
    // Whatever stays at those paths is the user's from now on (see workspace/placed.ts).
    if (result.removed.length || result.kept.length) updatePlaced(repo, (record) => [...result.removed, ...result.kept].forEach((p) => record.forget(p)));
  }
}
