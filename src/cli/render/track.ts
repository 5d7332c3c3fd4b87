import type { TrackResult } from '../../ops/data/track.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderTrack: Renderer<TrackResult> = (r) => {
  const lines: string[] = [];
  for (const i of r.items) {
    const what = i.kind === 'dir' ? `${formatCount(i.files ?? 0, 'file')}, ${formatBytes(i.size)}` : formatBytes(i.size);
    const how = i.changed ? (i.hashedFiles ? `hashed ${formatCount(i.hashedFiles, 'file')}` : 'no new content') : 'unchanged';
    const from = i.source !== undefined ? `${i.source} → ` : '';
    const where = i.remote !== undefined ? `; on remote "${i.remote}", not in the cache` : '';
    lines.push(`${i.changed ? 'tracked' : 'up to date'}  ${from}${i.path} (${what}; ${how}${where}) → ${i.pointerPath}`);
  }
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add ${r.toStage.map(quote).join(' ')}`);
  return { text: lines.join('\n') + '\n', notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
};

function quote(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
