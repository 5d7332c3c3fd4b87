import type { CheckoutPreview, CheckoutResult } from '../../ops/data/checkout.js';
import type { CheckoutAction, PlannedChange } from '../../workspace/checkout-plan.js';
import { EXIT } from '../exit-codes.js';
import { errorNote, formatCount, groupDigits, limitList, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderCheckout: Renderer<CheckoutResult | CheckoutPreview> = (r, options) => {
  if ('dryRun' in r) return renderPreview(r);
  const lines: string[] = [];
  const max = options.verbose ? Infinity : 20;
  lines.push(...limitList(r.added.map((p) => `A  ${p}`), max, ''));
  lines.push(...limitList(r.modified.map((p) => `M  ${p}`), max, ''));
  lines.push(...limitList(r.deleted.map((p) => `D  ${p}`), max, ''));
  const gone = r.orphaned.map((o) => `deleted ${o.kind === 'dir' ? `${formatCount(o.files, 'file')} of ${o.path}` : o.path} (its pointer is gone)`);
  lines.push(...limitList(gone, max, ''));
  const links = Object.entries(r.links).map(([t, n]) => `${groupDigits(n)} by ${t}`).join(', ');
  const relinked = r.relinked.length ? `, ${groupDigits(r.relinked.length)} relinked` : '';
  lines.push(`${formatCount(r.added.length, 'file')} added, ${groupDigits(r.modified.length)} modified, ${groupDigits(r.deleted.length)} deleted, ${groupDigits(r.unchanged)} unchanged${relinked}${links ? ` (${links})` : ''}`);
  return { text: lines.join('\n') + '\n', ...failureNotes(r) };
};

/** The plan in the words of `dvs diff`: each path with what the checkout would do to it. */
const WORDS: Record<CheckoutAction, string> = {
  create: 'added   ',
  replace: 'modified',
  mode: 'modified',
  relink: 'relinked',
  delete: 'deleted ',
};

function describeChange(c: PlannedChange): string {
  const note = c.action === 'mode' ? ` (mode: ${c.object!.exec ? 'executable' : 'not executable'})` : '';
  return `  ${WORDS[c.action]}  ${c.path}${note}`;
}

function renderPreview(r: CheckoutPreview) {
  const lines: string[] = [];
  const count = { create: 0, replace: 0, mode: 0, relink: 0, delete: 0 };
  let unchanged = 0;
  for (const tp of r.targets) {
    for (const c of [...tp.deletes, ...tp.creates, ...tp.replaces, ...tp.modes, ...tp.relinks]) {
      lines.push(describeChange(c));
      count[c.action]++;
    }
    unchanged += tp.unchanged;
  }
  const relinked = count.relink ? `, ${groupDigits(count.relink)} relinked` : '';
  lines.push(`Would check out: ${formatCount(count.create, 'file')} added, ${groupDigits(count.replace + count.mode)} modified, ${groupDigits(count.delete)} deleted, ${groupDigits(unchanged)} unchanged${relinked} (dry run: nothing changed)`);
  return { text: lines.join('\n') + '\n', ...failureNotes(r) };
}

function failureNotes(r: CheckoutResult | CheckoutPreview) {
  const notes = r.failures.map((f) => errorNote(f.message, f.hint));
  if (r.failures.length) notes.push(`${formatCount(r.failures.length, 'path')} ${'dryRun' in r ? 'would not be' : 'not'} checked out${'dryRun' in r ? '' : '; the rest is done'}.`);
  return { exit: r.failures.length ? EXIT.partial : undefined, notes: [...r.warnings.map((w) => warningNote(w.message, w.hint)), ...notes] };
}
