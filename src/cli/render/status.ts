import type { RemoteStatusResult } from '../../ops/remote-status.js';
import type { StatusResult } from '../../ops/status.js';
import { renderRemoteStatus } from './remote.js';
import { EXIT } from '../exit-codes.js';
import { formatCount, limitList } from '../format.js';
import type { Renderer } from './types.js';

export const renderStatus: Renderer<StatusResult | RemoteStatusResult> = (result, options) => {
  if ('remote' in result) return renderRemoteStatus(result, options);
  const r = result;
  const { args } = options;
  const granular = args.granular === true;
  const lines: string[] = [];
  if (r.entries.length === 0 && r.refused.length === 0) lines.push('No tracked data (dvs track <path> to start).');
  for (const x of r.refused) lines.push(`  refused  ${x.pointerPath}: ${x.message.slice(x.pointerPath.length + 2).replace(/^refused: /, '')}`);
  for (const e of r.entries) {
    const parts: string[] = [];
    if (e.workspace !== 'unchanged') parts.push(e.workspace === 'missing' ? 'missing from the workspace' : 'modified');
    if (e.cache === 'missing') parts.push(e.manifestMissing ? 'manifest not in cache' : 'not in cache');
    if (e.cache === 'partial') parts.push(`${formatCount(e.missingObjects ?? 0, 'object')} not in cache`);
    if (e.changes && e.workspace === 'modified') {
      const c = e.changes;
      const counts = [c.added.length && `${c.added.length} added`, c.removed.length && `${c.removed.length} removed`, c.modified.length && `${c.modified.length} modified`].filter(Boolean);
      if (counts.length) parts.push(counts.join(', '));
    }
    lines.push(`${parts.length ? '  changed' : '  ok     '}  ${e.path}${e.kind === 'dir' ? '/' : ''}${parts.length ? `: ${parts.join('; ')}` : ''}`);
    if (granular && e.changes) {
      lines.push(...limitList(e.changes.added.map((p) => `added:    ${p}`), 200, '      '));
      lines.push(...limitList(e.changes.removed.map((p) => `removed:  ${p}`), 200, '      '));
      lines.push(...limitList(e.changes.modified.map((p) => `modified: ${p}`), 200, '      '));
    }
  }
  if (r.entries.length && r.clean) lines.push('Everything matches its pointer.');
  else if (!r.clean) {
    const hints: string[] = [];
    if (r.entries.some((e) => e.workspace === 'modified')) hints.push('dvs track <path> to record changes');
    if (r.entries.some((e) => e.workspace === 'missing' || e.workspace === 'modified')) hints.push('dvs checkout <path> to restore');
    if (r.entries.some((e) => e.cache !== 'present')) hints.push('dvs pull to fetch missing objects');
    if (r.refused.length) hints.push('refused pointers are never acted on: see docs/security.md');
    lines.push(`(${hints.join('; ')})`);
  }
  return {
    text: lines.join('\n') + '\n',
    exit: args.exitCode && !r.clean ? EXIT.differences : undefined,
    notes: r.warnings.map((w) => `warning: ${w.message}`),
  };
};
