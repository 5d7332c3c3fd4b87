import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { DvsError, isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, isPointerPath, pointerHasKey, pointerPathOf, type Pointer } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import { readTextFile } from '../../base/safe-yaml.js';
import { ownedBy, paramsFromText, parseParamsSpec } from '../../lineage/params-file.js';
import type { ParamValue } from '../../lineage/params.js';
import type { LineageIO } from '../../lineage/record.js';
import { currentParams, planChain, staleReasons, type Chain, type ChainStep, type InputNow, type StaleReason } from '../../lineage/repro-plan.js';
import { findResult, resultKey, type FoundResult } from '../../lineage/result-cache.js';
import { PointerSource } from '../../lineage/source.js';
import { compareWorkspace } from '../../workspace/compare.js';
import { selectTargets } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';
import { ensureObjects, restoreOutputs } from './repro-restore.js';
import { transform, type CommandRunner } from './transform.js';

export interface ReproOptions {
  targets: string[];
  /** Print the plan, change nothing. */
  dryRun?: boolean;
  /** Run every step of the chain, stale or not, without the result cache. */
  force?: boolean;
  /** Plan from the lineage recorded at this revision (rebuild what it names). */
  rev?: string;
  run: CommandRunner;
}

export type ReproStepStatus = 'up-to-date' | 'stale' | 'ran' | 'restored';

export interface ReproStep {
  id: string;
  transform: string;
  /** The parameters it runs (ran) or would run with. */
  params: Record<string, ParamValue>;
  outputs: string[];
  /** Dry run: `stale`, or `up-to-date`. Otherwise what was done. */
  status: ReproStepStatus;
  reasons: StaleReason[];
  /** A stored result with these inputs and parameters exists (dry run: it would be restored, not run). */
  restoreFrom?: FoundResult['from'];
  /** The output versions after the step (ran or restored), with the versions before. */
  versions?: Array<{ path: string; before: Oid | null; after: Oid }>;
  /** Seconds the command ran. */
  duration?: number | null;
  staged?: string[];
  toStage?: string[];
}

export interface ReproResult {
  dryRun: boolean;
  rev: string | null;
  commit: string | null;
  steps: ReproStep[];
  warnings: Warning[];
}

/** The chain the targets need (every dataset with lineage when none is named), read at the workspace or at `rev`. */
export async function openChain(ctx: OpContext, targets: string[], rev: string | undefined): Promise<{ source: PointerSource; chain: Chain }> {
  const { repo } = ctx;
  if (targets.length === 0 && rev !== undefined) throw new DvsError('NO_TARGETS', 'Name the datasets to rebuild from that revision: dvs repro --rev <rev> <path>...', { hint: 'dvs repro --rev run-41 data/train.csv' });
  // Without targets: every tracked dataset that records how it was made, as `dvc repro` does.
  if (targets.length === 0) targets = selectTargets(repo, ctx.cwd, undefined).targets.map((t) => t.ref.pointerPath).filter((p) => pointerHasKey(readPointer(repo.root, p), 'lineage'));
  const source = await PointerSource.open(repo, rev);
  try {
    const found: Array<{ path: string; pointer: Pointer }> = [];
    for (const target of targets) {
      const { rel } = repo.resolve(ctx.cwd, target.replace(/\/+$/, '') || target);
      const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
      const pointer = await source.read(pointerPath);
      if (!pointer) {
        throw new DvsError('NOT_TRACKED', `${target}: not tracked by dvs in ${source.label} (no ${pointerPath})`, { hint: 'List tracked data with `dvs status`.', data: { path: rel, rev: rev ?? null } });
      }
      found.push({ path: dataPathOf(pointerPath), pointer });
    }
    const chain = await planChain(source, found);
    if (chain.steps.length === 0) {
      throw new DvsError('NO_LINEAGE', `${targets.length ? targets.join(', ') : 'this repository'}: no recorded transform to re-run (raw data, or tracked with dvs track)`, {
        hint: 'Make the data with dvs transform, then dvs repro can rebuild it.',
        data: { targets },
      });
    }
    return { source, chain };
  } catch (err) {
    source.close();
    throw err;
  }
}

/** The version a pointer in the workspace names now, or null when the data is not tracked. */
function workspaceOid(ctx: OpContext, path: string): Oid | null {
  const pointerPath = pointerPathOf(path);
  return existsSync(ctx.repo.abs(pointerPath)) ? readPointer(ctx.repo.root, pointerPath).oid : null;
}

/** The current values of a params-file section, from the workspace. */
export function sectionReader(ctx: OpContext) {
  return (s: { file: string; key: string }): Record<string, ParamValue> => {
    const { abs } = ctx.repo.resolve(ctx.repo.root, s.file);
    if (!existsSync(abs)) {
      throw new DvsError('PARAMS_FILE_NOT_FOUND', `params file ${s.file} (read by a recorded step) is gone`, { hint: 'Restore it, or re-run the step with dvs transform and its new parameters.', data: { file: s.file } });
    }
    return paramsFromText(readTextFile(abs, { where: s.file, code: 'PARAMS', what: 'a params file', hint: `Fix the YAML in ${s.file}.` }), { spec: `${s.file}:${s.key}`, file: s.file, key: s.key });
  };
}

/**
 * `dvs repro`: bring the datasets up to date with their recorded lineage. In dependency order, each step
 * whose inputs or parameters no longer match its record is restored from a stored result with the same
 * command, parameters and inputs, or else run again through `dvs transform` (which tracks the outputs and
 * writes the new record). A failing step stops the chain: later steps and their outputs are left alone.
 */
export async function repro(ctx: OpContext, options: ReproOptions): Promise<ReproResult> {
  const { source, chain } = await openChain(ctx, options.targets, options.rev);
  try {
    const result: ReproResult = { dryRun: !!options.dryRun, rev: options.rev ?? null, commit: source.commit ?? null, steps: [], warnings: [...chain.warnings] };
    const atRev = options.rev !== undefined;
    if (atRev) requireSourcesAsRecorded(ctx, chain);
    const producer = new Map<string, ChainStep>();
    for (const step of chain.steps) for (const o of step.record.outputs) producer.set(o.path, step);
    /** Dry run: outputs whose new version is unknown until their step runs, and those a restore would give. */
    const pending = new Set<string>();
    const predicted = new Map<string, Oid>();
    const readSection = sectionReader(ctx);
    const done: string[] = [];
    for (const step of chain.steps) {
      const params = atRev ? step.record.params : currentParams(step.record, readSection);
      const inputNow = (path: string): InputNow => (pending.has(path) ? 'pending' : (predicted.get(path) ?? workspaceOid(ctx, path)));
      const reasons = staleReasons(step, {
        inputs: inputNow,
        params,
        outputs: atRev ? (path) => workspaceOid(ctx, path) : undefined,
        producer: (path) => producer.get(path)?.record.transform ?? 'an earlier step',
      });
      if (options.force) reasons.unshift({ kind: 'forced' });
      const entry: ReproStep = { id: step.id, transform: step.record.transform, params, outputs: step.record.outputs.map((o) => o.path), status: 'up-to-date', reasons };
      result.steps.push(entry);
      if (reasons.length === 0) continue;
      const inputs = step.record.inputs.map((i) => ({ path: i.path, oid: inputNow(i.path) }));
      const known = !inputs.some((i) => i.oid === 'pending' || i.oid === null);
      const key = resultKey({ command: step.record.command, cwd: step.record.cwd, params, inputs: inputs.map((i) => ({ path: i.path, oid: String(i.oid) })), outputs: step.record.outputs });
      const found = known && !options.force ? await findResult(ctx.repo, source, key, entry.outputs, chain.steps.map((s) => s.record)) : undefined;
      if (found) entry.restoreFrom = found.from;
      if (options.dryRun) {
        entry.status = 'stale';
        for (const o of step.record.outputs) if (!found) pending.add(o.path);
        for (const o of found?.record.outputs ?? []) predicted.set(o.path, o.oid);
        continue;
      }
      await bringUpToDate(ctx, step, entry, { params, found, force: !!options.force, later: laterSteps(chain, step), done, warnings: result.warnings, run: options.run });
      done.push(step.record.transform);
    }
    return result;
  } finally {
    source.close();
  }
}

/** `--rev`: the raw data must be the version the revision's lineage used, or the rebuild is not of that data. */
function requireSourcesAsRecorded(ctx: OpContext, chain: Chain): void {
  for (const step of chain.steps) {
    for (const input of step.record.inputs) {
      if (!chain.sources.includes(input.path)) continue;
      const now = workspaceOid(ctx, input.path);
      if (now === input.oid) continue;
      throw new DvsError('SOURCE_VERSION_DIFFERS', `${input.path}: the workspace has ${now ? now.slice(0, 10) : 'no such data'}, but the lineage recorded there used ${input.oid.slice(0, 10)}`, {
        hint: `Bring that version first: git checkout <rev> -- ${pointerPathOf(input.path)} && dvs checkout ${input.path}`,
        data: { path: input.path, recorded: input.oid, workspace: now },
      });
    }
  }
}

function laterSteps(chain: Chain, step: ChainStep): string[] {
  return chain.steps.slice(chain.steps.indexOf(step) + 1).map((s) => s.record.transform);
}

interface StepRun {
  params: Record<string, ParamValue>;
  found: FoundResult | undefined;
  force: boolean;
  later: string[];
  done: string[];
  warnings: Warning[];
  run: CommandRunner;
}

/** Restore the step's stored result, or run it; refuses to replace outputs whose changes are not saved. */
async function bringUpToDate(ctx: OpContext, step: ChainStep, entry: ReproStep, how: StepRun): Promise<void> {
  const { repo } = ctx;
  const before = new Map(entry.outputs.map((p) => [p, workspaceOid(ctx, p)]));
  if (!how.force) await requireOutputsSaved(ctx, entry.outputs);
  if (how.found && (await ensureObjects(ctx, how.found.record.outputs, `the stored result of ${step.record.transform}`, how.warnings))) {
    const staged = await restoreOutputs(ctx, how.found.record);
    entry.status = 'restored';
    entry.staged = staged.staged;
    entry.toStage = staged.toStage;
    entry.versions = how.found.record.outputs.map((o) => ({ path: o.path, before: before.get(o.path) ?? null, after: o.oid }));
    return;
  }
  const command = step.record.command;
  if (step.record.ran !== 'here' || !Array.isArray(command) || command.length === 0) {
    throw new DvsError('STEP_NOT_RUNNABLE', `${step.record.transform} (${entry.outputs.join(', ')}) is stale, but it was recorded with dvs lineage record: there is no command to re-run${how.done.length ? ` (done before it: ${how.done.join(', ')})` : ''}`, {
      hint: 'Run it yourself and record it again with dvs lineage record, then run dvs repro again.',
      data: { step: step.record.transform, outputs: entry.outputs },
    });
  }
  const cwd = step.record.cwd ? repo.abs(step.record.cwd) : repo.root;
  // Paths as the user would have typed them in that directory, so transform's messages read naturally.
  const fromCwd = (abs: string) => relative(cwd, abs).split(sep).join('/');
  // The params-file sections are read again by transform; only `--param` values are passed as such.
  const sections = (step.record.paramsFrom ?? []).map((spec) => parseParamsSpec(spec));
  const plain = Object.entries(how.params).filter(([k]) => !sections.some((s) => ownedBy(s.key, k)));
  // Records made before `row_id` was stored name it only in their indexes' headers.
  const rowId = step.record.rowId ?? (await import('../../lineage/row-record.js')).recordedRowId(repo, step.record);
  try {
    const r = await transform({ ...ctx, cwd }, {
      name: step.record.transform,
      ...(rowId !== undefined ? { rowId } : {}),
      inputs: step.record.inputs.map((i) => fromCwd(repo.abs(i.path))),
      outputs: step.record.outputs.map((o) => fromCwd(repo.abs(o.path))),
      params: plain.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`),
      paramsFrom: sections.map((s) => `${fromCwd(repo.abs(s.file))}:${s.key}`),
      command,
      run: how.run,
    });
    entry.status = 'ran';
    entry.duration = r.duration;
    entry.staged = r.staged;
    entry.toStage = r.toStage;
    entry.versions = r.outputs.map((o: LineageIO) => ({ path: o.path, before: before.get(o.path) ?? null, after: o.oid }));
    how.warnings.push(...r.warnings);
  } catch (err) {
    if (!isDvsError(err) || !['TRANSFORM_FAILED', 'COMMAND_NOT_FOUND', 'COMMAND_NOT_EXECUTABLE', 'OUTPUT_MISSING', 'INPUT_CHANGED_BY_COMMAND'].includes(err.code)) throw err;
    const exitCode = (err.data as { exitCode?: number | null } | undefined)?.exitCode ?? null;
    const skipped = how.later.length ? `; not run: ${how.later.join(', ')}` : '';
    throw new DvsError('STEP_FAILED', `step ${step.record.transform} failed: ${err.message}${skipped}. ${entry.outputs.join(', ')} and everything downstream keep their pointers`, {
      hint: err.hint ?? 'Fix the step, then run dvs repro again: steps already brought up to date are not run twice.',
      data: { step: step.record.transform, exitCode, cause: err.code, done: how.done, notRun: how.later },
    });
  }
}

async function requireOutputsSaved(ctx: OpContext, outputs: string[]): Promise<void> {
  const { repo } = ctx;
  const state = await repo.statCache();
  for (const path of outputs) {
    const pointerPath = pointerPathOf(path);
    if (!existsSync(repo.abs(pointerPath))) continue;
    const s = await compareWorkspace(repo, path, readPointer(repo.root, pointerPath), { state });
    if (s.workspace === 'modified') {
      throw new DvsError('OUTPUT_MODIFIED', `output ${path}: the workspace data differs from its pointer, and dvs repro would replace it`, {
        hint: `Save the change with \`dvs track ${path}\`, or discard it with \`dvs checkout --force ${path}\` (or rebuild anyway: dvs repro --force).`,
        data: { path },
      });
    }
  }
}
