import { isMap, isSeq } from 'yaml';
import { canonicalHash } from '../audit/canonical.js';
import { formatOid, isOid, type Oid } from '../objects/oid.js';
import type { DataKind, Pointer } from '../pointer/format.js';
import { writePointer } from '../pointer/io.js';
import type { ParamValue } from './params.js';

/**
 * A lineage record says how a dataset version was made: by which transform, with which parameters and
 * command, from which exact input versions. It lives under the `lineage:` key of each output's pointer
 * (docs/lineage.md), so any revision's lineage is read from Git alone, and `git log` on a pointer is
 * the history of how its data was made.
 */
export const LINEAGE_KEY = 'lineage';

/** One input or output of a transform, at the version it had. */
export interface LineageIO {
  path: string;
  oid: Oid;
  kind: DataKind;
  size: number;
  /** Directories: number of files. */
  files?: number;
  /** Data rows of tabular data (summed over a directory's tabular files); null when not tabular. */
  rows: number | null;
}

export interface LineageRecord {
  /** The transform's type, e.g. "filter", "dedup". */
  transform: string;
  params: Record<string, ParamValue>;
  /** The argument vector run by `dvs transform`; the text given to `dvs lineage record --command`. */
  command: string[] | string | null;
  inputs: LineageIO[];
  outputs: LineageIO[];
  /** ISO 8601 UTC. */
  started: string;
  /** Seconds, or null when not known. */
  duration: number | null;
  user: string;
  host: string;
  /** The code commit (HEAD) the transform ran at, and whether tracked files differed from it. */
  commit: string | null;
  dirty: boolean;
  /** `here`: run by `dvs transform`; `elsewhere`: recorded by `dvs lineage record`. */
  ran: 'here' | 'elsewhere';
}

function ioToStored(io: LineageIO): Record<string, unknown> {
  const o: Record<string, unknown> = { path: io.path, oid: formatOid(io.oid), kind: io.kind, size: io.size };
  if (io.files !== undefined) o.files = io.files;
  o.rows = io.rows;
  return o;
}

/** The record as written in YAML (keys in this order; oids as "sha256:<hex>"). */
export function lineageToStored(r: LineageRecord): Record<string, unknown> {
  return {
    transform: r.transform,
    params: r.params,
    command: r.command,
    inputs: r.inputs.map(ioToStored),
    outputs: r.outputs.map(ioToStored),
    started: r.started,
    duration: r.duration,
    user: r.user,
    host: r.host,
    commit: r.commit,
    dirty: r.dirty,
    ran: r.ran,
  };
}

/** The hash audit events carry for a lineage record (over its canonical JSON). */
export function lineageHash(r: LineageRecord): string {
  return canonicalHash(lineageToStored(r));
}

export class LineageFormatError extends Error {}

function parseIO(v: unknown, where: string): LineageIO {
  if (!v || typeof v !== 'object') throw new LineageFormatError(`${where} must be a map`);
  const o = v as Record<string, unknown>;
  const oid = typeof o.oid === 'string' && o.oid.startsWith('sha256:') ? o.oid.slice(7) : undefined;
  if (typeof o.path !== 'string' || !isOid(oid)) throw new LineageFormatError(`${where} needs a path and an oid "sha256:<hex>"`);
  // Records come from Git: a path that leaves the repository is refused before anything reads it.
  if (o.path === '' || o.path.startsWith('/') || o.path.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) {
    throw new LineageFormatError(`${where}: path "${o.path}" is not a plain relative path inside the repository`);
  }
  const io: LineageIO = {
    path: o.path,
    oid,
    kind: o.kind === 'dir' ? 'dir' : 'file',
    size: typeof o.size === 'number' ? o.size : 0,
    rows: typeof o.rows === 'number' ? o.rows : null,
  };
  if (typeof o.files === 'number') io.files = o.files;
  return io;
}

/** Parse the stored form; throws LineageFormatError naming what is wrong. */
export function parseLineage(value: unknown): LineageRecord {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new LineageFormatError('lineage must be a map');
  const o = value as Record<string, unknown>;
  if (typeof o.transform !== 'string' || o.transform === '') throw new LineageFormatError('lineage.transform must be a name');
  if (!Array.isArray(o.inputs) || !Array.isArray(o.outputs)) throw new LineageFormatError('lineage.inputs and lineage.outputs must be lists');
  const params = o.params && typeof o.params === 'object' && !Array.isArray(o.params) ? (o.params as Record<string, ParamValue>) : {};
  const command = Array.isArray(o.command) ? o.command.map(String) : typeof o.command === 'string' ? o.command : null;
  return {
    transform: o.transform,
    params,
    command,
    inputs: o.inputs.map((x, i) => parseIO(x, `lineage.inputs[${i}]`)),
    outputs: o.outputs.map((x, i) => parseIO(x, `lineage.outputs[${i}]`)),
    started: typeof o.started === 'string' ? o.started : '',
    duration: typeof o.duration === 'number' ? o.duration : null,
    user: typeof o.user === 'string' ? o.user : '',
    host: typeof o.host === 'string' ? o.host : '',
    commit: typeof o.commit === 'string' ? o.commit : null,
    dirty: o.dirty === true,
    ran: o.ran === 'elsewhere' ? 'elsewhere' : 'here',
  };
}

export type PointerLineage = { record: LineageRecord; error?: undefined } | { record?: undefined; error: string } | { record?: undefined; error?: undefined };

/** The lineage a pointer carries: a record, an error saying why it cannot be read, or nothing. */
export function lineageOf(pointer: Pointer): PointerLineage {
  const node = pointer.doc.get(LINEAGE_KEY, true);
  if (node === undefined || node === null) return {};
  try {
    return { record: parseLineage((pointer.doc.toJS() as Record<string, unknown>)[LINEAGE_KEY]) };
  } catch (err) {
    if (err instanceof LineageFormatError) return { error: err.message };
    throw err;
  }
}

/** Rewrite a pointer with `record` under `lineage:`, keeping its comments and other keys. */
export function writeLineage(root: string, pointerPath: string, pointer: Pointer, record: LineageRecord): void {
  const doc = pointer.doc;
  const node = doc.createNode(lineageToStored(record));
  // Short argument vectors read best on one line: command: [ node, filter.mjs, --min, "0.5" ]
  if (isMap(node) && Array.isArray(record.command) && JSON.stringify(record.command).length <= 72) {
    const command = node.get('command', true);
    if (isSeq(command)) command.flow = true;
  }
  doc.set(LINEAGE_KEY, node);
  writePointer(root, pointerPath, pointer, pointer);
}
