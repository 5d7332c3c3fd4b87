import type { HookResult, StaleData, UnsentData } from '../../ops/git/hook-result.js';
import type { MergeDriverResult } from '../../ops/git/merge-driver.js';
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
  if (r.stale?.length) notes.push(...staleNotes(r.stale));
  if (r.unsent) notes.push(...unsentNotes(r.unsent));
  else if (r.error) notes.push(errorNote(r.error.message, r.error.hint));
  // pre-commit stops a commit like a failed check (1): the hook script passes only that on to Git.
  return { text: '', notes, exit: r.error ? (r.name === 'pre-commit' ? EXIT.differences : EXIT.remote) : undefined };
};

/** pre-commit: one line per path (the first ten), each with the command that fixes it. */
function staleNotes(stale: StaleData[]): string[] {
  const lines = stale.slice(0, 10).map((s) => {
    const what = `${s.path}${s.kind === 'dir' ? '/' : ''}`;
    const c = s.changes;
    const detail = c ? ` (${[c.added && `${groupDigits(c.added)} added`, c.deleted && `${groupDigits(c.deleted)} deleted`, c.modified && `${groupDigits(c.modified)} modified`].filter(Boolean).join(', ')})` : '';
    return s.fix === 'stage'
      ? warningNote(`${s.pointerPath} is not staged: this commit would record an older version of ${what}; run \`git add ${s.pointerPath}\` before committing`)
      : warningNote(`${what} changed since it was tracked${detail}; run \`dvs track ${s.path}\` before committing`);
  });
  if (stale.length > 10) lines.push(warningNote(`… and ${formatCount(stale.length - 10, 'more changed path')}; run \`dvs status\``));
  return lines;
}

/**
 * Data that `git push` leaves behind breaks every clone that checks those commits out, later and
 * elsewhere: a block that cannot be missed among Git's own lines, saying what, why, and what to run.
 */
function unsentNotes(u: UnsentData): string[] {
  const shown = u.paths.slice(0, 5).join(', ') + (u.paths.length > 5 ? `, … and ${u.paths.length - 5} more` : '');
  const counts = [formatCount(u.paths.length, 'path'), u.objects !== undefined ? formatCount(u.objects, 'object') : ''].filter(Boolean).join(', ');
  const what = u.paths.length ? `${shown} (${counts})` : `the data of ${formatCount(u.commits, 'pushed commit')}`;
  const lines = u.required
    ? ['dvs: error: git push stopped: the pushed commits name data that could not be sent to a dvs remote (hooks.require_push is on):']
    : ['dvs: WARNING: DATA NOT SENT. Git pushes these commits, but data they name did not reach a dvs remote:'];
  lines.push(`dvs:   not sent: ${what}`);
  lines.push(`dvs:   because:  ${u.message}`);
  if (u.hint) lines.push(`dvs:   hint:     ${u.hint}`);
  if (u.required) {
    lines.push('dvs:   Fix that, then run git push again (git push --no-verify pushes the commits without their data).');
  } else {
    lines.push('dvs:   Whoever checks these commits out will not get this data until it is sent.');
    lines.push(`dvs:   send it:  ${u.command}`);
    lines.push('dvs:   To make git push fail instead: dvs config hooks.require_push true');
  }
  return lines;
}

export const renderMergeDriver: Renderer<MergeDriverResult> = (r) => ({
  text: '',
  notes: r.merged ? [] : [`dvs: conflict in ${r.path}: ${r.reason}`],
  exit: r.merged ? undefined : EXIT.differences,
});
