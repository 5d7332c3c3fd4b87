import type { HookResult } from '../../ops/hook.js';
import type { MergeDriverResult } from '../../ops/merge-driver.js';
import { EXIT } from '../exit-codes.js';
import { errorNote, formatBytes, formatCount, groupDigits, warningNote } from '../format.js';
import type { Renderer } from './types.js';

/**
 * Hooks speak in at most a few lines on stderr (Git shows them), and only when something happened or
 * needs doing. Only pre-push may fail the Git command.
 */
export const renderHook: Renderer<HookResult> = (r) => {
  const notes: string[] = [];
  const c = r.checkout;
  if (c && c.added.length + c.modified.length + c.deleted.length > 0) {
    notes.push(`dvs: data updated for ${formatCount(r.pointers.length, 'changed pointer')}: ${groupDigits(c.added.length)} added, ${groupDigits(c.modified.length)} modified, ${groupDigits(c.deleted.length)} deleted`);
  }
  if (r.removed.length) notes.push(`dvs: deleted data whose pointer is gone: ${r.removed.join(', ')}`);
  if (r.kept.length) notes.push(`dvs: kept data whose pointer is gone, because it is modified or not in the cache: ${r.kept.join(', ')}`);
  if (r.missing) notes.push(warningNote(`${formatCount(r.missing, 'file')} not checked out: objects missing from the cache; run \`dvs pull\` to fetch them${r.fetched === undefined ? ' (or set `dvs config hooks.autofetch true`)' : ''}`));
  for (const x of r.refused.slice(0, 5)) notes.push(warningNote(`skipped ${x.message.slice(x.pointerPath.length + 2)} (${x.pointerPath})`));
  if (r.refused.length > 5) notes.push(warningNote(`… and ${formatCount(r.refused.length - 5, 'more refused pointer')}; run \`dvs status\``));
  // The hook never fails the Git command for these: data left alone is reported, not an error.
  const other = c?.failures.filter((f) => f.code !== 'OBJECT_MISSING') ?? [];
  for (const f of other.slice(0, 5)) notes.push(warningNote(f.message));
  if (other.length > 5) notes.push(warningNote(`… and ${groupDigits(other.length - 5)} more; run \`dvs status\``));
  if (r.pushed && r.pushed.objects) notes.push(`dvs: pushed ${formatCount(r.pushed.objects, 'object')}, ${formatBytes(r.pushed.bytes)}`);
  if (r.error) notes.push(errorNote(r.error.message, r.error.hint));
  return { text: '', notes, exit: r.error ? EXIT.remote : undefined };
};

export const renderMergeDriver: Renderer<MergeDriverResult> = (r) => ({
  text: '',
  notes: r.merged ? [] : [`dvs: conflict in ${r.path}: ${r.reason}`],
  exit: r.merged ? undefined : EXIT.differences,
});
