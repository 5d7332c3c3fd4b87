import type { GcResult } from '../../ops/data/gc.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderGc: Renderer<GcResult> = (r, { args }) => {
  const lines: string[] = [];
  if (r.dryRun) for (const o of r.removed) lines.push(`would remove ${o.oid}  ${formatBytes(o.size)}`);
  lines.push(`${r.dryRun ? 'Would remove' : 'Removed'} ${formatCount(r.removed.length, 'object')} (${formatBytes(r.bytes)})${r.remote ? ` from ${r.remote.name}` : ''}; kept ${formatCount(r.kept, 'object')}.`);
  const notes: string[] = [];
  if (r.remote && r.removed.length && !args.allBranches && !args.allTags && !args.allCommits && !(args.rev as string[] | undefined)?.length) {
    notes.push(warningNote(`only what the workspace needs was kept on ${r.remote.name}`, 'a remote is shared: pass -a/-T/-A or --rev to keep what branches, tags or commits need.'));
  }
  return { text: lines.join('\n') + '\n', notes };
};
