import type { Warning } from '../events.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { pointerPathOf, type DataKind, type Pointer } from '../pointer/format.js';
import { lineageHash, lineageOf, type LineageRecord } from './record.js';
import type { PointerSource } from './source.js';

/** One dataset version in a lineage graph. */
export interface LineageNode {
  /** `<path>@<oid>`. */
  id: string;
  path: string;
  oid: Oid;
  kind: DataKind;
  size: number;
  rows: number | null;
  /**
   * Where this version was found: the pointer at the revision shown, an earlier committed version of
   * the pointer (`commit` says which), or only in the record of a transform that used it.
   */
  found: 'pointer' | 'history' | 'record';
  commit?: string;
  /** `transform`: a recorded step made it; `source`: no lineage (raw data); `unknown`: the record is missing or does not describe this version. */
  origin: 'transform' | 'source' | 'unknown';
  /** The step that made it. */
  step?: string;
}

export interface LineageStepIO {
  path: string;
  oid: Oid;
  rows: number | null;
  /** The node it resolved to. */
  node: string;
}

/** One recorded transform: the record's own fields, with inputs and outputs resolved to graph nodes. */
export interface LineageStep extends Pick<LineageRecord, 'transform' | 'params' | 'command' | 'started' | 'duration' | 'user' | 'host' | 'commit' | 'dirty' | 'ran'> {
  /** The first 12 hex digits of the record's hash (as carried by its audit event). */
  id: string;
  inputs: LineageStepIO[];
  outputs: LineageStepIO[];
  /** Summed over inputs and outputs with known row counts; null when any is unknown. */
  rowsIn: number | null;
  rowsOut: number | null;
  /** Percentage of input rows not in the output (negative when rows were added); null when unknown. */
  removedPercent: number | null;
}

export interface LineageGraph {
  /** The node the walk started from. */
  root: string;
  /** Target first, then in the order the walk reached them. */
  nodes: LineageNode[];
  /** Nearest to the target first. */
  steps: LineageStep[];
  /** True when a recorded input no longer matches its pointer at the revision shown. */
  stale: boolean;
  warnings: Warning[];
}

function sumRows(ios: Array<{ rows: number | null }>): number | null {
  let total = 0;
  for (const io of ios) {
    if (io.rows === null) return null;
    total += io.rows;
  }
  return total;
}

/** Percentage of rows removed, to two decimals. */
export function removedPercent(rowsIn: number | null, rowsOut: number | null): number | null {
  if (rowsIn === null || rowsOut === null || rowsIn === 0) return null;
  return Math.round(((rowsIn - rowsOut) / rowsIn) * 10000) / 100;
}

/**
 * Walk back from a dataset version through the transforms recorded in pointers to the raw sources.
 * An input is looked up at the same revision; when its pointer there names another version, the
 * lineage is stale (the input changed after the transform ran) and the walk continues with the version
 * the record names, found in the pointer's history.
 */
export async function walkLineage(source: PointerSource, path: string, pointer: Pointer): Promise<LineageGraph> {
  const nodes = new Map<string, LineageNode>();
  const steps = new Map<string, LineageStep>();
  const warnings: Warning[] = [];
  let stale = false;

  const visit = async (path: string, pointer: Pointer | undefined, found: LineageNode['found'], commit: string | undefined, named?: { oid: Oid; rows: number | null; kind: DataKind; size: number }): Promise<string> => {
    const oid = pointer?.oid ?? named!.oid;
    const id = `${path}@${oid}`;
    const existing = nodes.get(id);
    if (existing) {
      existing.rows ??= named?.rows ?? null;
      return id;
    }
    const node: LineageNode = {
      id,
      path,
      oid,
      kind: pointer?.kind ?? named!.kind,
      size: pointer?.size ?? named!.size,
      rows: named?.rows ?? null,
      found,
      origin: 'unknown',
    };
    if (commit) node.commit = commit;
    nodes.set(id, node);
    if (!pointer) return id;

    const lineage = lineageOf(pointer);
    if (lineage.error) {
      warnings.push({ code: 'LINEAGE_INVALID', path, message: `${pointerPathOf(path)}: its lineage cannot be read (${lineage.error})` });
      return id;
    }
    if (!lineage.record) {
      node.origin = 'source';
      return id;
    }
    const record = lineage.record;
    const output = record.outputs.find((o) => o.path === path);
    if (!output || output.oid !== oid) {
      warnings.push({
        code: 'LINEAGE_OUTDATED',
        path,
        message: `${path}: the lineage in its pointer describes ${output ? `version ${shortOid(output.oid)}` : 'other outputs'}, not ${shortOid(oid)} (the data was re-tracked without dvs transform); its origin is unknown`,
        hint: 'Record how it was made with `dvs lineage record`, or re-run the transform with `dvs transform`.',
      });
      return id;
    }
    node.origin = 'transform';
    node.rows = output.rows ?? node.rows;
    const step = await addStep(record, found === 'pointer', commit);
    node.step = step.id;
    return id;
  };

  const addStep = async (record: LineageRecord, current: boolean, commit: string | undefined): Promise<LineageStep> => {
    const id = lineageHash(record).slice(0, 12);
    const known = steps.get(id);
    if (known) return known;
    const step: LineageStep = {
      id,
      transform: record.transform,
      params: record.params,
      command: record.command,
      inputs: [],
      outputs: record.outputs.map((o) => ({ path: o.path, oid: o.oid, rows: o.rows, node: `${o.path}@${o.oid}` })),
      rowsIn: sumRows(record.inputs),
      rowsOut: sumRows(record.outputs),
      removedPercent: null,
      started: record.started,
      duration: record.duration,
      user: record.user,
      host: record.host,
      commit: record.commit,
      dirty: record.dirty,
      ran: record.ran,
    };
    step.removedPercent = removedPercent(step.rowsIn, step.rowsOut);
    steps.set(id, step);
    for (const input of record.inputs) {
      const pointerPath = pointerPathOf(input.path);
      // Versions found in history resolve their inputs at their own commit first.
      let there: Pointer | undefined;
      try {
        there = await source.read(pointerPath, current ? source.commit : commit);
      } catch (err) {
        warnings.push({ code: 'LINEAGE_INPUT_UNREADABLE', path: input.path, message: `${pointerPath}: ${(err as Error).message}` });
      }
      let node: string;
      if (there?.oid === input.oid) {
        node = await visit(input.path, there, current ? 'pointer' : 'history', current ? undefined : commit, input);
      } else {
        if (current) {
          stale = true;
          warnings.push({
            code: 'STALE_LINEAGE',
            path: input.path,
            message: there
              ? `stale lineage: ${record.transform} used ${input.path} at ${shortOid(input.oid)}, but its pointer in ${source.label} says ${shortOid(there.oid)}`
              : `stale lineage: ${record.transform} used ${input.path} at ${shortOid(input.oid)}, which is no longer tracked in ${source.label}`,
            hint: `Re-run the ${record.transform} transform to bring ${record.outputs.map((o) => o.path).join(', ')} up to date.`,
          });
        }
        const earlier = await source.findVersion(pointerPath, input.oid);
        if (earlier) node = await visit(input.path, earlier.pointer, 'history', earlier.commit, input);
        else {
          warnings.push({ code: 'LINEAGE_VERSION_NOT_FOUND', path: input.path, message: `${input.path} at ${shortOid(input.oid)} is not in the history of ${pointerPath}; its own lineage is unknown` });
          node = await visit(input.path, undefined, 'record', undefined, input);
        }
      }
      step.inputs.push({ path: input.path, oid: input.oid, rows: input.rows, node });
    }
    return step;
  };

  const root = await visit(path, pointer, 'pointer', undefined);
  return { root, nodes: [...nodes.values()], steps: [...steps.values()], stale, warnings };
}
