import type { Warning } from '../events.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { pointerPathOf, type DataKind, type Pointer } from '../pointer/format.js';
import { lineageHash, lineageOf, type LineageIO, type LineageRecord } from './record.js';
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
  /** Outputs: the row index object recorded for it, if any. */
  rowIndex?: Oid;
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
  /** Inputs whose pointers at the revision shown name another version than the record: `dvs repro` would re-run it. */
  staleInputs?: string[];
  /** The `--row-id` column the step declared (its record's `row_id`). */
  rowId?: string;
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

/** A version as a lineage record names it. */
type NamedVersion = Pick<LineageIO, 'oid' | 'rows' | 'kind' | 'size'>;

/**
 * Walk back from a dataset version through the transforms recorded in pointers to the raw sources.
 * An input is looked up at the same revision; when its pointer there names another version, the
 * lineage is stale (the input changed after the transform ran) and the walk continues with the version
 * the record names, found in the pointer's history.
 */
export async function walkLineage(source: PointerSource, path: string, pointer: Pointer): Promise<LineageGraph> {
  const walk = new LineageWalk(source);
  const root = await walk.visit(path, pointer, 'pointer', undefined);
  return walk.graph(root);
}

/** The nodes, steps and warnings met so far; each version and each step is visited once. */
class LineageWalk {
  private readonly nodes = new Map<string, LineageNode>();
  private readonly steps = new Map<string, LineageStep>();
  private readonly warnings: Warning[] = [];
  private stale = false;

  constructor(private readonly source: PointerSource) {}

  graph(root: string): LineageGraph {
    return { root, nodes: [...this.nodes.values()], steps: [...this.steps.values()], stale: this.stale, warnings: this.warnings };
  }

  /** The node of a version, added the first time it is met together with where it came from; returns its id. */
  async visit(path: string, pointer: Pointer | undefined, found: LineageNode['found'], commit: string | undefined, named?: NamedVersion): Promise<string> {
    const oid = pointer?.oid ?? named!.oid;
    const id = `${path}@${oid}`;
    const existing = this.nodes.get(id);
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
    this.nodes.set(id, node);
    if (pointer) await this.traceOrigin(node, pointer, commit);
    return id;
  }

  /** Set the node's origin from the lineage in its pointer, following the step that made it. */
  private async traceOrigin(node: LineageNode, pointer: Pointer, commit: string | undefined): Promise<void> {
    const lineage = lineageOf(pointer);
    if (lineage.error) {
      this.warnings.push({ code: 'LINEAGE_INVALID', path: node.path, message: `${pointerPathOf(node.path)}: its lineage cannot be read (${lineage.error})` });
      return;
    }
    if (!lineage.record) {
      node.origin = 'source';
      return;
    }
    const output = lineage.record.outputs.find((o) => o.path === node.path);
    if (!output || output.oid !== node.oid) {
      this.warnOutdated(node, output);
      return;
    }
    node.origin = 'transform';
    node.rows = output.rows ?? node.rows;
    const step = await this.addStep(lineage.record, node.found === 'pointer', commit);
    node.step = step.id;
  }

  private warnOutdated(node: LineageNode, output: LineageIO | undefined): void {
    this.warnings.push({
      code: 'LINEAGE_OUTDATED',
      path: node.path,
      message: `${node.path}: the lineage in its pointer describes ${output ? `version ${shortOid(output.oid)}` : 'other outputs'}, not ${shortOid(node.oid)} (the data was re-tracked without dvs transform); its origin is unknown`,
      hint: 'Record how it was made with `dvs lineage record`, or re-run the transform with `dvs transform`.',
    });
  }

  /** The step of a record, added the first time it is met, its inputs visited in turn. */
  private async addStep(record: LineageRecord, current: boolean, commit: string | undefined): Promise<LineageStep> {
    const id = lineageHash(record).slice(0, 12);
    const known = this.steps.get(id);
    if (known) return known;
    const step = newStep(id, record);
    this.steps.set(id, step);
    for (const input of record.inputs) {
      const node = await this.visitInput(input, step, record, current, commit);
      step.inputs.push({ path: input.path, oid: input.oid, rows: input.rows, node });
    }
    return step;
  }

  /**
   * The node of a transform's input: the version its pointer names at the same revision when that is the
   * one the record names, else the record's version from the pointer's history.
   */
  private async visitInput(input: LineageIO, step: LineageStep, record: LineageRecord, current: boolean, commit: string | undefined): Promise<string> {
    const pointerPath = pointerPathOf(input.path);
    // Versions found in history resolve their inputs at their own commit first.
    const there = await this.readInput(input.path, pointerPath, current ? this.source.commit : commit);
    if (there?.oid === input.oid) return this.visit(input.path, there, current ? 'pointer' : 'history', current ? undefined : commit, input);
    if (current) {
      this.warnStale(record, input, there);
      (step.staleInputs ??= []).push(input.path);
    }
    const earlier = await this.source.findVersion(pointerPath, input.oid);
    if (earlier) return this.visit(input.path, earlier.pointer, 'history', earlier.commit, input);
    this.warnings.push({ code: 'LINEAGE_VERSION_NOT_FOUND', path: input.path, message: `${input.path} at ${shortOid(input.oid)} is not in the history of ${pointerPath}; its own lineage is unknown` });
    return this.visit(input.path, undefined, 'record', undefined, input);
  }

  /** The input's pointer at `commit`; undefined, with a warning, when it cannot be read. */
  private async readInput(path: string, pointerPath: string, commit: string | undefined): Promise<Pointer | undefined> {
    try {
      return await this.source.read(pointerPath, commit);
    } catch (err) {
      this.warnings.push({ code: 'LINEAGE_INPUT_UNREADABLE', path, message: `${pointerPath}: ${(err as Error).message}` });
      return undefined;
    }
  }

  /** The input's pointer at the revision shown names another version (or none): the outputs are out of date. */
  private warnStale(record: LineageRecord, input: LineageIO, there: Pointer | undefined): void {
    this.stale = true;
    const used = `stale lineage: ${record.transform} used ${input.path} at ${shortOid(input.oid)}`;
    this.warnings.push({
      code: 'STALE_LINEAGE',
      path: input.path,
      message: there ? `${used}, but its pointer in ${this.source.label} says ${shortOid(there.oid)}` : `${used}, which is no longer tracked in ${this.source.label}`,
      hint: `Re-run the ${record.transform} transform to bring ${record.outputs.map((o) => o.path).join(', ')} up to date.`,
    });
  }
}

/** A step as its record describes it, its inputs not yet resolved. */
export function newStep(id: string, record: LineageRecord): LineageStep {
  const rowsIn = sumRows(record.inputs);
  const rowsOut = sumRows(record.outputs);
  return {
    id,
    transform: record.transform,
    params: record.params,
    command: record.command,
    inputs: [],
    outputs: record.outputs.map((o) => ({ path: o.path, oid: o.oid, rows: o.rows, node: `${o.path}@${o.oid}`, ...(o.rowIndex ? { rowIndex: o.rowIndex } : {}) })),
    rowsIn,
    rowsOut,
    removedPercent: removedPercent(rowsIn, rowsOut),
    started: record.started,
    duration: record.duration,
    user: record.user,
    host: record.host,
    commit: record.commit,
    dirty: record.dirty,
    ran: record.ran,
    ...(record.rowId !== undefined ? { rowId: record.rowId } : {}),
  };
}
