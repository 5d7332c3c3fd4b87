import { parseDocument, type Document } from 'yaml';
import { canonicalHash } from '../audit/canonical.js';
import { DvsError } from '../errors.js';
import { formatOid, isOid, type Oid } from '../objects/oid.js';
import type { DataKind } from '../pointer/format.js';
import type { ParamValue } from '../lineage/params.js';

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
    throw new DvsError('usage', 'INVALID_RUN_ID', `Invalid run id "${id}": use letters, digits, ".", "_" and "-" (at most 100, starting with a letter or digit)`, {
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
  const doc = parseDocument('');
  doc.contents = doc.createNode(stored) as never;
  doc.commentBefore = RUN_HEADER;
  return doc.toString();
}

function bad(file: string, reason: string): DvsError {
  return new DvsError('input', 'RUN_RECORD_INVALID', `${file}: ${reason}`, {
    hint: `Restore it from Git (git checkout -- ${file}).`,
    data: { file },
  });
}

function parseOid(v: unknown, file: string, where: string): Oid {
  const hex = typeof v === 'string' && v.startsWith('sha256:') ? v.slice(7) : undefined;
  if (!isOid(hex)) throw bad(file, `${where}: oid must be "sha256:<64 hex digits>"`);
  return hex;
}

const numOrNull = (v: unknown) => (typeof v === 'number' ? v : null);

/** Parse a record's text; `file` names it in errors, `id` is what its file name says. */
export function parseRun(text: string, file: string, id: string, commit?: string): LoadedRun {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw bad(file, `not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const o = doc.toJS() as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw bad(file, 'a run record must be a YAML map');
  if (o.version !== RUN_VERSION) throw bad(file, `unsupported version ${JSON.stringify(o.version)} (this dvs reads version ${RUN_VERSION})`);
  if (o.id !== id) throw bad(file, `its id ${JSON.stringify(o.id)} does not match its file name`);
  if (!Array.isArray(o.datasets)) throw bad(file, 'datasets must be a list');
  const datasets: RunDataset[] = o.datasets.map((d: unknown, i: number) => {
    const x = (d ?? {}) as Record<string, unknown>;
    if (typeof x.path !== 'string') throw bad(file, `datasets[${i}]: path missing`);
    const ds: RunDataset = {
      path: x.path,
      kind: x.kind === 'dir' ? 'dir' : 'file',
      oid: parseOid(x.oid, file, `datasets[${i}]`),
      size: typeof x.size === 'number' ? x.size : 0,
      rows: numOrNull(x.rows),
      lineage: Array.isArray(x.lineage)
        ? x.lineage.map((s: Record<string, unknown>, j: number) => ({
            step: String(s?.step ?? ''),
            transform: String(s?.transform ?? ''),
            params: (s?.params && typeof s.params === 'object' ? s.params : {}) as Record<string, ParamValue>,
            rowsIn: numOrNull(s?.rowsIn),
            rowsOut: numOrNull(s?.rowsOut),
            inputs: (Array.isArray(s?.inputs) ? s.inputs : []).map((io: Record<string, unknown>) => ({ path: String(io?.path), oid: parseOid(io?.oid, file, `datasets[${i}].lineage[${j}]`), rows: numOrNull(io?.rows) })),
            outputs: (Array.isArray(s?.outputs) ? s.outputs : []).map((io: Record<string, unknown>) => ({ path: String(io?.path), oid: parseOid(io?.oid, file, `datasets[${i}].lineage[${j}]`), rows: numOrNull(io?.rows) })),
          }))
        : [],
    };
    if (typeof x.files === 'number') ds.files = x.files;
    if (x.staleLineage === true) ds.staleLineage = true;
    return ds;
  });
  const code = (o.code ?? {}) as Record<string, unknown>;
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries((o.metrics ?? {}) as Record<string, unknown>)) if (typeof v === 'number') metrics[k] = v;
  const record: RunRecord = {
    id,
    model: String(o.model ?? ''),
    status: o.status === 'finished' ? 'finished' : 'running',
    started: String(o.started ?? ''),
    finished: typeof o.finished === 'string' ? o.finished : null,
    duration: numOrNull(o.duration),
    user: String(o.user ?? ''),
    host: String(o.host ?? ''),
    code: {
      commit: typeof code.commit === 'string' ? code.commit : null,
      branch: typeof code.branch === 'string' ? code.branch : null,
      dirty: code.dirty === true,
      changes: Array.isArray(code.changes) ? code.changes.map(String) : [],
    },
    datasets,
    params: (o.params && typeof o.params === 'object' ? o.params : {}) as Record<string, ParamValue>,
    hardware: (o.hardware ?? {}) as RunHardware,
    metrics,
  };
  return { record, doc, hash: hashStored(o), file, commit };
}
