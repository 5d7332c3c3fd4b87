import type { CheckoutResult } from '../../ops/data/checkout.js';
import { EXIT } from '../exit-codes.js';
import { errorNote, formatCount, groupDigits, limitList, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderCheckout: Renderer<CheckoutResult> = (r, { verbose }) => {
  const lines: string[] = [];
  const max = verbose ? Infinity : 20;
  lines.push(...limitList(r.added.map((p) => `A  ${p}`), max, ''));
  lines.push(...limitList(r.modified.map((p) => `M  ${p}`), max, ''));
  lines.push(...limitList(r.deleted.map((p) => `D  ${p}`), max, ''));
  const gone = r.orphaned.map((o) => `deleted ${o.kind === 'dir' ? `${formatCount(o.files, 'file')} of ${o.path}` : o.path} (its pointer is gone)`);
  lines.push(...limitList(gone, max, ''));
  const links = Object.entries(r.links).map(([t, n]) => `${groupDigits(n)} by ${t}`).join(', ');
  lines.push(`${formatCount(r.added.length, 'file')} added, ${groupDigits(r.modified.length)} modified, ${groupDigits(r.deleted.length)} deleted, ${groupDigits(r.unchanged)} unchanged${links ? ` (${links})` : ''}`);
  const notes = r.failures.map((f) => errorNote(f.message, f.hint));
  if (r.failures.length) notes.push(`${formatCount(r.failures.length, 'path')} not checked out; the rest is done.`);
  return { text: lines.join('\n') + '\n', exit: r.failures.length ? EXIT.partial : undefined, notes: [...r.warnings.map((w) => warningNote(w.message, w.hint)), ...notes] };
};
