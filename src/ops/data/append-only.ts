import { DvsError } from '../../errors.js';
import { loadManifestIfPresent, type Manifest, type ManifestEntry } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { DataKind, Pointer } from '../../pointer/format.js';
import type { Repo } from '../../repo/repo.js';
import type { ScannedFile } from '../../workspace/scan.js';

/**
 * Append-only directories (`append_only: true` in the pointer, docs/pointer-spec.md): a file once
 * recorded keeps its bytes and stays. These checks run before anything is written, so a refused track
 * leaves the pointer, .gitignore and the audit trail as they were.
 */
export interface AppendProblem {
  /** Path relative to the directory. */
  path: string;
  reason: 'changed' | 'gone';
}

/** The manifest the directory was last recorded with: what every later version must keep. */
export function appendOnlyBase(repo: Repo, dataPath: string, pointer: Pointer): Manifest {
  const manifest = loadManifestIfPresent(repo.cache, pointer.oid, dataPath);
  if (!manifest) {
    throw new DvsError('APPEND_ONLY_BASE_MISSING', `${dataPath}: append-only, but the manifest it was recorded with (${pointer.oid.slice(0, 10)}) is not in the cache, so dvs cannot tell what was appended`, {
      hint: `Fetch it first: dvs fetch ${dataPath}`,
      data: { path: dataPath, oid: pointer.oid },
    });
  }
  return manifest;
}

/**
 * Before hashing: every recorded file must still be there with its size. A file whose size changed is
 * refused without reading it; one with the same size is left to the stat cache and, failing that, the hash.
 */
export function precheckAppend(base: Manifest, files: readonly ScannedFile[]): AppendProblem[] {
  const sizes = new Map<string, number>();
  for (const f of files) sizes.set(f.rel, f.stamp.size);
  const problems: AppendProblem[] = [];
  for (const e of base.entries) {
    const size = sizes.get(e.path);
    if (size === undefined) problems.push({ path: e.path, reason: 'gone' });
    else if (size !== e.size) problems.push({ path: e.path, reason: 'changed' });
  }
  return problems;
}

/** After hashing: every recorded entry must be in the new manifest unchanged. */
export function checkAppend(base: Manifest, next: Manifest): AppendProblem[] {
  const now = new Map(next.entries.map((e) => [e.path, e]));
  const problems: AppendProblem[] = [];
  for (const e of base.entries) {
    const n = now.get(e.path);
    if (!n) problems.push({ path: e.path, reason: 'gone' });
    else if (n.oid !== e.oid || n.exec !== e.exec) problems.push({ path: e.path, reason: 'changed' });
  }
  return problems;
}

export function refuseAppend(dataPath: string, problems: AppendProblem[]): never {
  const shown = problems.slice(0, 5).map((p) => `${p.path} (${p.reason === 'gone' ? 'deleted' : 'modified'})`).join(', ');
  const more = problems.length > 5 ? ` and ${problems.length - 5} more` : '';
  throw new DvsError('APPEND_ONLY_VIOLATION', `${dataPath}: append-only, but files it recorded were changed or removed: ${shown}${more}; nothing was written`, {
    hint: `Restore them (dvs checkout ${dataPath}) and add new files instead; to lift the rule, remove "append_only: true" from ${dataPath}.dvs.`,
    data: { path: dataPath, problems },
  });
}

/**
 * For every writer that replaces a pointer other than `dvs track` (which checks before hashing): when the
 * version replaced is append-only, the new one must keep each recorded file as it was. `--force` does not
 * lift this (it only lets the workspace's data be replaced); removing `append_only: true` from the
 * pointer does. The new version's manifest must be in the cache (hashing or fetching put it there).
 */
export function refuseUnlessAppended(repo: Repo, dataPath: string, previous: Pointer | undefined, next: { kind: DataKind; oid: Oid }): void {
  if (!previous?.appendOnly || previous.kind !== 'dir') return;
  if (next.kind === 'dir' && next.oid === previous.oid) return;
  const base = appendOnlyBase(repo, dataPath, previous);
  const manifest = next.kind === 'dir' ? loadManifestIfPresent(repo.cache, next.oid, dataPath) : undefined;
  const problems = manifest ? checkAppend(base, manifest) : base.entries.map((e) => ({ path: e.path, reason: 'gone' as const }));
  if (problems.length) refuseAppend(dataPath, problems);
}

/** Entries of `next` that no earlier version named (by path). */
export function appendedEntries(before: ReadonlySet<string>, next: Manifest): ManifestEntry[] {
  return next.entries.filter((e) => !before.has(e.path));
}

/**
 * The partition a file of an append-only directory belongs to: its folder inside the directory, or the
 * file itself when it lies at the top. Merges and locks work at this grain.
 */
export function partitionOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(0, slash);
}
