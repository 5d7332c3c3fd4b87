import type { RemoveResult } from '../../ops/data/remove.js';
import type { Renderer } from './types.js';

export const renderRemove: Renderer<RemoveResult> = (r) => {
  const lines = r.removed.map((x) => `stopped tracking ${x.path} (deleted ${x.pointerPath}; the data is still there)`);
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add -A ${r.toStage.join(' ')}`);
  return { text: lines.join('\n') + '\n' };
};
