import type { Document } from 'yaml';
import { yaml } from '../base/yaml-lib.js';
import { canonicalHash } from '../audit/canonical.js';
import { DvsError } from '../errors.js';
import { formatOid, isOid, type Oid } from '../objects/oid.js';
import type { DataKind } from '../pointer/format.js';
import type { ParamValue } from '../lineage/params.js';
import { Fields, isObj, nonFiniteAt } from '../base/fields.js';
import { parseYamlSafely, quote, type TextSource } from '../base/safe-yaml.js';

/**
 * A training run: which model, trained on which exact dataset versions, with which code, parameters and
 * hardware, and what metrics came out. Stored as committed YAML at `.dvs/runs/<id>.yaml`
 * (docs/runs.md), so runs from any branch are read from Git's objects.
 */
export const RUNS_DIR = '.dvs/runs';
export const RUN_VERSION = 1;
export const RUN_HEADER = ' dvs run record: committed with the repository. See docs/runs.md for the format.\n Edits to the keys below are detected: `dvs run show` and `dvs audit verify` compare them with the\n hash the audit trail recorded.';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function runPath(id: string): string {
  return `${RUNS_DIR}/${id}.yaml`;
}

export function checkRunId(id: string): void {
  if (!ID.test(id) || id.endsWith('.yaml')) {
    throw new DvsError('INVALID_RUN_ID', `Invalid run id "${id}": use letters, digits, ".", "_" and "-" (at most 100, starting with a letter or digit)`, {
      hint: 'For example: dvs run start run-42 --model tiny-lm',
      data: { id },
    });
  }
}

/** One step of a dataset's lineage as it was when the run started. */
export interface RunLineageStep {
  step: string;
  transform: string;
  params: Record<string, ParamValue>;
  rowsIn: number | null;
  rowsOut: number | null;
  inputs: Array<{ path: string; oid: Oid; rows: number | null }>;
  outputs: Array<{ path: string; oid: Oid; rows: number | null }>;
}

export interface RunDataset {
  path: string;
  kind: DataKind;
  oid: Oid;
  size: number;
  files?: number;
  rows: number | null;
  /** The dataset's lineage, nearest step first; empty for raw data. */
  lineage: RunLineageStep[];
  /** Set when the lineage was stale at start (an input changed after its transform ran). */
  staleLineage?: boolean;
}

export interface RunHardware {
  platform: string;
  os: string;
  cpu: string;
  cores: number;
  /** Bytes. */
  memory: number;
  /** Null when no tool to list GPUs was found (nvidia-smi). */
  gpus: Array<{ name: string; memory: string | null }> | null;
  node: string;
}

export interface RunRecord {
  id: string;
  model: string;
  status: 'running' | 'finished';
  started: string;
  finished: string | null;
  /** Seconds from start to finish. */
  duration: number | null;
  user: string;
  host: string;
  code: { commit: string | null; branch: string | null; dirty: boolean; changes: string[] };
  datasets: RunDataset[];
  params: Record<string, ParamValue>;
  hardware: RunHardware;
  metrics: Record<string, number>;
}

const KEYS = ['version', 'id', 'model', 'status', 'started', 'finished', 'duration', 'user', 'host', 'code', 'datasets', 'params', 'hardware', 'metrics'] as const;

const ioStored = (io: { path: string; oid: Oid; rows: number | null }) => ({ path: io.path, oid: formatOid(io.oid), rows: io.rows });

/** The record as stored (key order of docs/runs.md; oids as "sha256:<hex>"). */
export function runToStored(r: RunRecord): Record<string, unknown> {
  return {
    version: RUN_VERSION,
    id: r.id,
    model: r.model,
    status: r.status,
    started: r.started,
    finished: r.finished,
    duration: r.duration,
    user: r.user,
    host: r.host,
    code: r.code,
    datasets: r.datasets.map((d) => {
      const o: Record<string, unknown> = { path: d.path, kind: d.kind, oid: formatOid(d.oid), size: d.size };
      if (d.files !== undefined) o.files = d.files;
      o.rows = d.rows;
      if (d.staleLineage) o.staleLineage = true;
      o.lineage = d.lineage.map((s) => ({ step: s.step, transform: s.transform, params: s.params, rowsIn: s.rowsIn, rowsOut: s.rowsOut, inputs: s.inputs.map(ioStored), outputs: s.outputs.map(ioStored) }));
      return o;
    }),
    params: r.params,
    hardware: r.hardware,
    metrics: r.metrics,
  };
}

/**
 * The hash the audit trail keeps for a record: over the canonical JSON of the keys dvs writes, so
 * comments and keys added by hand (notes) may change, while every recorded value is covered.
 */
export function hashStored(stored: Record<string, unknown>): string {
  const covered: Record<string, unknown> = {};
  for (const k of KEYS) covered[k] = stored[k] ?? null;
  return canonicalHash(covered);
}

export function runHash(r: RunRecord): string {
  return hashStored(runToStored(r));
}

/** A parsed run record with its document (for rewriting) and the hash of what it holds now. */
export interface LoadedRun {
  record: RunRecord;
  doc: Document;
  hash: string;
  /** Where it was read: the repository path, and the commit when read from Git. */
  file: string;
  commit?: string;
}

export function serializeRun(r: RunRecord, previous?: Document): string {
  const stored = runToStored(r);
  if (previous) {
    for (const k of KEYS) previous.set(k, previous.createNode(stored[k]));
    return previous.toString();
  }
  const doc = yaml().parseDocument('');
  doc.contents = doc.createNode(stored) as never;
  doc.commentBefore = RUN_HEADER;
  return doc.toString();
}

/** How a run record is read: at most 1 MiB, no anchors or aliases, nesting at most 32 deep. */
export function runSource(file: string): TextSource {
  return { where: file, code: 'RUN_RECORD', what: 'a run record', hint: `Restore it from Git (git checkout -- ${file}).` };
}

function bad(file: string, reason: string): DvsError {
  return new DvsError('RUN_RECORD_INVALID', `${file}: ${reason}`, {
    hint: runSource(file).hint,
    data: { file, path: file, reason: 'shape' },
  });
}

function oidOf(f: Fields, file: string): Oid {
  const v = f.value.oid;
  const hex = typeof v === 'string' && v.startsWith('sha256:') ? v.slice(7) : undefined;
  if (!isOid(hex)) throw bad(file, `${f.at}.oid must be "sha256:<64 hex digits>", not ${quote(v)}`);
  return hex;
}

function parseStepIO(f: Fields, file: string): { path: string; oid: Oid; rows: number | null } {
  return { path: f.required('path'), oid: oidOf(f, file), rows: f.countOrNull('rows') };
}

function parseStep(f: Fields, file: string): RunLineageStep {
  return {
    step: f.str('step'),
    transform: f.str('transform'),
    params: f.scalars('params'),
    rowsIn: f.countOrNull('rowsIn'),
    rowsOut: f.countOrNull('rowsOut'),
    inputs: f.maps('inputs').map((io) => parseStepIO(io, file)),
    outputs: f.maps('outputs').map((io) => parseStepIO(io, file)),
  };
}

function parseDataset(f: Fields, file: string): RunDataset {
  const ds: RunDataset = {
    path: f.required('path'),
    kind: f.oneOf<DataKind>('kind', ['file', 'dir'], 'file'),
    oid: oidOf(f, file),
    size: f.count('size'),
    rows: f.countOrNull('rows'),
    lineage: f.maps('lineage').map((s) => parseStep(s, file)),
  };
  if (f.has('files')) ds.files = f.count('files');
  if (f.bool('staleLineage')) ds.staleLineage = true;
  return ds;
}

function parseHardware(f: Fields): RunHardware {
  return {
    platform: f.str('platform'),
    os: f.str('os'),
    cpu: f.str('cpu'),
    cores: f.count('cores'),
    memory: f.count('memory'),
    gpus: f.has('gpus') ? f.maps('gpus').map((g) => ({ name: g.str('name'), memory: g.strOrNull('memory') })) : null,
    node: f.str('node'),
  };
}

/**
 * Parse a record's text; `file` names it in errors, `id` is what its file name says. Members that are
 * absent take their defaults; a member of the wrong type is refused (RUN_RECORD_INVALID), so everything
 * that shows or compares runs can rely on the types of RunRecord.
 */
export function parseRun(text: string, file: string, id: string, commit?: string): LoadedRun {
  const { doc } = parseYamlSafely(text, runSource(file));
  const o = doc.toJS() as unknown;
  if (!isObj(o)) throw bad(file, 'a run record must be a YAML map');
  if (o.version !== RUN_VERSION) throw bad(file, `unsupported version ${quote(o.version)} (this dvs reads version ${RUN_VERSION})`);
  if (o.id !== id) throw bad(file, `its id ${quote(o.id)} does not match its file name`);
  const f = Fields.of(o, '', (message) => bad(file, message), true);
  const code = f.map('code');
  const record: RunRecord = {
    id,
    model: f.str('model'),
    status: f.oneOf('status', ['running', 'finished'] as const, 'running'),
    started: f.str('started'),
    finished: f.strOrNull('finished'),
    duration: f.numOrNull('duration'),
    user: f.str('user'),
    host: f.str('host'),
    code: { commit: code.strOrNull('commit'), branch: code.strOrNull('branch'), dirty: code.bool('dirty'), changes: code.strings('changes') },
    datasets: f.maps('datasets', true).map((d) => parseDataset(d, file)),
    params: f.scalars('params'),
    hardware: parseHardware(f.map('hardware')),
    metrics: f.numbers('metrics'),
  };
  const covered = Object.fromEntries(KEYS.map((k) => [k, o[k]]));
  const infinite = nonFiniteAt(covered);
  if (infinite) throw bad(file, `${infinite} is not a finite number`);
  return { record, doc, hash: hashStored(o), file, commit };
}
