import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { currentHost, currentUser, codeState } from '../../audit/identity.js';
import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { resolveTracked, requireUnchanged, type TrackedDataset } from '../../lineage/datasets.js';
import { parseAssignments } from '../../lineage/params.js';
import { PointerSource } from '../../lineage/source.js';
import { walkLineage } from '../../lineage/walk.js';
import { shortOid } from '../../objects/oid.js';
import { writeFileAtomic } from '../../base/atomic.js';
import type { Repo } from '../../repo/repo.js';
import { describeHardware } from '../../runs/hardware.js';
import { checkRunId, runHash, runPath, serializeRun, type RunDataset, type RunRecord } from '../../runs/record.js';
import type { OpContext } from '../context.js';
import { ObjectChecker } from '../../workspace/object-check.js';
import { loadManifest } from '../../objects/manifest.js';

export interface RunStartOptions {
  id: string;
  model: string;
  datasets?: string[];
  params?: string[];
}

export interface RunWriteResult {
  run: RunRecord;
  file: string;
  /** The record's hash, as its audit event carries it. */
  hash: string;
  event?: { hash: string; file: string };
  staged: string[];
  toStage: string[];
  warnings: Warning[];
}

/**
 * Refuse a dataset whose cache objects are missing or fail verification: the run would name a version
 * nobody can check out again.
 */
async function requireObjects(repo: Repo, ds: TrackedDataset): Promise<void> {
  const checker = new ObjectChecker(repo.cache, await repo.statCache());
  const fail = (oid: string, health: string, what: string) => {
    const missing = health === 'missing';
    throw new DvsError(missing ? 'DATASET_OBJECT_MISSING' : 'DATASET_OBJECT_CORRUPTED', `dataset ${ds.path}: ${what} ${shortOid(oid)} is ${missing ? 'not in the cache' : `${health} in the cache${health === 'corrupted' ? ' (moved to quarantine)' : ''}`}`, {
      hint: missing ? `Store it again with \`dvs track ${ds.path}\`, or fetch it with \`dvs pull ${ds.path}\`.` : `Re-track the intact workspace data with \`dvs track ${ds.path}\`, or fetch a good copy with \`dvs pull\`.`,
      data: { path: ds.path, oid, problem: health },
    });
  };
  const { pointer } = ds;
  if (pointer.kind === 'file') {
    const health = checker.check(pointer.oid, pointer.size);
    if (health !== 'ok') fail(pointer.oid, health, 'object');
    return;
  }
  const mHealth = checker.check(pointer.oid);
  if (mHealth !== 'ok') fail(pointer.oid, mHealth, 'the manifest');
  for (const e of loadManifest(repo.cache, pointer.oid, ds.path).entries) {
    const health = checker.check(e.oid, e.size);
    if (health !== 'ok') fail(e.oid, health, `${e.path}: object`);
  }
}

/**
 * `dvs run start`: record the exact dataset versions, code, parameters and hardware of a training run
 * in `.dvs/runs/<id>.yaml`. Every dataset must match its pointer and have intact objects.
 */
export async function runStart(ctx: OpContext, options: RunStartOptions): Promise<RunWriteResult> {
  const { repo } = ctx;
  checkRunId(options.id);
  if (!options.model) throw new DvsError('NO_MODEL', 'Name the model with --model <name>');
  const file = runPath(options.id);
  if (existsSync(repo.abs(file))) {
    throw new DvsError('RUN_EXISTS', `Run "${options.id}" already exists (${file})`, {
      hint: 'Run ids are unique: pick a new one, e.g. by numbering them (run-42, run-43).',
      data: { id: options.id },
    });
  }
  const params = parseAssignments(options.params, '--param');
  const datasets = (options.datasets ?? []).map((arg) => resolveTracked(repo, ctx.cwd, arg, 'dataset'));
  const seen = new Set<string>();
  for (const ds of datasets) {
    if (seen.has(ds.path)) throw new DvsError('DUPLICATE_DATASET', `dataset ${ds.arg} is named twice`);
    seen.add(ds.path);
  }
  const state = await repo.statCache();
  for (const ds of datasets) {
    await requireUnchanged(repo, ds, state, 'dataset');
    await requireObjects(repo, ds);
  }

  const warnings: Warning[] = [];
  const recorded: RunDataset[] = [];
  const source = await PointerSource.open(repo);
  try {
    for (const ds of datasets) {
      const graph = await walkLineage(source, ds.path, ds.pointer);
      warnings.push(...graph.warnings);
      let rows = graph.nodes[0]?.rows ?? null;
      if (rows === null) {
        const { countRows } = await import('../../lineage/rows.js');
        rows = await countRows(repo, ds.path, ds.pointer.kind);
      }
      const entry: RunDataset = {
        path: ds.path,
        kind: ds.pointer.kind,
        oid: ds.pointer.oid,
        size: ds.pointer.size,
        rows,
        lineage: graph.steps.map((s) => ({
          step: s.id,
          transform: s.transform,
          params: s.params,
          rowsIn: s.rowsIn,
          rowsOut: s.rowsOut,
          inputs: s.inputs.map(({ path, oid, rows }) => ({ path, oid, rows })),
          outputs: s.outputs.map(({ path, oid, rows }) => ({ path, oid, rows })),
        })),
      };
      if (ds.pointer.files !== undefined) entry.files = ds.pointer.files;
      if (graph.stale) entry.staleLineage = true;
      recorded.push(entry);
    }
  } finally {
    source.close();
  }

  const [code, hardware, user] = await Promise.all([codeState(repo.root), describeHardware(), currentUser(repo.root)]);
  const run: RunRecord = {
    id: options.id,
    model: options.model,
    status: 'running',
    started: new Date().toISOString(),
    finished: null,
    duration: null,
    user,
    host: currentHost(),
    code,
    datasets: recorded,
    params,
    hardware,
    metrics: {},
  };
  const hash = runHash(run);
  return repo.withLock({ ...ctx.lock, command: 'dvs run start' }, async () => {
    if (existsSync(repo.abs(file))) throw new DvsError('RUN_EXISTS', `Run "${options.id}" already exists (${file})`, { data: { id: options.id } });
    mkdirSync(dirname(repo.abs(file)), { recursive: true });
    writeFileAtomic(repo.abs(file), serializeRun(run));
    const autostage = repo.config.bool('core.autostage');
    const { recordAuditEvent } = await import('../../audit/record.js');
    const event = await recordAuditEvent(repo, {
      type: 'run-start',
      paths: recorded.map((d) => ({ path: d.path, oid: d.oid, kind: d.kind, size: d.size, role: 'dataset' as const })),
      data: { run: run.id, model: run.model, record: hash },
    }, { stageWith: [file] });
    return { run, file, hash, event: event && { hash: event.hash, file: event.file }, staged: autostage ? [file] : [], toStage: autostage ? [] : [file], warnings };
  });
}
