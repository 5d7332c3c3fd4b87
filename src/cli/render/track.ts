import type { TrackResult } from '../../ops/data/track.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderTrack: Renderer<TrackResult> = (r) => {
  const lines: string[] = [];
  for (const i of r.items) {
    if (i.inside) {
      lines.push(`${i.changed ? 'tracked' : 'up to date'}  ${i.inside.path} in ${i.path} (${insideChanges(i.inside)}${i.hashedFiles ? `; hashed ${formatCount(i.hashedFiles, 'file')}` : ''}) → ${i.pointerPath}`);
      continue;
    }
    const what = i.kind === 'dir' ? `${formatCount(i.files ?? 0, 'file')}, ${formatBytes(i.size)}` : formatBytes(i.size);
    const how = i.changed ? (i.hashedFiles ? `hashed ${formatCount(i.hashedFiles, 'file')}` : 'no new content') : 'unchanged';
    const from = i.source !== undefined ? `${i.source} → ` : '';
    const append = i.appendOnly ? `; append-only${i.appended !== undefined ? `, ${formatCount(i.appended, 'file')} appended` : ''}` : '';
    const where = i.remote !== undefined ? `; on remote "${i.remote}", not in the cache` : '';
    lines.push(`${i.changed ? 'tracked' : 'up to date'}  ${from}${i.path} (${what}; ${how}${append}${where}) → ${i.pointerPath}`);
  }
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add ${r.toStage.map(quote).join(' ')}`);
  return { text: lines.join('\n') + '\n', notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
};

function insideChanges(c: { added: number; deleted: number; modified: number }): string {
  const parts = [[c.added, 'added'], [c.modified, 'modified'], [c.deleted, 'deleted']].filter(([n]) => n) as Array<[number, string]>;
  return parts.length ? parts.map(([n, what]) => `${formatCount(n, 'file')} ${what}`).join(', ') : 'unchanged';
}

function quote(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}
