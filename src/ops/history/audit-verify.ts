import type { AuditEvent } from '../../audit/event.js';
import { loadTrailAt, loadWorkspaceTrail, type LoadedTrail } from '../../audit/store.js';
import { verifyTrail, type AuditProblem } from '../../audit/verify.js';
import { isDvsError } from '../../errors.js';
import { lineageHash, lineageOf } from '../../lineage/record.js';
import { findPointers, readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import { checkRunIntegrity } from '../../runs/integrity.js';
import { loadRun, runIds } from '../../runs/store.js';
import { resolveRevision } from '../../scm/git.js';
import type { OpContext } from '../context.js';

export interface AuditVerifyOptions {
  /**
   * Revisions whose committed trail must still be contained, unchanged, in the workspace's (HEAD is
   * always one): a trail rewritten after it was pushed is caught by naming the remote branch.
   */
  revs?: string[];
}

export interface AuditVerifyResult {
  ok: boolean;
  events: number;
  /** Events nothing follows yet (more than one after concurrent appends or a merge, until the next event). */
  heads: number;
  /** Revisions checked against, as named and resolved. */
  anchors: Array<{ rev: string; commit: string; events: number }>;
  /** Run records and pointer lineage records checked against the hashes their events carry. */
  records: { runs: number; lineage: number };
  /** In trail order: the first names the first bad event; record problems follow. */
  problems: AuditProblem[];
  /** The first bad event, when there is one. */
  firstBad: AuditProblem | null;
}

/** Run records and lineage records in the workspace, each checked against the hash its audit event carries. */
async function checkRecords(repo: Repo, events: AuditEvent[]): Promise<{ problems: AuditProblem[]; runs: number; lineage: number }> {
  const problems: AuditProblem[] = [];
  let runs = 0;
  for (const id of await runIds(repo)) {
    runs++;
    let loaded;
    try {
      loaded = loadRun(repo, id);
    } catch (err) {
      if (!isDvsError(err)) throw err;
      problems.push({ code: 'RECORD_MISMATCH', file: `.dvs/runs/${id}.yaml`, message: err.message });
      continue;
    }
    const integrity = checkRunIntegrity(loaded, events);
    if (integrity.status === 'mismatch') problems.push({ code: 'RECORD_MISMATCH', file: loaded.file, message: integrity.message! });
    if (integrity.status === 'unrecorded') problems.push({ code: 'RECORD_UNRECORDED', file: loaded.file, message: integrity.message! });
  }
  const recorded = new Set(events.filter((e) => e.type === 'transform' || e.type === 'lineage-record').map((e) => e.data.record));
  // `dvs move` rewrites the paths in lineage records naming the moved data, and records the new hashes.
  for (const e of events) if (e.type === 'move' && Array.isArray(e.data.records)) for (const h of e.data.records) recorded.add(h);
  let lineage = 0;
  for (const ref of findPointers(repo.root, repo.ignore, repo.guard).pointers) {
    let pointer;
    try {
      pointer = readPointer(repo.root, ref.pointerPath);
    } catch (err) {
      if (isDvsError(err)) continue; // `dvs status` reports malformed pointers
      throw err;
    }
    const l = lineageOf(pointer);
    if (l.error) {
      problems.push({ code: 'RECORD_MISMATCH', file: ref.pointerPath, message: `${ref.pointerPath}: its lineage cannot be read (${l.error})` });
      continue;
    }
    if (!l.record) continue;
    lineage++;
    if (!recorded.has(lineageHash(l.record))) {
      problems.push({ code: 'RECORD_MISMATCH', file: ref.pointerPath, message: `${ref.pointerPath}: its lineage record matches no transform event in the trail (edited after it was recorded, or recorded with audit.enabled off)` });
    }
  }
  return { problems, runs, lineage };
}

/**
 * `dvs audit verify`: check the hash links of the workspace's trail, that every event committed at
 * HEAD (and at the named revisions) is still there unchanged, and that run and lineage records match
 * the hashes their events recorded.
 */
export async function auditVerify(ctx: OpContext, options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const { repo } = ctx;
  const trail = loadWorkspaceTrail(repo.root);
  const anchors: Array<{ rev: string; trail: LoadedTrail }> = [];
  const anchorInfo: AuditVerifyResult['anchors'] = [];
  const head = await resolveRevision(repo.root, 'HEAD').catch(() => undefined);
  const revs = [...(head ? ['HEAD'] : []), ...(options.revs ?? [])];
  for (const rev of revs) {
    const commit = rev === 'HEAD' ? head! : await resolveRevision(repo.root, rev);
    const committed = await loadTrailAt(repo.root, commit);
    anchors.push({ rev, trail: committed });
    anchorInfo.push({ rev, commit, events: committed.events.length + committed.unreadable.length });
  }
  const verification = verifyTrail(trail, { anchors });
  const records = await checkRecords(repo, trail.events);
  const problems = [...verification.problems, ...records.problems];
  return {
    ok: problems.length === 0,
    events: verification.events,
    heads: verification.heads,
    anchors: anchorInfo,
    records: { runs: records.runs, lineage: records.lineage },
    problems,
    firstBad: verification.problems[0] ?? null,
  };
}

