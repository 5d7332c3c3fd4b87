import { existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../../errors.js';
import { lineageHash, lineageOf, writeLineage, type LineageIO } from '../../lineage/record.js';
import { makeDirectories } from '../../base/atomic.js';
import { dataPathOf, isPointerPath, pointerPathOf, type DataKind, type Pointer } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import { ignoreInGit, unignoreInGit } from '../../repo/gitignore.js';
import type { Repo } from '../../repo/repo.js';
import { stage, unstage } from '../../scm/git.js';
import { isDirectory, trackedAncestor, workspacePointers } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';

export interface MoveOptions {
  source: string;
  destination: string;
}

export interface MoveResult {
  from: { path: string; pointerPath: string };
  to: { path: string; pointerPath: string };
  kind: DataKind;
  /** Whether data was in the workspace to move (else only the pointer moved). */
  movedData: boolean;
  /** Pointers whose lineage records named the old path and now name the new one. */
  lineage: string[];
  staged: string[];
  toStage: string[];
}

/**
 * Rename tracked data and its pointer together, as `git mv` does for a file: the data, the pointer (its
 * comments and other keys kept), the `.gitignore` lines, and lineage records naming the old path. Every
 * check runs before anything moves; the pointer is written under its new name before the old one goes,
 * so a killed move leaves two pointers, never none.
 */
export async function move(ctx: OpContext, options: MoveOptions): Promise<MoveResult> {
  const { repo } = ctx;
  const from = source(repo, ctx.cwd, options.source);
  const to = destination(repo, ctx.cwd, options.destination, from.path);
  return repo.withLock({ ...ctx.lock, command: 'dvs move' }, async () => {
    const movedData = existsSync(repo.abs(from.path)) || isLink(repo.abs(from.path));
    makeDirectories(posix.dirname(repo.abs(to.path)));
    repo.guard.forget();
    if (movedData) {
      try {
        renameSync(repo.abs(from.path), repo.abs(to.path));
      } catch (err) {
        throw fromSystemError(err, from.path, `moving to ${to.path}`);
      }
    }
    writePointer(repo.root, to.pointerPath, from.pointer, from.pointer);
    rmSync(repo.abs(from.pointerPath));
    const changed = new Set<string>([to.pointerPath]);
    const unignored = unignoreInGit(repo.root, from.path);
    const ignored = ignoreInGit(repo.root, to.path);
    for (const f of [unignored, ignored]) if (f) changed.add(f);
    const lineage = rewriteLineage(repo, from.path, to.path);
    for (const l of lineage) changed.add(l.pointerPath);
    const autostage = repo.config.bool('core.autostage');
    if (autostage) {
      await unstage(repo.root, [from.pointerPath]);
      await stage(repo.root, [...changed]);
    }
    const { oid, kind, size } = from.pointer;
    await (await import('../../audit/record.js')).recordAuditEvent(repo, {
      type: 'move',
      paths: [{ path: to.path, oid, kind, size }],
      // The rewritten lineage records' hashes, so `dvs audit verify` still finds each one in the trail.
      data: { from: from.path, to: to.path, records: lineage.map((l) => l.hash) },
    });
    const files = [from.pointerPath, ...changed];
    return {
      from: { path: from.path, pointerPath: from.pointerPath },
      to: { path: to.path, pointerPath: to.pointerPath },
      kind: from.pointer.kind,
      movedData,
      lineage: lineage.map((l) => l.pointerPath),
      staged: autostage ? files : [],
      toStage: autostage ? [] : files,
    };
  });
}

/** The tracked data to move, named by its pointer or its path. */
function source(repo: Repo, cwd: string, arg: string): { path: string; pointerPath: string; pointer: Pointer } {
  const { rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  const pointerPath = isPointerPath(rel) && existsSync(repo.abs(rel)) ? rel : pointerPathOf(rel);
  const path = dataPathOf(pointerPath);
  if (!existsSync(repo.abs(pointerPath))) {
    const owner = trackedAncestor(repo, rel);
    if (owner) {
      throw new DvsError('INSIDE_TRACKED_DIR', `${arg}: inside the tracked directory ${owner}; dvs move renames whole tracked data`, {
        hint: `Move it in the workspace, then record both paths: mv ${rel} <new path> && dvs track ${rel} <new path>`,
        data: { path: rel, owner },
      });
    }
    throw new DvsError('NOT_TRACKED', `${arg}: not tracked by dvs (no ${pointerPath})`, {
      hint: existsSync(repo.abs(rel)) ? 'Use mv for files dvs does not track, or track it first.' : 'List tracked data with `dvs status`.',
      data: { path: rel },
    });
  }
  repo.guard.check(path, pointerPath);
  return { path, pointerPath, pointer: readPointer(repo.root, pointerPath) };
}

/** Where the data goes: the path named, or inside it when it is an existing folder that is not tracked data. */
function destination(repo: Repo, cwd: string, arg: string, from: string): { path: string; pointerPath: string } {
  // A trailing slash names a folder to move into, as with mv; it is created when missing.
  const intoFolder = /\/$/.test(arg);
  let { rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  if (!intoFolder && isPointerPath(rel) && !existsSync(repo.abs(rel))) rel = dataPathOf(rel);
  const folder = intoFolder || (isDirectory(repo.abs(rel)) && !existsSync(repo.abs(pointerPathOf(rel))) && !trackedAncestor(repo, rel));
  if (rel !== from && folder) {
    rel = `${rel}/${posix.basename(from)}`;
  }
  if (rel === from || rel.startsWith(from + '/')) {
    throw new DvsError('MOVE_INTO_ITSELF', `${arg}: ${rel === from ? 'is where the data already is' : `inside ${from}, the data being moved`}`, {
      hint: 'Name a path outside the data being moved.',
      data: { path: rel, from },
    });
  }
  const pointerPath = pointerPathOf(rel);
  repo.guard.check(rel, pointerPath);
  const owner = trackedAncestor(repo, rel);
  if (owner) {
    throw new DvsError('INSIDE_TRACKED_DIR', `${arg}: inside the tracked directory ${owner}`, {
      hint: `Tracked data cannot hold other tracked data: pick a path outside ${owner}.`,
      data: { path: rel, owner },
    });
  }
  for (const taken of [rel, pointerPath]) {
    if (existsSync(repo.abs(taken)) || isLink(repo.abs(taken))) {
      throw new DvsError('MOVE_TARGET_EXISTS', `${arg}: ${taken} already exists; nothing was moved`, {
        hint: 'Pick another name, or remove what is there first (dvs remove, for tracked data).',
        data: { path: rel, existing: taken },
      });
    }
  }
  return { path: rel, pointerPath };
}

function isLink(abs: string): boolean {
  try {
    return lstatSync(abs).isSymbolicLink();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * Every lineage record in the workspace's pointers that names `from` (or a path inside it) as an input or
 * output now names `to`: the walk back through lineage finds data by path. Unreadable pointers and
 * records are left for `dvs status` and `dvs lineage` to report.
 */
function rewriteLineage(repo: Repo, from: string, to: string): Array<{ pointerPath: string; hash: string }> {
  const renamed = (io: LineageIO): boolean => {
    if (io.path !== from && !io.path.startsWith(from + '/')) return false;
    io.path = to + io.path.slice(from.length);
    return true;
  };
  const out: Array<{ pointerPath: string; hash: string }> = [];
  for (const ref of workspacePointers(repo).pointers) {
    let pointer: Pointer;
    try {
      pointer = readPointer(repo.root, ref.pointerPath);
    } catch {
      continue;
    }
    const { record } = lineageOf(pointer);
    if (!record) continue;
    const hits = [...record.inputs, ...record.outputs].map(renamed).filter(Boolean).length;
    if (hits === 0) continue;
    writeLineage(repo.root, ref.pointerPath, pointer, record);
    out.push({ pointerPath: ref.pointerPath, hash: lineageHash(record) });
  }
  return out;
}
