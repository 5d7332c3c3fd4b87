import type { AuditEvent } from '../audit/event.js';
import type { LoadedRun } from './record.js';

/**
 * Whether a run record is what the audit trail says it was. `run start` and `run finish` put the
 * record's hash into their audit events; a record whose hash differs from the latest of them was edited
 * afterwards (a dataset oid, a metric).
 */
export interface RunIntegrity {
  status: 'ok' | 'mismatch' | 'unrecorded';
  /** Hash of the record as it is now. */
  hash: string;
  /** What the latest event recorded. */
  expected?: string;
  event?: { hash: string; type: string; time: string; file: string };
  message?: string;
}

export function runEvents(events: AuditEvent[], id: string): AuditEvent[] {
  return events
    .filter((e) => (e.type === 'run-start' || e.type === 'run-finish') && e.data.run === id && typeof e.data.record === 'string')
    .sort((a, b) => a.seq - b.seq || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

export function checkRunIntegrity(run: LoadedRun, events: AuditEvent[]): RunIntegrity {
  const mine = runEvents(events, run.record.id);
  const latest = mine[mine.length - 1];
  if (!latest) {
    return { status: 'unrecorded', hash: run.hash, message: `${run.file}: no audit event vouches for this run record (written by hand, or with audit.enabled off)` };
  }
  const event = { hash: latest.hash, type: latest.type, time: latest.time, file: latest.file };
  const expected = latest.data.record as string;
  if (expected === run.hash) return { status: 'ok', hash: run.hash, expected, event };
  return {
    status: 'mismatch',
    hash: run.hash,
    expected,
    event,
    message: `${run.file}: the record was changed after its ${latest.type} event (${latest.file}): it hashes to ${run.hash.slice(0, 12)}, the event recorded ${expected.slice(0, 12)}`,
  };
}
