import type { CheckpointListResult, CheckpointResult } from '../../ops/data/checkpoint.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderCheckpoint: Renderer<CheckpointResult | CheckpointListResult> = (r) => {
  if ('checkpoints' in r) {
    if (r.checkpoints.length === 0) return { text: 'No checkpoints.\n' };
    const lines = r.checkpoints.map((c) => `${c.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${c.path}  ${formatCount(c.files, 'file')} (${formatCount(c.added, 'file')} added)  ${c.oid.slice(0, 10)}  ${c.user}  ${c.message}`);
    return { text: lines.join('\n') + '\n' };
  }
  const c = r.checkpoint;
  const lines = [`checkpoint  ${c.path}: ${c.message} (${formatCount(c.files, 'file')}, ${formatBytes(c.size)}; ${formatCount(c.added, 'file')} added since the last checkpoint; hashed ${formatCount(r.hashedFiles, 'file')})`];
  const shown = c.names.slice(0, 10);
  for (const n of shown) lines.push(`  added ${n}`);
  if (c.added > shown.length) lines.push(`  … and ${formatCount(c.added - shown.length, 'more file')}`);
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add ${r.toStage.join(' ')}`);
  return { text: lines.join('\n') + '\n', notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
};
