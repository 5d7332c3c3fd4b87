import { DvsError } from '../../errors.js';
import { parseAssignments } from '../../lineage/params.js';
import { writeFileAtomic } from '../../base/atomic.js';
import { checkRunIntegrity } from '../../runs/integrity.js';
import { runHash, serializeRun } from '../../runs/record.js';
import { loadRun } from '../../runs/store.js';
import type { OpContext } from '../context.js';
import type { RunWriteResult } from './run-start.js';

export interface RunFinishOptions {
  id: string;
  /** `name=number` arguments. */
  metrics?: string[];
}

/**
 * `dvs run finish`: add metrics and the end time. A record that no longer matches its audit event is
 * refused, so finishing can never launder an edited dataset oid into a freshly hashed record.
 */
export async function runFinish(ctx: OpContext, options: RunFinishOptions): Promise<RunWriteResult> {
  const { repo } = ctx;
  const metrics = parseAssignments(options.metrics, '--metric', { numeric: true }) as Record<string, number>;
  return repo.withLock({ ...ctx.lock, command: 'dvs run finish' }, async () => {
    const loaded = loadRun(repo, options.id);
    const run = loaded.record;
    if (run.status === 'finished') {
      throw new DvsError('RUN_FINISHED', `Run "${run.id}" finished at ${run.finished}`, {
        hint: 'Metrics of a finished run are final; start a new run to train again.',
        data: { id: run.id },
      });
    }
    if (repo.config.get('audit.enabled') !== false) {
      const { loadWorkspaceTrail } = await import('../../audit/store.js');
      const integrity = checkRunIntegrity(loaded, loadWorkspaceTrail(repo.root).events);
      if (integrity.status === 'mismatch') {
        throw new DvsError('RUN_RECORD_TAMPERED', integrity.message!, {
          hint: `Restore the record from Git (git checkout -- ${loaded.file}) and finish it again; \`dvs audit verify\` shows the trail.`,
          data: { id: run.id, hash: integrity.hash, expected: integrity.expected },
        });
      }
    }
    const finished = new Date();
    run.status = 'finished';
    run.finished = finished.toISOString();
    const started = Date.parse(run.started);
    run.duration = Number.isNaN(started) ? null : Math.round(finished.getTime() - started) / 1000;
    run.metrics = { ...run.metrics, ...metrics };
    const hash = runHash(run);
    writeFileAtomic(repo.abs(loaded.file), serializeRun(run, loaded.doc));
    const autostage = repo.config.bool('core.autostage');
    const { recordAuditEvent } = await import('../../audit/record.js');
    const event = await recordAuditEvent(repo, {
      type: 'run-finish',
      paths: run.datasets.map((d) => ({ path: d.path, oid: d.oid, kind: d.kind, size: d.size, role: 'dataset' as const })),
      data: { run: run.id, model: run.model, record: hash, metrics: run.metrics },
    }, { stageWith: [loaded.file] });
    return { run, file: loaded.file, hash, event: event && { hash: event.hash, file: event.file }, staged: autostage ? [loaded.file] : [], toStage: autostage ? [] : [loaded.file], warnings: [] };
  });
}
