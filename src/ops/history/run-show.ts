import type { AuditEvent } from '../../audit/event.js';
import { isDvsError } from '../../errors.js';
import type { Repo } from '../../repo/repo.js';
import { checkRunIntegrity, type RunIntegrity } from '../../runs/integrity.js';
import type { LoadedRun, RunRecord } from '../../runs/record.js';
import { loadRunRef, parseRunRef, runIds } from '../../runs/store.js';
import { BlobReader, resolveRevision } from '../../scm/git.js';
import type { OpContext } from '../context.js';

export interface RunShowOptions {
  /** `<id>` or `<id>@<rev>`. */
  run: string;
}

export interface RunShowResult {
  run: RunRecord;
  file: string;
  /** The commit it was read from; null for the workspace. */
  commit: string | null;
  integrity: RunIntegrity;
}

/** Audit events of the trail a run was read from: the workspace's, or the commit's. */
export async function trailFor(repo: Repo, commit: string | undefined): Promise<AuditEvent[]> {
  const store = await import('../../audit/store.js');
  return (commit ? await store.loadTrailAt(repo.root, commit) : store.loadWorkspaceTrail(repo.root)).events;
}

export async function integrityOf(repo: Repo, loaded: LoadedRun): Promise<RunIntegrity> {
  return checkRunIntegrity(loaded, await trailFor(repo, loaded.commit));
}

/** `dvs run show`: one run record, checked against the hash its audit event carries. */
export async function runShow(ctx: OpContext, options: RunShowOptions): Promise<RunShowResult> {
  const loaded = await loadRunRef(ctx.repo, parseRunRef(options.run));
  return { run: loaded.record, file: loaded.file, commit: loaded.commit ?? null, integrity: await integrityOf(ctx.repo, loaded) };
}

export interface RunListOptions {
  rev?: string;
}

export interface RunListEntry {
  id: string;
  model?: string;
  status?: RunRecord['status'];
  started?: string;
  finished?: string | null;
  user?: string;
  commit?: string | null;
  datasets?: number;
  metrics?: Record<string, number>;
  integrity?: RunIntegrity['status'];
  /** Why the record could not be read. */
  error?: string;
}

export interface RunListResult {
  rev: string | null;
  commit: string | null;
  runs: RunListEntry[];
}

/** `dvs run list`: the runs in the workspace, or at a revision. */
export async function runList(ctx: OpContext, options: RunListOptions = {}): Promise<RunListResult> {
  const { repo } = ctx;
  const commit = options.rev ? await resolveRevision(repo.root, options.rev) : undefined;
  const events = await trailFor(repo, commit);
  const reader = commit ? new BlobReader(repo.root) : undefined;
  const runs: RunListEntry[] = [];
  try {
    for (const id of await runIds(repo, commit)) {
      try {
        const loaded = await loadRunRef(repo, { id, rev: commit }, reader);
        const r = loaded.record;
        runs.push({
          id,
          model: r.model,
          status: r.status,
          started: r.started,
          finished: r.finished,
          user: r.user,
          commit: r.code.commit,
          datasets: r.datasets.length,
          metrics: r.metrics,
          integrity: checkRunIntegrity(loaded, events).status,
        });
      } catch (err) {
        if (!isDvsError(err)) throw err;
        runs.push({ id, error: err.message });
      }
    }
  } finally {
    reader?.close();
  }
  runs.sort((a, b) => ((a.started ?? '') < (b.started ?? '') ? -1 : (a.started ?? '') > (b.started ?? '') ? 1 : a.id < b.id ? -1 : 1));
  return { rev: options.rev ?? null, commit: commit ?? null, runs };
}
