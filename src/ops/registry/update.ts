import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { ImportSource, Pointer } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import { stage } from '../../scm/git.js';
import { compareWorkspace } from '../../workspace/compare.js';
import { selectTargets } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';
import { bringIn } from './import.js';
import { openSource, readSourcePointer } from './source-repo.js';

export interface UpdateOptions {
  targets: string[];
  /** Follow this revision of the source from now on (default: the one recorded). */
  rev?: string;
  /** Replace imported data that was changed here. */
  force?: boolean;
}

export interface UpdatedImport {
  path: string;
  url: string;
  /** The commits before and after; equal when the import was up to date. */
  fromCommit: string;
  toCommit: string;
  oldOid: Oid;
  newOid: Oid;
  /** `updated`: new data; `moved`: a new commit of the source, the same data; `current`: nothing new. */
  outcome: 'updated' | 'moved' | 'current';
  fetched: number;
  bytes: number;
}

export interface UpdateResult {
  imports: UpdatedImport[];
  staged: string[];
  toStage: string[];
  warnings: Warning[];
}

/**
 * `dvs update`: move imports forward. The recorded revision (or the new --rev) is resolved again in
 * the source; new data is fetched, the pointer rewritten and the workspace updated. Data changed here
 * since the import is not replaced without `force`.
 */
export async function update(ctx: OpContext, options: UpdateOptions): Promise<UpdateResult> {
  const { repo } = ctx;
  const result: UpdateResult = { imports: [], staged: [], toStage: [], warnings: [] };
  const { targets, refused } = selectTargets(repo, ctx.cwd, options.targets);
  if (refused.length) throw refused[0].error;
  for (const { ref, sub } of targets) {
    if (sub !== undefined) {
      throw new DvsError('INSIDE_TRACKED_DIR', `${ref.dataPath}/${sub}: inside the imported directory ${ref.dataPath}; update the whole import`, {
        hint: `dvs update ${ref.dataPath}`,
        data: { path: `${ref.dataPath}/${sub}`, owner: ref.dataPath },
      });
    }
    const pointer = readPointer(repo.root, ref.pointerPath);
    const was = pointer.source;
    if (!was) {
      throw new DvsError('NOT_IMPORTED', `${ref.dataPath}: not imported (its pointer has no source record); nothing to update from`, {
        hint: 'dvs update moves data brought in with `dvs import <url> <path>`; tracked data changes with `dvs track`.',
        data: { path: ref.dataPath },
      });
    }
    const rev = options.rev ?? was.rev ?? undefined;
    const source = await openSource(ctx.cwd, was.url, rev);
    try {
      const incoming = await readSourcePointer(source, was.path);
      const record: ImportSource = { url: was.url, rev: source.rev, path: was.path, commit: source.commit };
      const item: UpdatedImport = { path: ref.dataPath, url: was.url, fromCommit: was.commit, toCommit: source.commit, oldOid: pointer.oid, newOid: incoming.oid, outcome: 'current', fetched: 0, bytes: 0 };
      const sameData = incoming.oid === pointer.oid && incoming.kind === pointer.kind && (incoming.exec ?? false) === (pointer.exec ?? false);
      if (sameData) {
        if (record.commit !== was.commit || record.rev !== was.rev) {
          // The source moved on without changing this data: only the record follows.
          item.outcome = 'moved';
          await repo.withLock({ ...ctx.lock, command: 'dvs update' }, async () => writePointer(repo.root, ref.pointerPath, { ...pointer, source: record }, pointer));
          await stageOrList(ctx, result, [ref.pointerPath]);
        }
      } else {
        await refuseUnsaved(ctx, ref.dataPath, pointer, options.force === true);
        const done = await bringIn(ctx, source, incoming, { dataPath: ref.dataPath, record, force: true, previous: pointer });
        Object.assign(item, { outcome: 'updated', fetched: done.fetched, bytes: done.bytes });
        result.staged.push(...done.staged);
        result.toStage.push(...done.toStage);
        result.warnings.push(...done.warnings);
      }
      result.imports.push(item);
    } finally {
      source.close();
    }
  }
  return result;
}

/** Data changed here since the import exists nowhere else: replaced only with --force. */
async function refuseUnsaved(ctx: OpContext, dataPath: string, pointer: Pointer, force: boolean): Promise<void> {
  if (force) return;
  const state = await ctx.repo.statCache();
  const now = await compareWorkspace(ctx.repo, dataPath, pointer, { state });
  state.flush();
  if (now.workspace !== 'modified') return;
  throw new DvsError('IMPORT_MODIFIED', `${dataPath}: changed here since it was imported; updating would replace the changes`, {
    hint: `Keep them elsewhere first, or replace them: dvs update --force ${dataPath}`,
    data: { path: dataPath },
  });
}

async function stageOrList(ctx: OpContext, result: UpdateResult, files: string[]): Promise<void> {
  if (ctx.repo.config.bool('core.autostage')) {
    await stage(ctx.repo.root, files);
    result.staged.push(...files);
  } else result.toStage.push(...files);
}
