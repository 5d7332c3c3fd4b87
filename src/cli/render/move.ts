import type { MoveResult } from '../../ops/data/move.js';
import type { Renderer } from './types.js';

export const renderMove: Renderer<MoveResult> = (r) => {
  const lines = [`renamed  ${r.from.path} → ${r.to.path} (${r.from.pointerPath} → ${r.to.pointerPath}${r.movedData ? '' : '; the data was not in the workspace, only the pointer moved'})`];
  if (r.lineage.length) lines.push(`Lineage now names ${r.to.path} in: ${r.lineage.join(' ')}`);
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add -A ${r.toStage.join(' ')}`);
  return { text: lines.join('\n') + '\n' };
};
