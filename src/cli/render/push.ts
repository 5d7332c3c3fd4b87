import type { PushResult } from '../../ops/remote/push.js';
import { EXIT } from '../exit-codes.js';
import type { TransferFailure } from '../../ops/remote/failures.js';
import { errorNote, formatBytes, formatCount, groupDigits, limitList } from '../format.js';
import type { Renderer } from './types.js';

export const renderPush: Renderer<PushResult> = (r, { verbose }) => {
  const text = r.uploaded === 0 && r.failures.length === 0
    ? `Everything is already on ${r.remote.name} (${formatCount(r.alreadyPresent, 'object')}).\n`
    : `Pushed ${formatCount(r.uploaded, 'object')} (${formatBytes(r.bytes)}) to ${r.remote.name}; ${groupDigits(r.alreadyPresent)} already there.\n${restoredLines(r, verbose)}`;
  return { text, exit: r.failures.length ? EXIT.partial : undefined, notes: failureNotes(r.failures, verbose, 'pushed') };
};

/** What the push put back where the remote had lost it (missing, or a bad copy deleted or overwritten). */
function restoredLines(r: PushResult, verbose: boolean): string {
  if (r.restored.length === 0) return '';
  const lines = [`Restored ${formatCount(r.restored.length, 'object')} that ${r.remote.name} had lost (missing, or a bad copy there):`];
  lines.push(...limitList(r.restored.map((o) => `${o.path}  (${o.oid.slice(0, 10)})`), verbose ? Infinity : 30, '  '));
  return lines.join('\n') + '\n';
}

/** Failures of a push, fetch or pull: each with its hint (the same hint once), then the tally. */
export function failureNotes(failures: TransferFailure[], verbose: boolean, what: string): string[] {
  if (failures.length === 0) return [];
  const notes: string[] = [];
  const hints = new Set<string>();
  const lines = failures.map((f) => errorNote(f.message));
  notes.push(...limitList(lines, verbose ? Infinity : 30, ''));
  for (const f of failures) if (f.hint) hints.add(f.hint);
  for (const h of hints) notes.push(`  hint: ${h}`);
  notes.push(`${formatCount(failures.length, 'object')} not ${what}; the rest is done.`);
  return notes;
}
