import { formatOid, isOid, type Oid } from '../objects/oid.js';
import type { DataKind } from '../pointer/format.js';
import { DvsError, type ErrorCode } from '../errors.js';
import { nonFiniteAt } from '../base/fields.js';
import { parseJsonSafely, quote, type TextSource } from '../base/safe-yaml.js';
import { canonicalHash, canonicalJson } from './canonical.js';

/**
 * The audit trail: one committed JSON file per event under `.dvs/audit/`, specified in docs/audit.md.
 * Each event names the events it follows (`prev`, the trail's heads when it was written) by their hash,
 * so the trail is a hash-linked DAG: two branches that both appended merge as two new files, and the
 * next event joins both heads.
 */
export const AUDIT_DIR = '.dvs/audit';
export const AUDIT_VERSION = 1;

/** Operations that change what data a repository or remote holds. Others may add types. */
export type AuditEventType =
  | 'track'
  | 'checkpoint'
  | 'remove'
  | 'move'
  | 'gc'
  | 'push'
  | 'pull'
  | 'fetch'
  | 'transform'
  | 'lineage-record'
  | 'repro-restore'
  | 'import'
  | 'update'
  | 'run-start'
  | 'run-finish';

/** A dataset version an event is about. */
export interface AuditPath {
  /** Data path relative to the repository root, e.g. "data/train". */
  path: string;
  oid: Oid;
  kind?: DataKind;
  size?: number;
  /** For transforms and runs: how the event used the data. */
  role?: 'input' | 'output' | 'dataset';
}

/** What a caller supplies; who, where, when, the commit and the chain links are filled in. */
export interface AuditEventInput {
  type: AuditEventType;
  paths?: AuditPath[];
  /** Small, JSON-serialisable details (remote name, object counts, run id, record hash). */
  data?: Record<string, unknown>;
}

export interface AuditEvent {
  v: number;
  /** Depth in the DAG: 1 + the largest `seq` among `prev` (1 for a first event). */
  seq: number;
  type: string;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  user: string;
  host: string;
  /** HEAD when the event was written (the commit that carries the event comes later). */
  commit: string | null;
  paths: AuditPath[];
  data: Record<string, unknown>;
  /** Hashes of the events this one follows (the heads of the trail when it was written). */
  prev: string[];
  /** SHA-256 of the canonical JSON of every other member (oids written as "sha256:<hex>"). */
  hash: string;
  /** Repository path of the file it was read from. */
  file: string;
}

/** The members that are hashed and stored, in their stored form. */
export function storedForm(e: Omit<AuditEvent, 'hash' | 'file'>): Record<string, unknown> {
  return {
    v: e.v,
    seq: e.seq,
    type: e.type,
    time: e.time,
    user: e.user,
    host: e.host,
    commit: e.commit,
    paths: e.paths.map((p) => ({ ...p, oid: formatOid(p.oid) })),
    data: e.data,
    prev: e.prev,
  };
}

export function hashEvent(e: Omit<AuditEvent, 'hash' | 'file'>): string {
  return canonicalHash(storedForm(e));
}

/** The file's bytes: the canonical JSON of the stored form plus its hash, and a newline. */
export function serializeEvent(e: Omit<AuditEvent, 'file'>): string {
  return canonicalJson({ ...storedForm(e), hash: e.hash }) + '\n';
}

/** `20240513T101502123Z-<first 16 hex of the hash>.json`: sorts by time, names the content. */
export function eventFileName(time: string, hash: string): string {
  return `${time.replace(/[-:.]/g, '')}-${hash.slice(0, 16)}.json`;
}

const STORED_KEYS = new Set(['v', 'seq', 'type', 'time', 'user', 'host', 'commit', 'paths', 'data', 'prev', 'hash']);

/** How an event file is read: at most 1 MiB of JSON, nested at most 32 deep. */
export function eventSource(file: string): TextSource {
  return { where: file, code: 'AUDIT_EVENT', what: 'an audit event', hint: 'Run `dvs audit verify` to see which events are affected, then restore the file from Git.' };
}

/** A file that is not a well-formed event; `reason` says why, without the file's name. */
export class EventFormatError extends DvsError {
  constructor(readonly reason: string, file: string, code: ErrorCode = 'AUDIT_EVENT_INVALID') {
    super(code, `${file}: not a valid audit event: ${reason}`, { hint: eventSource(file).hint, data: { path: file, reason: 'shape', detail: reason } });
  }
}

/** An input refusal about an event file (too large, not a file, too deep) as an EventFormatError. */
export function asEventFormatError(err: unknown, file: string): unknown {
  if (err instanceof EventFormatError || !(err instanceof DvsError) || err.kind !== 'input') return err;
  return new EventFormatError(typeof err.data?.detail === 'string' ? err.data.detail : err.message, file, err.code);
}

const PATH_ROLES = new Set(['input', 'output', 'dataset']);

function parsePath(p: unknown, i: number, fail: (reason: string) => Error): AuditPath {
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw fail(`paths[${i}] must be a map`);
  const q = p as Record<string, unknown>;
  const oid = typeof q.oid === 'string' && q.oid.startsWith('sha256:') ? q.oid.slice(7) : undefined;
  if (typeof q.path !== 'string' || !isOid(oid)) throw fail(`paths[${i}] needs a path and an oid "sha256:<hex>"`);
  if (q.kind !== undefined && q.kind !== 'file' && q.kind !== 'dir') throw fail(`paths[${i}].kind must be "file" or "dir"`);
  if (q.size !== undefined && !(Number.isSafeInteger(q.size) && (q.size as number) >= 0)) throw fail(`paths[${i}].size must be a non-negative integer`);
  if (q.role !== undefined && !PATH_ROLES.has(q.role as string)) throw fail(`paths[${i}].role must be input, output or dataset`);
  return { ...(q as object), path: q.path, oid } as AuditPath;
}

/** Parse an event file. Throws EventFormatError with the reason when it is not a well-formed event. */
export function parseEvent(text: string, file: string): AuditEvent {
  let raw: unknown;
  try {
    raw = parseJsonSafely(text, eventSource(file));
  } catch (err) {
    throw asEventFormatError(err, file);
  }
  const fail = (reason: string) => new EventFormatError(reason, file);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fail('not a JSON object');
  const o = raw as Record<string, unknown>;
  const need = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(o[key])) throw fail(`"${key}" must be ${what}`);
  };
  const isHash = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  need('v', (v) => v === AUDIT_VERSION, `${AUDIT_VERSION}`);
  need('seq', (v) => Number.isSafeInteger(v) && (v as number) >= 1, 'a positive integer');
  for (const k of ['type', 'time', 'user', 'host']) need(k, (v) => typeof v === 'string' && v !== '', 'a string');
  need('commit', (v) => v === null || (typeof v === 'string' && /^[0-9a-f]{40,64}$/.test(v)), 'a commit id or null');
  need('paths', Array.isArray, 'a list');
  need('data', (v) => !!v && typeof v === 'object' && !Array.isArray(v), 'a map');
  need('prev', (v) => Array.isArray(v) && v.every(isHash), 'a list of event hashes');
  need('hash', isHash, '64 hex digits');
  const unknown = Object.keys(o).filter((k) => !STORED_KEYS.has(k));
  if (unknown.length) throw fail(`unknown member ${quote(unknown[0])} (version ${AUDIT_VERSION} events have no such member)`);
  const paths = (o.paths as unknown[]).map((p, i) => parsePath(p, i, fail));
  const infinite = nonFiniteAt(o);
  if (infinite) throw fail(`${infinite} is not a finite number`);
  return {
    v: o.v as number,
    seq: o.seq as number,
    type: o.type as string,
    time: o.time as string,
    user: o.user as string,
    host: o.host as string,
    commit: o.commit as string | null,
    paths,
    data: o.data as Record<string, unknown>,
    prev: o.prev as string[],
    hash: o.hash as string,
    file,
  };
}

/** "track by Test User <…> at 2024-05-13 10:15:02" — names an event in messages. */
export function describeEvent(e: Pick<AuditEvent, 'type' | 'user' | 'time'>): string {
  return `${e.type} by ${e.user} at ${e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`;
}
