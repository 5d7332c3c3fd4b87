import { existsSync, statSync } from 'node:fs';
import { DvsError, errnoCode } from '../errors.js';
import type { Warning } from '../events.js';
import { dataPathOf, isPointerPath, pointerPathOf } from '../pointer/format.js';
import { findPointers, type PointerRef, type PointerScan, type RefusedPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';

/** What a command-line target names: a tracked data path, and optionally a path inside it. */
export interface Target {
  ref: PointerRef;
  /** A file or folder inside a tracked directory (granular operations). */
  sub?: string;
}

/** The targets a command acts on, and the pointers it refuses to act on (reported, never touched). */
export interface TargetSelection {
  targets: Target[];
  refused: RefusedPointer[];
}

/** Every pointer in the workspace (or under a folder), those the path guard refuses apart. */
export function workspacePointers(repo: Repo, under = ''): PointerScan {
  return findPointers(repo.root, repo.ignore, repo.guard, under);
}

/**
 * Turn command-line paths into pointers. A target may name the pointer (`data.dvs`), the data (`data`),
 * a path inside a tracked directory (`data/part-1.csv`), or a folder holding pointers. No targets means
 * every pointer in the workspace. A pointer named on the command line that the path guard refuses is an
 * error; one found by walking a folder is returned as refused.
 */
export function selectTargets(repo: Repo, cwd: string, args: string[] | undefined): TargetSelection {
  if (!args || args.length === 0) {
    const scan = workspacePointers(repo);
    return { targets: scan.pointers.map((ref) => ({ ref })), refused: scan.refused };
  }
  const out: Target[] = [];
  const refused: RefusedPointer[] = [];
  const named = (ref: PointerRef, sub?: string) => {
    repo.guard.check(ref.dataPath, ref.pointerPath);
    out.push(sub === undefined ? { ref } : { ref, sub });
  };
  for (const arg of args) {
    const { rel } = repo.resolve(cwd, arg);
    if (isPointerPath(rel) && existsSync(repo.abs(rel))) {
      named({ pointerPath: rel, dataPath: dataPathOf(rel) });
      continue;
    }
    if (existsSync(repo.abs(pointerPathOf(rel)))) {
      named({ pointerPath: pointerPathOf(rel), dataPath: rel });
      continue;
    }
    const owner = trackedAncestor(repo, rel);
    if (owner) {
      named({ pointerPath: pointerPathOf(owner), dataPath: owner }, rel.slice(owner.length + 1));
      continue;
    }
    if (isDirectory(repo.abs(rel))) {
      const inside = workspacePointers(repo, rel);
      if (inside.pointers.length || inside.refused.length) {
        out.push(...inside.pointers.map((ref) => ({ ref })));
        refused.push(...inside.refused);
        continue;
      }
    }
    throw new DvsError('NOT_TRACKED', `${arg}: not tracked by dvs (no ${pointerPathOf(rel)})`, {
      hint: existsSync(repo.abs(rel)) ? `Track it first: dvs track ${arg}` : 'Check the path; list tracked data with `dvs status`.',
      data: { path: rel },
    });
  }
  // The same pointer named twice (by data and by pointer path) is one target.
  const seen = new Set<string>();
  const targets = out.filter((t) => {
    const key = `${t.ref.pointerPath}\0${t.sub ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { targets, refused };
}

/** A refused pointer as a warning, for commands that go on with the rest. */
export function refusalWarning(r: RefusedPointer): Warning {
  return { code: r.error.code, message: r.error.message, path: r.pointerPath, hint: r.error.hint };
}

/** The nearest ancestor directory of `rel` that is tracked (has a pointer beside it). */
export function trackedAncestor(repo: Repo, rel: string): string | undefined {
  const parts = rel.split('/');
  for (let n = parts.length - 1; n >= 1; n--) {
    const candidate = parts.slice(0, n).join('/');
    if (existsSync(repo.abs(pointerPathOf(candidate)))) return candidate;
  }
  return undefined;
}

export function isDirectory(abs: string): boolean {
  try {
    return statSync(abs).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}
