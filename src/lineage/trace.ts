import type { Oid } from '../objects/oid.js';
import type { ParamValue } from './params.js';
import { fieldOf, fileOfRow, forEachTextRecord, NO_ORIGIN, rowOfFile, splitRecord, type FileSpan, type RowFormat, type RowIndexView } from './row-index.js';
import { forEachParquetRow, isTextFile, type RowFile } from './row-scan.js';
import type { LineageGraph, LineageStep } from './walk.js';

/**
 * Row provenance: following one row through the row indexes of the recorded transforms, back from a
 * dataset to its raw source line, or forward from a source row to where it ended up.
 */

/**
 * One row of one dataset version. Rows and lines are 1-based, as people count them. In a directory the
 * position is in one of its files: `path` and `oid` are that file's, `row` and `line` within it, and
 * `dataset` names the directory version.
 */
export interface RowPosition {
  path: string;
  oid: Oid;
  row: number;
  line: number;
  dataset?: { path: string; oid: Oid };
}

/** Where a trace starts: a row of a version, in one of its files when it is a directory (`file`, relative to it). */
export interface TraceStart {
  path: string;
  oid: Oid;
  /** 0-based, within `file` for a directory. */
  row: number;
  file?: string;
  /** Where the row is, for a trace that ends before any index places it. */
  at: RowPosition;
}

/** The position of a side's row (0-based; a directory's rows run through its files in order). */
export function positionOf(side: { path: string; oid: Oid; files?: readonly FileSpan[] }, row: number, line: number): RowPosition {
  const at = side.files && fileOfRow(side.files, row);
  if (!at) return { path: side.path, oid: side.oid, row: row + 1, line };
  return { path: `${side.path}/${at.file.path}`, oid: at.file.oid, row: at.row + 1, line, dataset: { path: side.path, oid: side.oid } };
}

/** A start's row in a side of an index: through the side's files for a row of a directory's file. */
function startRow(start: TraceStart, files: readonly FileSpan[] | undefined): number | undefined {
  if (start.file === undefined) return files ? undefined : start.row;
  return files ? rowOfFile(files, start.file, start.row) : undefined;
}

/** A parameter of a step that names a field the row has, with the row's value. */
export interface ParamFieldValue {
  param: string;
  field: string;
  value: unknown;
}

/** One transform the row went through. */
export interface TraceHop {
  /** The step's id (first 12 hex digits of its record's hash). */
  step: string;
  transform: string;
  params: Record<string, ParamValue>;
  /** The row in the step's input. */
  from: RowPosition;
  /** The row in the step's output; null when the step dropped it. */
  to: RowPosition | null;
  /** Rows of the step's inputs with the same fingerprint, this one included (1 when it had no copies). */
  copies: number;
  /** Which of those copies this row is, in input order (1 = first). */
  copy: number;
  /** Dropped as a copy of a row the step kept: that row in the output. */
  duplicateOf?: RowPosition;
  values: ParamFieldValue[];
}

/** How a trace ends: at a raw source, at the final dataset, dropped by a step, or where no index says more. */
export type TraceEnd =
  | { status: 'source'; at: RowPosition }
  | { status: 'kept'; at: RowPosition }
  | { status: 'dropped'; at: RowPosition; step: string; transform: string }
  | { status: 'created'; at: RowPosition; step: string; transform: string }
  | { status: 'unknown'; at: RowPosition; reason: string };

export interface TraceBranch {
  /** In the order the row went through them (raw source first). */
  hops: TraceHop[];
  end: TraceEnd;
}

/** The row indexes by oid; the op fetches what the cache lacks. */
export type IndexLoader = (oid: Oid, where: string) => Promise<RowIndexView>;

function copiesOf(index: RowIndexView, outRow: number, input: number, row: number): { copies: number; copy: number } {
  let copies = 0;
  let copy = 1;
  const dup = -outRow - 2;
  index.inputs.forEach((_, i) => {
    const f = index.fates(i);
    for (let r = 0; r < f.length; r++) {
      if (f[r] !== outRow && f[r] !== dup) continue;
      copies++;
      if (i === input && r === row) copy = copies;
    }
  });
  return { copies: Math.max(copies, 1), copy };
}

function outputPosition(index: RowIndexView, row: number): RowPosition {
  return positionOf(index.output, row, index.outputLine(row));
}

/**
 * Back from row `row` (0-based) of the graph's root to a raw source: per step, the output row's origin
 * in the index recorded for that output.
 */
export async function traceBack(graph: LineageGraph, start: TraceStart, load: IndexLoader): Promise<TraceBranch> {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const steps = new Map(graph.steps.map((s) => [s.id, s]));
  let node = nodes.get(graph.root)!;
  const hops: TraceHop[] = [];
  let at = start.at;
  let row = start.row;
  let first = true;
  for (;;) {
    if (node.origin === 'source') return { hops: hops.reverse(), end: { status: 'source', at } };
    const step = node.step ? steps.get(node.step) : undefined;
    if (!step) return { hops: hops.reverse(), end: { status: 'unknown', at, reason: 'its origin is not recorded' } };
    const out = step.outputs.find((o) => o.node === node.id);
    if (!out?.rowIndex) return { hops: hops.reverse(), end: { status: 'unknown', at, reason: `${step.transform} recorded no row index` } };
    const index = await load(out.rowIndex, `${node.path} (made by ${step.transform})`);
    if (first) {
      // The named row, as a row of the index's output (through its files for a directory).
      const r = startRow(start, index.output.files);
      if (r === undefined || r >= index.output.rows) return { hops: [], end: { status: 'unknown', at, reason: `the row index of ${node.path} has no such row` } };
      row = r;
      first = false;
    }
    at = outputPosition(index, row);
    const i = index.originInput(row);
    if (i === NO_ORIGIN) return { hops: hops.reverse(), end: { status: 'created', at, step: step.id, transform: step.transform } };
    const input = index.inputs[i];
    const origin = index.originRow(row);
    const from = positionOf(input, origin, index.inputLine(i, origin));
    hops.push({ step: step.id, transform: step.transform, params: step.params, from, to: at, ...copiesOf(index, row, i, origin), values: [] });
    const next = step.inputs.find((s) => s.path === input.path && s.oid === input.oid);
    const nextNode = next && nodes.get(next.node);
    row = origin;
    at = from;
    if (!nextNode) return { hops: hops.reverse(), end: { status: 'unknown', at, reason: 'the input version is not in the lineage graph' } };
    node = nextNode;
  }
}

/** A recorded step that read a dataset version, as the forward trace needs it. */
export interface Consumer {
  step: LineageStep;
}

/**
 * Forward from row `row` (0-based) of a version: through every current step that read it, to the final
 * datasets (kept) or to the step that dropped it. `consumers` maps `path@oid` to the steps that read it.
 */
export async function traceForward(start: TraceStart, consumers: Map<string, LineageStep[]>, load: IndexLoader): Promise<TraceBranch[]> {
  const branches: TraceBranch[] = [];
  // `rowIn` gives the row in an index's side of this version: the start's through the side's files, then each kept row's.
  const visit = async (path: string, oid: Oid, rowIn: (files: readonly FileSpan[] | undefined) => number | undefined, at: RowPosition, hops: TraceHop[], depth: number): Promise<void> => {
    const steps = consumers.get(`${path}@${oid}`) ?? [];
    if (steps.length === 0 || depth > 64) {
      branches.push({ hops, end: hops.length ? { status: 'kept', at } : { status: 'unknown', at, reason: 'no recorded transform read this version' } });
      return;
    }
    for (const step of steps) {
      // A step with several outputs (a split) drops a row only when no output kept it.
      let dropped: TraceBranch | undefined;
      let kept = false;
      for (const out of step.outputs) {
        if (!out.rowIndex) {
          branches.push({ hops, end: { status: 'unknown', at, reason: `${step.transform} recorded no row index for ${out.path}` } });
          kept = true;
          continue;
        }
        const index = await load(out.rowIndex, `${out.path} (made by ${step.transform})`);
        const i = index.inputs.findIndex((inp) => inp.path === path && inp.oid === oid);
        if (i < 0) continue;
        const input = index.inputs[i];
        const r = rowIn(input.files);
        if (r === undefined || r >= input.rows) continue;
        const from = positionOf(input, r, index.inputLine(i, r));
        const fate = index.fate(i, r);
        const base = { step: step.id, transform: step.transform, params: step.params, from, values: [] };
        if (fate >= 0) {
          kept = true;
          const to = outputPosition(index, fate);
          const hop: TraceHop = { ...base, to, ...copiesOf(index, fate, i, r) };
          await visit(out.path, out.oid, () => fate, to, [...hops, hop], depth + 1);
        } else if (!dropped || (fate <= -2 && !dropped.hops[dropped.hops.length - 1].duplicateOf)) {
          const duplicateOf = fate <= -2 ? outputPosition(index, -fate - 2) : undefined;
          const hop: TraceHop = { ...base, to: null, ...(duplicateOf ? { ...copiesOf(index, -fate - 2, i, r), duplicateOf } : { copies: 1, copy: 1 }) };
          dropped = { hops: [...hops, hop], end: { status: 'dropped', at: from, step: step.id, transform: step.transform } };
        }
      }
      if (dropped && !kept) branches.push(dropped);
    }
  };
  await visit(start.path, start.oid, (files) => startRow(start, files), start.at, [], 0);
  return branches;
}

/** A Parquet row's cells as a map of its (flattened) column names. */
function parquetRecord(names: readonly string[], values: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n, i) => [n, values[i] ?? null]));
}

/** The row at 0-based `row` of a file, as a map of its fields (CSV/TSV by header); undefined past the end or when unparsable. */
export async function readRowAt(abs: string, file: RowFile, row: number): Promise<Record<string, unknown> | undefined> {
  let found: Record<string, unknown> | undefined;
  if (!isTextFile(file)) {
    await forEachParquetRow(abs, abs, (names, values, n) => {
      if (n <= row) return;
      found = parquetRecord(names, values);
      return false;
    });
    return found;
  }
  let header: string[] = [];
  let n = 0;
  await forEachTextRecord(abs, file, (buf, s, e, _line, isHeader) => {
    if (isHeader) {
      header = splitRecord(buf.toString('utf8', s, e), file.format);
      return;
    }
    if (n++ < row) return;
    found = parseRecord(buf.toString('utf8', s, e), file.format, header);
    return false;
  });
  return found;
}

function parseRecord(text: string, format: RowFormat, header: string[]): Record<string, unknown> | undefined {
  if (format === 'jsonl') {
    try {
      const v = JSON.parse(text) as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  const cells = splitRecord(text, format);
  return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? null]));
}

function hasValue(fields: Record<string, unknown> | undefined, column: string, value: string): boolean {
  const v = fields && fieldOf(fields, column);
  return v !== undefined && v !== null && (typeof v === 'string' ? v : JSON.stringify(v)) === value;
}

/** The 1-based line where the 0-based `row` of a text file starts (after its header, blank lines, quoted line breaks). */
export async function lineOfRow(abs: string, file: RowFile, row: number): Promise<number | undefined> {
  if (!isTextFile(file)) return undefined;
  let found: number | undefined;
  let n = 0;
  await forEachTextRecord(abs, file, (_buf, _s, _e, line, isHeader) => {
    if (isHeader || n++ < row) return;
    found = line;
    return false;
  });
  return found;
}

/** The 0-based row whose `column` has `value` (as text), the first one; undefined when none has. */
export async function findRowByKey(abs: string, file: RowFile, column: string, value: string): Promise<number | undefined> {
  let found: number | undefined;
  if (!isTextFile(file)) {
    await forEachParquetRow(abs, abs, (names, values, n) => {
      if (!hasValue(parquetRecord(names, values), column, value)) return;
      found = n - 1;
      return false;
    });
    return found;
  }
  let header: string[] = [];
  let n = -1;
  await forEachTextRecord(abs, file, (buf, s, e, _line, isHeader) => {
    if (isHeader) {
      header = splitRecord(buf.toString('utf8', s, e), file.format);
      return;
    }
    n++;
    const text = buf.toString('utf8', s, e);
    // Most rows do not contain the value's text at all: skip them without parsing.
    if (!text.includes(value) && !/["\\]/.test(value)) return;
    if (hasValue(parseRecord(text, file.format, header), column, value)) {
      found = n;
      return false;
    }
  });
  return found;
}

/**
 * The fields a step's parameters name, with this row's values: a parameter named like a field
 * (`score`), or whose name ends or starts with one (`min_score`, `score_min`), or whose value is a
 * field name (`key: text`).
 */
export function paramValues(params: Record<string, ParamValue>, row: Record<string, unknown>): ParamFieldValue[] {
  const out: ParamFieldValue[] = [];
  for (const [param, value] of Object.entries(params)) {
    const parts = param.split(/[_.\-:]/).filter(Boolean);
    const candidates = [param, parts.slice(1).join('_'), parts.slice(0, -1).join('_'), ...parts, ...(typeof value === 'string' ? [value] : [])];
    for (const field of candidates) {
      if (!field) continue;
      const v = fieldOf(row, field);
      if (v === undefined) continue;
      out.push({ param, field, value: v });
      break;
    }
  }
  return out;
}
