import type { RemoteStatusResult } from '../../ops/remote/status.js';
import type { StatusEntry, StatusResult } from '../../ops/data/status.js';
import { renderRemoteStatus } from './remote.js';
import { EXIT } from '../exit-codes.js';
import { formatCount, groupDigits, limitList, warningNote } from '../format.js';
import type { Renderer } from './types.js';

/** Missing from the workspace with objects the cache lacks: a fresh clone's data, before `dvs pull`. */
const notPulled = (e: StatusEntry) => e.workspace === 'missing' && e.cache !== 'present';

function describe(e: StatusEntry): string[] {
  if (notPulled(e)) return ['not pulled yet (dvs pull)'];
  const parts: string[] = [];
  if (e.workspace === 'missing') parts.push('missing from the workspace (dvs checkout)');
  if (e.workspace === 'modified') {
    const c = e.changes;
    const counts = c ? [c.added.length && `${groupDigits(c.added.length)} added`, c.deleted.length && `${groupDigits(c.deleted.length)} deleted`, c.modified.length && `${groupDigits(c.modified.length)} modified`].filter(Boolean) : [];
    parts.push(counts.length ? counts.join(', ') : e.modeOnly ? 'mode (executable bit) differs' : 'modified');
  }
  if (e.cache === 'missing') parts.push(e.manifestMissing ? 'manifest not in the cache' : 'not in the cache');
  if (e.cache === 'partial') parts.push(`${formatCount(e.missingObjects ?? 0, 'object')} not in the cache`);
  return parts;
}

export const renderStatus: Renderer<StatusResult | RemoteStatusResult> = (result, options) => {
  if ('remote' in result) return renderRemoteStatus(result, options);
  const r = result;
  const { args } = options;
  const granular = args.granular === true;
  const lines: string[] = [];
  if (r.entries.length === 0 && r.refused.length === 0) lines.push('No tracked data (dvs track <path> to start).');
  for (const x of r.refused) lines.push(`  refused  ${x.pointerPath}: ${x.message.slice(x.pointerPath.length + 2).replace(/^refused: /, '')}`);
  for (const e of r.entries) {
    const parts = describe(e);
    const label = parts.length === 0 ? 'ok     ' : notPulled(e) ? 'missing' : 'changed';
    lines.push(`  ${label}  ${e.path}${e.kind === 'dir' ? '/' : ''}${parts.length ? `: ${parts.join('; ')}` : ''}`);
    if (e.staleLineage) {
      const inputs = e.staleLineage.inputs.map((i) => i.path).join(', ');
      lines.push(`  stale    ${e.path}${e.kind === 'dir' ? '/' : ''}: lineage: ${inputs} changed since ${e.staleLineage.transform} made it (dvs repro ${e.path})`);
    }
    if (granular && e.changes) {
      lines.push(...limitList(e.changes.added.map((p) => `added:    ${p}`), 200, '      '));
      lines.push(...limitList(e.changes.deleted.map((p) => `deleted:  ${p}`), 200, '      '));
      const modeOnly = new Set(e.changes.modeOnly ?? []);
      lines.push(...limitList(e.changes.modified.map((p) => `modified: ${p}${modeOnly.has(p) ? ' (mode)' : ''}`), 200, '      '));
    }
  }
  if (r.entries.length && r.clean) lines.push('Everything matches its pointer.');
  else if (!r.clean) {
    const hints: string[] = [];
    if (r.entries.some((e) => e.workspace === 'modified')) hints.push('dvs track <path> to record changes');
    if (r.entries.some((e) => e.workspace === 'modified' || (e.workspace === 'missing' && !notPulled(e)))) hints.push('dvs checkout <path> to restore');
    if (r.entries.some((e) => e.cache !== 'present')) hints.push('dvs pull to fetch missing objects');
    if (r.refused.length) hints.push('refused pointers are never acted on: see docs/security.md');
    lines.push(`(${hints.join('; ')})`);
  }
  return {
    text: lines.join('\n') + '\n',
    exit: args.exitCode && !r.clean ? EXIT.differences : undefined,
    notes: r.warnings.map((w) => warningNote(w.message, w.hint)),
  };
};
