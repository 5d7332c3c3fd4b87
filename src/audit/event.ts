import { formatOid, isOid, type Oid } from '../objects/oid.js';
import type { DataKind } from '../pointer/format.js';
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
  | 'remove'
  | 'gc'
  | 'push'
  | 'pull'
  | 'fetch'
  | 'transform'
  | 'lineage-record'
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

export class EventFormatError extends Error {}

/** Parse an event file. Throws EventFormatError with the reason when it is not a well-formed event. */
export function parseEvent(text: string, file: string): AuditEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EventFormatError(`not valid JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new EventFormatError('not a JSON object');
  const o = raw as Record<string, unknown>;
  const need = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(o[key])) throw new EventFormatError(`"${key}" must be ${what}`);
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
  if (unknown.length) throw new EventFormatError(`unknown member "${unknown[0]}" (version ${AUDIT_VERSION} events have no such member)`);
  const paths = (o.paths as unknown[]).map((p, i) => {
    if (!p || typeof p !== 'object') throw new EventFormatError(`paths[${i}] must be a map`);
    const q = p as Record<string, unknown>;
    const oid = typeof q.oid === 'string' && q.oid.startsWith('sha256:') ? q.oid.slice(7) : undefined;
    if (typeof q.path !== 'string' || !isOid(oid)) throw new EventFormatError(`paths[${i}] needs a path and an oid "sha256:<hex>"`);
    return { ...(q as object), path: q.path, oid } as AuditPath;
  });
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
