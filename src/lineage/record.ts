import { yaml } from '../base/yaml-lib.js';
import { canonicalHash } from '../audit/canonical.js';
import { DvsError } from '../errors.js';
import { formatOid, isOid, type Oid } from '../objects/oid.js';
import { Fields, isObj } from '../base/fields.js';
import { quote } from '../base/safe-yaml.js';
import { pointerHasKey, type DataKind, type Pointer } from '../pointer/format.js';
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
  /** Outputs: the cache object holding the row index (docs/lineage.md), when one was recorded. */
  rowIndex?: Oid;
}

export interface LineageRecord {
  /** The transform's type, e.g. "filter", "dedup". */
  transform: string;
  params: Record<string, ParamValue>;
  /**
   * The params-file sections (`params.yaml:filter`) some of `params` were read from, so `dvs repro` can
   * read them again and tell a changed value. Absent when every parameter came from `--param`.
   */
  paramsFrom?: string[];
  /** The argument vector run by `dvs transform`; the text given to `dvs lineage record --command`. */
  command: string[] | string | null;
  /** The directory the command ran in, relative to the repository root; absent for the root itself. */
  cwd?: string;
  /**
   * The column declared with `--row-id`: the transform keeps it, so rows are named by its value in the
   * row indexes, `dvs repro` passes it again and `--key` on it needs no data. Absent when not declared.
   */
  rowId?: string;
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
  if (io.rowIndex) o.row_index = formatOid(io.rowIndex);
  return o;
}

/** The record as written in YAML (keys in this order; oids as "sha256:<hex>"). */
export function lineageToStored(r: LineageRecord): Record<string, unknown> {
  // Optional keys are written only when set, so records without them keep the hash they always had.
  return {
    transform: r.transform,
    params: r.params,
    ...(r.paramsFrom?.length ? { params_from: r.paramsFrom } : {}),
    command: r.command,
    ...(r.cwd ? { cwd: r.cwd } : {}),
    ...(r.rowId !== undefined ? { row_id: r.rowId } : {}),
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

/** A lineage record that cannot be read; `reason` says why, without the pointer's name. */
export class LineageFormatError extends DvsError {
  constructor(readonly reason: string, where = 'lineage') {
    super('LINEAGE_INVALID', `${where}: ${reason}`, {
      hint: 'Re-run the transform (dvs transform) or re-record it (dvs lineage record) to write a new record.',
      data: { path: where, reason: 'shape' },
    });
  }
}

/** Records come from Git: a path that leaves the repository is refused before anything reads it. */
export function isPlainRelative(path: string): boolean {
  return !(path === '' || path.startsWith('/') || path.split('/').some((seg) => seg === '..' || seg === '.' || seg === ''));
}

function parseIO(f: Fields, fail: (reason: string) => LineageFormatError): LineageIO {
  const oid = typeof f.value.oid === 'string' && f.value.oid.startsWith('sha256:') ? f.value.oid.slice(7) : undefined;
  const path = f.value.path;
  if (typeof path !== 'string' || !isOid(oid)) throw fail(`${f.at} needs a path and an oid "sha256:<hex>"`);
  if (!isPlainRelative(path)) {
    throw fail(`${f.at}: path ${quote(path)} is not a plain relative path inside the repository`);
  }
  const io: LineageIO = { path, oid, kind: f.oneOf<DataKind>('kind', ['file', 'dir'], 'file'), size: f.count('size'), rows: f.countOrNull('rows') };
  if (f.has('files')) io.files = f.count('files');
  const rowIndex = f.value.row_index;
  if (rowIndex !== undefined && rowIndex !== null) {
    const hex = typeof rowIndex === 'string' && rowIndex.startsWith('sha256:') ? rowIndex.slice(7) : undefined;
    if (!isOid(hex)) throw fail(`${f.at}.row_index must be "sha256:<hex>", not ${quote(rowIndex)}`);
    io.rowIndex = hex;
  }
  return io;
}

/**
 * Parse the stored form; throws LineageFormatError naming what is wrong. Members that are absent take
 * their defaults; a member of the wrong type makes the record unreadable (the pointer stays valid).
 */
export function parseLineage(value: unknown, where = 'lineage'): LineageRecord {
  const fail = (reason: string) => new LineageFormatError(reason, where);
  if (!isObj(value)) throw fail('lineage must be a map');
  const f = Fields.of(value, 'lineage', fail, true);
  if (typeof value.transform !== 'string' || value.transform === '') throw fail('lineage.transform must be a name');
  if (!Array.isArray(value.inputs) || !Array.isArray(value.outputs)) throw fail('lineage.inputs and lineage.outputs must be lists');
  const command = value.command;
  if (!(command === undefined || command === null || typeof command === 'string' || (Array.isArray(command) && command.every((a) => typeof a === 'string')))) {
    throw fail(`lineage.command must be a list of arguments or a text, not ${quote(command)}`);
  }
  const paramsFrom = value.params_from;
  if (paramsFrom !== undefined && !(Array.isArray(paramsFrom) && paramsFrom.every((p) => typeof p === 'string' && p !== ''))) {
    throw fail(`lineage.params_from must be a list of "file:key" texts, not ${quote(paramsFrom)}`);
  }
  const cwd = value.cwd;
  if (cwd !== undefined && !(typeof cwd === 'string' && isPlainRelative(cwd))) throw fail(`lineage.cwd must be a plain relative directory, not ${quote(cwd)}`);
  const rowId = value.row_id;
  if (rowId !== undefined && !(typeof rowId === 'string' && rowId !== '')) throw fail(`lineage.row_id must be a column name, not ${quote(rowId)}`);
  return {
    transform: value.transform,
    params: f.scalars('params'),
    ...(paramsFrom?.length ? { paramsFrom: paramsFrom as string[] } : {}),
    command: command === undefined ? null : (command as LineageRecord['command']),
    ...(cwd ? { cwd } : {}),
    ...(rowId !== undefined ? { rowId } : {}),
    inputs: f.maps('inputs').map((io) => parseIO(io, fail)),
    outputs: f.maps('outputs').map((io) => parseIO(io, fail)),
    started: f.str('started'),
    duration: f.numOrNull('duration'),
    user: f.str('user'),
    host: f.str('host'),
    commit: f.strOrNull('commit'),
    dirty: f.bool('dirty'),
    ran: f.oneOf('ran', ['here', 'elsewhere'] as const, 'here'),
  };
}

export type PointerLineage = { record: LineageRecord; error?: undefined } | { record?: undefined; error: string } | { record?: undefined; error?: undefined };

/** The lineage a pointer carries: a record, an error saying why it cannot be read, or nothing. */
export function lineageOf(pointer: Pointer): PointerLineage {
  // Asked first without the YAML document: a canonical pointer without lineage (most of them) is answered
  // from the keys its quick parse saw, and `dvs diff` need not load the YAML library at all.
  if (!pointerHasKey(pointer, LINEAGE_KEY)) return {};
  const node = pointer.doc.get(LINEAGE_KEY, true);
  if (node === undefined || node === null) return {};
  try {
    return { record: parseLineage((pointer.doc.toJS() as Record<string, unknown>)[LINEAGE_KEY]) };
  } catch (err) {
    if (err instanceof LineageFormatError) return { error: err.reason };
    throw err;
  }
}

/** Rewrite a pointer with `record` under `lineage:`, keeping its comments and other keys. */
export function writeLineage(root: string, pointerPath: string, pointer: Pointer, record: LineageRecord): void {
  const doc = pointer.doc;
  const node = doc.createNode(lineageToStored(record));
  // Short argument vectors read best on one line: command: [ node, filter.mjs, --min, "0.5" ]
  const { isMap, isSeq } = yaml();
  if (isMap(node) && Array.isArray(record.command) && JSON.stringify(record.command).length <= 72) {
    const command = node.get('command', true);
    if (isSeq(command)) command.flow = true;
  }
  doc.set(LINEAGE_KEY, node);
  writePointer(root, pointerPath, pointer, pointer);
}
