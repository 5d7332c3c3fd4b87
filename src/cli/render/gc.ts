import type { GcResult } from '../../ops/gc.js';
import { formatBytes, formatCount } from '../format.js';
import type { Renderer } from './types.js';

export const renderGc: Renderer<GcResult> = (r) => {
  const lines: string[] = [];
  if (r.dryRun) for (const o of r.removed) lines.push(`would remove ${o.oid}  ${formatBytes(o.size)}`);
  lines.push(`${r.dryRun ? 'Would remove' : 'Removed'} ${formatCount(r.removed.length, 'object')} (${formatBytes(r.bytes)}); kept ${formatCount(r.kept, 'object')}.`);
  return { text: lines.join('\n') + '\n' };
};
