import { isDvsError } from '../../errors.js';
import type { StatCache } from '../../objects/stat-cache.js';
import { MAX_TEXT_BYTES } from '../../base/safe-yaml.js';
import { dataPathOf, isPointerPath, parsePointer, type Pointer } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import { BlobReader, runGit } from '../../scm/git.js';
import { compareWorkspace } from '../../workspace/compare.js';
import type { OpContext } from '../context.js';
import type { HookResult, StaleData } from './hook-result.js';

/** A pointer in Git's index: the version `git commit` is about to record. */
interface StagedPointer {
  pointerPath: string;
  blob: string;
}

/**
 * The pre-commit hook: tracked data whose workspace content differs from the pointer being committed
 * (the one in the index, which `git commit` records, not the workspace's or HEAD's) is reported, so a
 * commit does not silently record an older version of the data than the one trained on. It only reads:
 * the stat cache vouches for unchanged files as in `dvs status`, pointers the path guard refuses or
 * that do not parse are skipped with a warning, and data missing from the workspace (not pulled) is
 * not a change. With hooks.require_tracked the commit is stopped instead.
 */
export async function preCommit(ctx: OpContext, result: HookResult): Promise<HookResult> {
  const { repo } = ctx;
  const staged = await stagedPointers(repo, result);
  result.pointers = staged.map((s) => s.pointerPath);
  if (staged.length === 0) return { ...result, skipped: 'no pointer staged', stale: [] };
  const stale: StaleData[] = [];
  const reader = new BlobReader(repo.root);
  const state = await repo.statCache();
  try {
    const sizes = await blobSizes(repo, staged);
    for (const entry of staged) {
      const pointer = await readStaged(reader, entry, sizes.get(entry.blob), result);
      if (!pointer) continue;
      const found = await staleData(repo, state, entry.pointerPath, pointer);
      if (found) stale.push(found);
    }
  } finally {
    reader.close();
    state.flush();
  }
  result.stale = stale;
  if (stale.length && repo.config.bool('hooks.require_tracked')) {
    result.error = {
      message: `git commit stopped: ${stale.length === 1 ? `${stale[0].path} differs from its staged pointer` : `${stale.length} tracked paths differ from their staged pointers`} (hooks.require_tracked is on)`,
      hint: 'Track (or stage) the data as suggested above and commit again; git commit --no-verify commits without the check.',
    };
  }
  return result;
}

/**
 * Regular files named `*.dvs` at stage 0 of the index (`GIT_INDEX_FILE` is honoured, so `git commit -a`
 * and `git commit <path>` are checked against what they will record). Links and unmerged entries are
 * not pointers to check; pointers the path guard refuses are reported and skipped.
 */
async function stagedPointers(repo: Repo, result: HookResult): Promise<StagedPointer[]> {
  const out = await runGit(repo.root, ['ls-files', '-s', '-z', '--', '*.dvs']);
  const pointers: StagedPointer[] = [];
  for (const rec of out.split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const [mode, blob, stage] = rec.slice(0, tab).split(' ');
    const pointerPath = rec.slice(tab + 1);
    if (!isPointerPath(pointerPath) || pointerPath.startsWith('.dvs/') || stage !== '0') continue;
    if (mode !== '100644' && mode !== '100755') continue;
    const refusal = repo.guard.refusal(dataPathOf(pointerPath), pointerPath);
    if (refusal) {
      result.refused.push({ pointerPath, message: refusal.message });
      continue;
    }
    pointers.push({ pointerPath, blob });
  }
  return pointers;
}

/** Sizes of the staged blobs, asked before any is read: an index can hold a blob of any size. */
async function blobSizes(repo: Repo, staged: StagedPointer[]): Promise<Map<string, number>> {
  const out = await runGit(repo.root, ['cat-file', '--batch-check=%(objectname) %(objectsize)'], staged.map((s) => s.blob).join('\n') + '\n');
  const sizes = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [blob, size] = line.split(' ');
    if (blob && /^\d+$/.test(size ?? '')) sizes.set(blob, Number(size));
  }
  return sizes;
}

/** The staged pointer, or undefined (with the reason recorded) when it is too large, gone or malformed. */
async function readStaged(reader: BlobReader, entry: StagedPointer, size: number | undefined, result: HookResult): Promise<Pointer | undefined> {
  const { pointerPath } = entry;
  if (size === undefined) return undefined;
  if (size > MAX_TEXT_BYTES) {
    result.refused.push({ pointerPath, message: `${pointerPath}: refused: the staged pointer is larger than 1 MiB, the most a pointer may be` });
    return undefined;
  }
  try {
    const blob = await reader.read(entry.blob);
    return blob ? parsePointer(blob.toString('utf8'), pointerPath) : undefined;
  } catch (err) {
    if (!isDvsError(err)) throw err;
    result.refused.push({ pointerPath, message: `${pointerPath}: refused: ${err.message}` });
    return undefined;
  }
}

/**
 * The data of a staged pointer when the workspace holds something else: `track` when the data changed
 * since it was tracked, `stage` when `dvs track` already wrote the pointer and only `git add` is missing.
 */
async function staleData(repo: Repo, state: StatCache, pointerPath: string, pointer: Pointer): Promise<StaleData | undefined> {
  const path = dataPathOf(pointerPath);
  const ds = await compareWorkspace(repo, path, pointer, { state });
  if (ds.workspace !== 'modified') return undefined;
  const stale: StaleData = { path, pointerPath, kind: pointer.kind, fix: 'track' };
  if (ds.changes) stale.changes = { added: ds.changes.added.length, deleted: ds.changes.removed.length, modified: ds.changes.modified.length };
  let current: Pointer | undefined;
  try {
    current = readPointer(repo.root, pointerPath);
  } catch {
    return stale; // deleted or broken in the workspace: tracking again is the way out
  }
  if (current.oid !== pointer.oid && (await compareWorkspace(repo, path, current, { state })).workspace === 'unchanged') stale.fix = 'stage';
  return stale;
}
