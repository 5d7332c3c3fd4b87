import { lstatSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { pointerPathOf, type DataKind, type ImportSource, type Pointer, type PointerData } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import { refuseUnlessAppended } from '../data/append-only.js';
import { previousPointer } from '../data/track-external.js';
import type { Repo } from '../../repo/repo.js';
import { gitignorePathOf, ignoreInGit } from '../../repo/gitignore.js';
import { stage, trackedByGit } from '../../scm/git.js';
import { trackedAncestor } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';
import { checkout } from '../data/checkout.js';
import { fetchPointerData, ObjectSupply } from './source-objects.js';
import { openSource, readSourcePointer, sourceDataPath, type SourceRepo } from './source-repo.js';

export interface ImportOptions {
  url: string;
  /** The data path in the source repository. */
  path: string;
  /** Where to put it here (default: its name, in cwd). */
  out?: string;
  rev?: string;
  /** Replace data or a pointer already at `out`. */
  force?: boolean;
}

export interface ImportResult {
  /** The data path here, and its pointer. */
  path: string;
  pointer: string;
  source: ImportSource;
  kind: DataKind;
  oid: Oid;
  size: number;
  files?: number;
  fetched: number;
  bytes: number;
  from: string[];
  /** Files staged with git add (core.autostage), or to stage by hand. */
  staged: string[];
  toStage: string[];
  warnings: Warning[];
}

/**
 * `dvs import`: another repository's data, tracked here. The objects enter this repository's cache
 * (verified), the pointer records where they came from (`source:`), and the data is checked out like
 * any tracked data. `dvs update` moves it forward; `dvs push` sends it to this repository's remote.
 */
export async function importData(ctx: OpContext, options: ImportOptions): Promise<ImportResult> {
  const { repo } = ctx;
  const sourcePath = sourceDataPath(options.path);
  const out = options.out ?? basename(sourcePath);
  const { rel } = repo.resolve(ctx.cwd, out);
  const pointerPath = pointerPathOf(rel);
  repo.guard.check(rel, pointerPath);
  await checkImportTarget(repo, rel, out, options.force === true);
  const source = await openSource(ctx.cwd, options.url, options.rev);
  try {
    const incoming = await readSourcePointer(source, sourcePath);
    const record: ImportSource = { url: source.url, rev: source.rev, path: sourcePath, commit: source.commit };
    return await bringIn(ctx, source, incoming, { dataPath: rel, record, force: options.force === true });
  } finally {
    source.close();
  }
}

async function checkImportTarget(repo: Repo, rel: string, out: string, force: boolean): Promise<void> {
  const owner = trackedAncestor(repo, rel);
  if (owner) {
    throw new DvsError('INSIDE_TRACKED_DIR', `${out}: inside the tracked directory ${owner}`, {
      hint: 'Import next to tracked data, not into it: choose another place with -o <path>.',
      data: { path: rel, owner },
    });
  }
  if ((await trackedByGit(repo.root, [rel])).length) {
    throw new DvsError('TRACKED_BY_GIT', `${out}: tracked by Git; dvs will not put data there`, {
      hint: 'Choose another place with -o <path>.',
      data: { path: rel },
    });
  }
  const pointerPath = pointerPathOf(rel);
  const taken = [rel, pointerPath].find((p) => exists(repo.abs(p)));
  if (taken === undefined || force) return;
  let hint = 'Choose another place with -o <path>, or replace it with --force.';
  if (exists(repo.abs(pointerPath))) {
    try {
      if (readPointer(repo.root, pointerPath).source) hint = `It is an import already: move it forward with \`dvs update ${rel}\`, or replace it with --force.`;
    } catch {
      // a broken pointer: the plain hint
    }
  }
  throw new DvsError('TARGET_EXISTS', `${taken} already exists; dvs will not overwrite it`, { hint, data: { path: rel } });
}

function exists(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}

export interface BringIn {
  dataPath: string;
  record: ImportSource;
  force: boolean;
  /** The pointer being replaced (update): its document keeps comments and other keys. */
  previous?: Pointer;
}

/** Fetch the source pointer's objects into this cache, write our pointer, check the data out, stage. */
export async function bringIn(ctx: OpContext, source: SourceRepo, incoming: Pointer, target: BringIn): Promise<ImportResult> {
  const { repo } = ctx;
  const supply = await ObjectSupply.of(source, ctx.onProgress);
  let fetched;
  try {
    fetched = (await fetchPointerData(supply, repo.cache, incoming, target.dataPath)).fetched;
  } finally {
    await supply.close();
  }
  const pointerPath = pointerPathOf(target.dataPath);
  const data: PointerData = { kind: incoming.kind, oid: incoming.oid, size: incoming.size, source: target.record };
  if (incoming.kind === 'dir') data.files = incoming.files;
  else data.exec = incoming.exec;
  const changed = await repo.withLock({ ...ctx.lock, command: target.previous ? 'dvs update' : 'dvs import' }, async () => {
    // Replacing an append-only directory (import --force, update) must keep what it recorded, as dvs track must.
    refuseUnlessAppended(repo, target.dataPath, target.previous ?? previousPointer(repo, pointerPath), incoming);
    mkdirSync(dirname(repo.abs(target.dataPath)), { recursive: true });
    writePointer(repo.root, pointerPath, data, target.previous);
    ignoreInGit(repo.root, target.dataPath);
    // Data that came from elsewhere is a new version here like any other: the trail says from where.
    const { recordAuditEvent } = await import('../../audit/record.js');
    await recordAuditEvent(repo, {
      type: target.previous ? 'update' : 'import',
      paths: [{ path: target.dataPath, oid: incoming.oid, kind: incoming.kind, size: incoming.size }],
      data: { url: target.record.url, rev: target.record.rev, path: target.record.path, commit: target.record.commit, ...(target.previous ? { previous: target.previous.oid } : {}) },
    }, { stageWith: [pointerPath] });
    // Staged even when this run did not change it: a killed import may have written it unstaged.
    return [pointerPath, gitignorePathOf(target.dataPath)];
  });
  const placed = await checkout(ctx, { pointers: [{ ref: { pointerPath, dataPath: target.dataPath } }], force: target.force });
  if (placed.failures.length) {
    const f = placed.failures[0];
    throw new DvsError(f.code, f.message, { hint: f.hint, data: { path: f.path } });
  }
  const autostage = repo.config.bool('core.autostage');
  if (autostage) await stage(repo.root, changed);
  return {
    path: target.dataPath,
    pointer: pointerPath,
    source: target.record,
    kind: incoming.kind,
    oid: incoming.oid,
    size: incoming.size,
    ...(incoming.kind === 'dir' ? { files: incoming.files } : {}),
    fetched: fetched.fetched,
    bytes: fetched.bytes,
    from: fetched.from,
    staged: autostage ? changed : [],
    toStage: autostage ? [] : changed,
    warnings: [...supply.warnings, ...placed.warnings],
  };
}
