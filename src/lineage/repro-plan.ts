import type { Warning } from '../events.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { pointerPathOf, type Pointer } from '../pointer/format.js';
import { ownedBy, parseParamsSpec } from './params-file.js';
import type { ParamValue } from './params.js';
import { lineageHash, lineageOf, type LineageRecord } from './record.js';
import type { PointerSource } from './source.js';

/**
 * The planning half of `dvs repro`, without side effects: the recorded steps upstream of some datasets in
 * dependency order, and why a step no longer matches its record.
 */

/** One recorded transform of the chain. */
export interface ChainStep {
  /** The first 12 hex digits of the record's hash (as `dvs lineage show` names steps). */
  id: string;
  record: LineageRecord;
  /** Ids of the steps of the chain that made its inputs. */
  upstream: string[];
}

export interface Chain {
  /** Every step upstream of the targets (the targets' own included), each after the steps it reads from. */
  steps: ChainStep[];
  /** Inputs no step of the chain makes: raw data (or data whose origin is unknown). */
  sources: string[];
  warnings: Warning[];
}

/**
 * Walk from the targets' pointers (at the source's revision) through the records to the raw data. Each
 * input is followed through the pointer it has now, at the same revision: that is the chain a rebuild
 * runs, whatever version the record names.
 */
export async function planChain(source: PointerSource, targets: Array<{ path: string; pointer: Pointer }>): Promise<Chain> {
  const steps = new Map<string, ChainStep>();
  const byOutput = new Map<string, string>();
  const sources = new Set<string>();
  const warnings: Warning[] = [];
  const visiting = new Set<string>();

  const visit = async (path: string, pointer: Pointer): Promise<string | undefined> => {
    const done = byOutput.get(path);
    if (done) return done;
    const lineage = lineageOf(pointer);
    if (lineage.error) warnings.push({ code: 'LINEAGE_INVALID', path, message: `${pointerPathOf(path)}: its lineage cannot be read (${lineage.error}); it is treated as raw data` });
    const record = lineage.record;
    const output = record?.outputs.find((o) => o.path === path);
    if (record && (!output || output.oid !== pointer.oid)) {
      warnings.push({
        code: 'LINEAGE_OUTDATED',
        path,
        message: `${path}: the lineage in its pointer describes ${output ? `version ${shortOid(output.oid)}` : 'other outputs'}, not ${shortOid(pointer.oid)}; it is treated as raw data`,
        hint: 'Record how it was made with `dvs lineage record`, or re-run the transform with `dvs transform`.',
      });
    }
    if (!record || !output || output.oid !== pointer.oid || visiting.has(path)) {
      sources.add(path);
      return undefined;
    }
    const id = lineageHash(record).slice(0, 12);
    const known = steps.get(id);
    if (known) return id;
    visiting.add(path);
    const upstream: string[] = [];
    for (const input of record.inputs) {
      let there: Pointer | undefined;
      try {
        there = await source.read(pointerPathOf(input.path));
      } catch (err) {
        warnings.push({ code: 'LINEAGE_INPUT_UNREADABLE', path: input.path, message: `${pointerPathOf(input.path)}: ${(err as Error).message}` });
      }
      const up = there ? await visit(input.path, there) : undefined;
      if (!there) sources.add(input.path);
      if (up && !upstream.includes(up)) upstream.push(up);
    }
    visiting.delete(path);
    if (!steps.has(id)) steps.set(id, { id, record, upstream });
    for (const o of record.outputs) byOutput.set(o.path, id);
    return id;
  };

  for (const t of targets) await visit(t.path, t.pointer);
  return { steps: [...steps.values()], sources: [...sources], warnings };
}

/** Why a step does not match its record. */
export type StaleReason =
  | { kind: 'forced' }
  /** An input's pointer names another version than the record (`current` null: no longer tracked). */
  | { kind: 'input'; path: string; recorded: Oid; current: Oid | null }
  /** An input is made by an earlier step that is rebuilt (its new version is not known before it runs). */
  | { kind: 'upstream'; path: string; step: string }
  /** A parameter read from a params file has another value (`current` null: no longer in the file). */
  | { kind: 'param'; key: string; file: string; recorded: ParamValue | null; current: ParamValue | null }
  /** `--rev`: the output in the workspace is not the version recorded at that revision. */
  | { kind: 'output'; path: string; recorded: Oid; current: Oid | null };

/** What an input is now: its version, `null` when not tracked, `pending` when an earlier step rebuilds it. */
export type InputNow = Oid | null | 'pending';

/**
 * The parameters the step would run with: the recorded `--param` values, and the current values of the
 * params-file sections it read (`read` gives a section's parameters, by full dotted name).
 */
export function currentParams(record: LineageRecord, read: (spec: { file: string; key: string }) => Record<string, ParamValue>): Record<string, ParamValue> {
  const sections = (record.paramsFrom ?? []).map((spec) => parseParamsSpec(spec));
  const params: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(record.params)) if (!sections.some((s) => ownedBy(s.key, k))) params[k] = v;
  for (const s of sections) Object.assign(params, read(s));
  return params;
}

/** The differences between a record and what the step would run with now; none means up to date. */
export function staleReasons(
  step: ChainStep,
  now: { inputs: (path: string) => InputNow; params: Record<string, ParamValue>; outputs?: (path: string) => Oid | null; producer?: (path: string) => string },
): StaleReason[] {
  const reasons: StaleReason[] = [];
  for (const input of step.record.inputs) {
    const current = now.inputs(input.path);
    if (current === 'pending') reasons.push({ kind: 'upstream', path: input.path, step: now.producer?.(input.path) ?? 'an earlier step' });
    else if (current !== input.oid) reasons.push({ kind: 'input', path: input.path, recorded: input.oid, current });
  }
  const sections = (step.record.paramsFrom ?? []).map((spec) => parseParamsSpec(spec));
  const keys = [...new Set([...Object.keys(step.record.params), ...Object.keys(now.params)])].sort();
  for (const key of keys) {
    const before = step.record.params[key] ?? null;
    const after = now.params[key] ?? null;
    if (before === after) continue;
    const section = sections.find((s) => ownedBy(s.key, key));
    reasons.push({ kind: 'param', key, file: section?.file ?? '--param', recorded: before, current: after });
  }
  if (now.outputs) {
    for (const o of step.record.outputs) {
      const current = now.outputs(o.path);
      if (current !== o.oid) reasons.push({ kind: 'output', path: o.path, recorded: o.oid, current });
    }
  }
  return reasons;
}
