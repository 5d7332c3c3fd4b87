import type { RemoveResult } from '../../ops/data/remove.js';
import { formatCount } from '../format.js';
import type { Renderer } from './types.js';

export const renderRemove: Renderer<RemoveResult> = (r) => {
  const lines = r.removed.map((x) => {
    const data = x.deletedData ? `deleted from the workspace${x.forced ? ' (--force: its content was not in the cache)' : ''}` : 'the data is still there';
    if (x.inside) return `removed  ${x.path} from ${x.inside.owner} (${formatCount(x.inside.deleted, 'file')} deleted from its manifest; ${data}) → ${x.pointerPath}`;
    return `stopped tracking ${x.path} (deleted ${x.pointerPath}; ${data})`;
  });
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add -A ${r.toStage.join(' ')}`);
  return { text: lines.join('\n') + '\n' };
};
