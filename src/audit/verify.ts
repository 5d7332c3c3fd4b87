import { describeEvent, eventFileName, hashEvent, type AuditEvent } from './event.js';
import { headsOf, sortEvents, type LoadedTrail } from './store.js';

export type AuditProblemCode =
  | 'UNREADABLE' // the file is not a well-formed event
  | 'HASH_MISMATCH' // the content does not hash to the hash it carries: edited
  | 'NAME_MISMATCH' // the file name does not match the content's time and hash: renamed or replaced
  | 'MISSING_PREV' // names a predecessor that is not in the trail: an event was deleted
  | 'SEQ_MISMATCH' // depth does not follow from its predecessors: links rewritten
  | 'DELETED' // committed at a revision the trail must contain, missing now
  | 'CHANGED' // committed at that revision with other content
  | 'RECORD_MISMATCH' // a run record or lineage record differs from what its event hashed
  | 'RECORD_UNRECORDED'; // a run record no event vouches for

export interface AuditProblem {
  code: AuditProblemCode;
  /** The event's or record's file, relative to the repository root. */
  file: string;
  /** The event, when it could be read: its hash, type, user and time. */
  event?: { hash: string; seq: number; type: string; user: string; time: string };
  message: string;
}

export interface TrailVerification {
  events: number;
  heads: number;
  /** In trail order: the first is the first bad event. */
  problems: AuditProblem[];
}

export interface TrailVerifyOptions {
  /** Trails committed at revisions the workspace must contain, each with the revision's name. */
  anchors?: Array<{ rev: string; trail: LoadedTrail }>;
}

const eventRef = (e: AuditEvent) => ({ hash: e.hash, seq: e.seq, type: e.type, user: e.user, time: e.time });

/** Time encoded in an event file name, for ordering files that cannot be parsed. */
function fileTime(file: string): string {
  const m = /(\d{8}T\d{9}Z)-[0-9a-f]{16}\.json$/.exec(file);
  return m ? m[1] : '';
}

/**
 * Check the trail: every event hashes to its hash and is named by it, every predecessor exists, depths
 * follow, and every event committed at an anchor revision is still present and unchanged. Problems come
 * in trail order, so the first names the first bad event.
 */
export function verifyTrail(trail: LoadedTrail, options: TrailVerifyOptions = {}): TrailVerification {
  const events = sortEvents([...trail.events]);
  const byHash = new Map<string, AuditEvent>();
  for (const e of events) if (!byHash.has(e.hash)) byHash.set(e.hash, e);
  const found: Array<{ order: string; problem: AuditProblem }> = [];
  // Problems of event i sort as "<i>1"; missing or unreadable files that belong before event i as "<i>0".
  const at = (i: number, before: boolean) => `${String(i).padStart(9, '0')}${before ? '0' : '1'}`;
  const add = (e: AuditEvent, i: number, code: AuditProblemCode, message: string) =>
    found.push({ order: at(i, false), problem: { code, file: e.file, event: eventRef(e), message } });

  events.forEach((e, i) => {
    const actual = hashEvent(e);
    if (actual !== e.hash) {
      add(e, i, 'HASH_MISMATCH', `${e.file}: event ${describeEvent(e)} was edited after it was written (its content hashes to ${actual.slice(0, 12)}, not ${e.hash.slice(0, 12)})`);
      return;
    }
    const expectedName = eventFileName(e.time, e.hash);
    if (!e.file.endsWith('/' + expectedName)) {
      add(e, i, 'NAME_MISMATCH', `${e.file}: event ${describeEvent(e)} is stored under the wrong name (expected ${expectedName})`);
    }
    const missing = e.prev.filter((p) => !byHash.has(p));
    if (missing.length) {
      add(e, i, 'MISSING_PREV', `${e.file}: event ${describeEvent(e)} follows event ${missing[0].slice(0, 12)}, which is not in the trail (an event was deleted)`);
      return;
    }
    const expectedSeq = 1 + e.prev.reduce((m, p) => Math.max(m, byHash.get(p)!.seq), 0);
    if (e.seq !== expectedSeq) {
      add(e, i, 'SEQ_MISMATCH', `${e.file}: event ${describeEvent(e)} has depth ${e.seq}, but its predecessors give ${expectedSeq} (the trail was reordered)`);
    }
  });

  // Unreadable files sort among the events by the time in their names.
  for (const u of trail.unreadable) {
    const t = fileTime(u.file);
    const after = events.findIndex((e) => e.time.replace(/[-:.]/g, '') > t);
    const i = after < 0 ? events.length : after;
    found.push({ order: at(i, true), problem: { code: 'UNREADABLE', file: u.file, message: `${u.file}: not a valid audit event: ${u.reason}` } });
  }

  const present = new Map(trail.events.map((e) => [e.file, e]));
  const unreadableFiles = new Set(trail.unreadable.map((u) => u.file));
  for (const anchor of options.anchors ?? []) {
    for (const committed of anchor.trail.events) {
      if (unreadableFiles.has(committed.file)) continue; // already reported
      const now = present.get(committed.file);
      const i = events.findIndex((e) => e.seq > committed.seq || (e.seq === committed.seq && e.time > committed.time));
      const order = at(i < 0 ? events.length : i, true);
      if (!now) {
        found.push({ order, problem: { code: 'DELETED', file: committed.file, event: eventRef(committed), message: `${committed.file}: event ${describeEvent(committed)}, committed at ${anchor.rev}, was deleted` } });
      } else if (now.hash !== committed.hash || hashEvent(now) !== committed.hash) {
        if (found.some((f) => f.problem.file === now.file)) continue; // reported as edited already
        found.push({ order, problem: { code: 'CHANGED', file: committed.file, event: eventRef(committed), message: `${committed.file}: event ${describeEvent(committed)} differs from the one committed at ${anchor.rev}` } });
      }
    }
  }

  found.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const problems: AuditProblem[] = [];
  const seen = new Set<string>();
  for (const f of found) {
    const key = `${f.problem.code}\0${f.problem.file}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(f.problem);
  }
  return { events: trail.events.length + trail.unreadable.length, heads: headsOf(trail.events).length, problems };
}
