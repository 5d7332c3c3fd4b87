import type { VerifyResult } from '../../ops/data/verify.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderVerify: Renderer<VerifyResult> = (r) => {
  const moved = r.remote ? `, deleted from ${r.remote.name}` : ', moved to quarantine';
  const lines = r.problems.map((p) => `${p.problem.padEnd(10)} ${p.path}  (${p.oid.slice(0, 10)}${p.quarantined ? moved : ''})`);
  // A manifest on a remote vouches for all its files: one that no longer can is taken off.
  for (const w of r.withdrawn ?? []) lines.push(`${'withdrawn'.padEnd(10)} ${w.path}  (${w.oid.slice(0, 10)}, deleted from ${r.remote!.name}: not all its files are there)`);
  lines.push(`Checked ${formatCount(r.checked, 'object')} (${formatBytes(r.bytes)})${r.remote ? ` on ${r.remote.name}` : ''}: ${r.problems.length ? `${formatCount(r.problems.length, 'problem')}` : 'all good'}.`);
  if (r.problems.length) {
    lines.push(r.remote ? `Send good copies with \`dvs push -r ${r.remote.name}\` from a clone that has them.` : 'Fetch good copies with `dvs pull`, or re-track the data where it is intact.');
  }
  return { text: lines.join('\n') + '\n', exit: r.problems.length ? EXIT.differences : undefined, notes: (r.warnings ?? []).map((w) => warningNote(w.message, w.hint)) };
};
