import { existsSync } from 'node:fs';
import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { loadManifestIfPresent } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import { pointerPathOf } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import { refuseUnlessAppended } from '../data/append-only.js';
import { previousPointer } from '../data/track-external.js';
import { writeLineage, type LineageIO, type LineageRecord } from '../../lineage/record.js';
import { ignoreInGit } from '../../repo/gitignore.js';
import { stage } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { checkout } from '../data/checkout.js';
import { fetchMissing } from '../data/fetch-missing.js';

/** Objects the versions need that the cache lacks (for a directory whose manifest is absent: the manifest). */
function missingObjects(ctx: OpContext, versions: Array<Pick<LineageIO, 'path' | 'oid' | 'kind'>>): Oid[] {
  const { cache } = ctx.repo;
  const missing: Oid[] = [];
  for (const v of versions) {
    if (!cache.has(v.oid)) {
      missing.push(v.oid);
      continue;
    }
    if (v.kind !== 'dir') continue;
    const manifest = loadManifestIfPresent(cache, v.oid, v.path);
    for (const e of manifest?.entries ?? []) if (!cache.has(e.oid)) missing.push(e.oid);
  }
  return missing;
}

/**
 * Make sure the cache holds every object of these versions, fetching what it lacks from the default
 * remote (manifests first, then the files they list). False when some are still missing.
 */
export async function ensureObjects(ctx: OpContext, versions: Array<Pick<LineageIO, 'path' | 'oid' | 'kind'>>, neededBy: string, warnings: Warning[]): Promise<boolean> {
  for (let round = 0; round < 2; round++) {
    const missing = missingObjects(ctx, versions);
    if (missing.length === 0) return true;
    const quiet: Warning[] = [];
    await fetchMissing(ctx, missing, neededBy, quiet);
    if (round === 1) warnings.push(...quiet);
  }
  return missingObjects(ctx, versions).length === 0;
}

/**
 * Put a stored result in place of the outputs: each output's pointer names the recorded version and
 * carries the record, then checkout places the data. The objects must be in the cache (ensureObjects).
 */
export async function restoreOutputs(ctx: OpContext, record: LineageRecord): Promise<{ staged: string[]; toStage: string[] }> {
  const { repo } = ctx;
  const changed: string[] = [];
  await repo.withLock({ ...ctx.lock, command: 'dvs repro' }, async () => {
    // An append-only output is restored only to a version that keeps what it recorded; all are checked first.
    for (const o of record.outputs) refuseUnlessAppended(repo, o.path, previousPointer(repo, pointerPathOf(o.path)), o);
    for (const o of record.outputs) {
      const pointerPath = pointerPathOf(o.path);
      repo.guard.check(o.path, pointerPath);
      const previous = existsSync(repo.abs(pointerPath)) ? readPointer(repo.root, pointerPath) : undefined;
      writePointer(repo.root, pointerPath, { kind: o.kind, oid: o.oid, size: o.size, ...(o.files !== undefined ? { files: o.files } : {}) }, previous);
      writeLineage(repo.root, pointerPath, readPointer(repo.root, pointerPath), record);
      changed.push(pointerPath);
      const ignore = previous ? undefined : ignoreInGit(repo.root, o.path);
      if (ignore) changed.push(ignore);
    }
  });
  const placed = await checkout(ctx, { targets: record.outputs.map((o) => o.path) });
  if (placed.failures.length) {
    const f = placed.failures[0];
    throw new DvsError('STEP_FAILED', `${record.transform}: the stored result could not be checked out (${f.path}: ${f.message})`, {
      hint: f.hint ?? `Check out the data yourself (dvs checkout ${record.outputs.map((o) => o.path).join(' ')}).`,
      data: { step: record.transform, exitCode: null },
    });
  }
  const { recordAuditEvent } = await import('../../audit/record.js');
  await recordAuditEvent(repo, {
    type: 'repro-restore',
    paths: [
      ...record.inputs.map((i) => ({ path: i.path, oid: i.oid, kind: i.kind, size: i.size, role: 'input' as const })),
      ...record.outputs.map((o) => ({ path: o.path, oid: o.oid, kind: o.kind, size: o.size, role: 'output' as const })),
    ],
    data: { transform: record.transform, params: record.params },
  }, { stageWith: changed });
  if (!repo.config.bool('core.autostage')) return { staged: [], toStage: changed };
  await stage(repo.root, changed);
  return { staged: changed, toStage: [] };
}
