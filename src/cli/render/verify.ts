import type { VerifyResult } from '../../ops/verify.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount } from '../format.js';
import type { Renderer } from './types.js';

export const renderVerify: Renderer<VerifyResult> = (r) => {
  const lines = r.problems.map((p) => `${p.problem.padEnd(10)} ${p.path}  (${p.oid.slice(0, 10)}${p.quarantined ? ', moved to quarantine' : ''})`);
  lines.push(`Checked ${formatCount(r.checked, 'object')} (${formatBytes(r.bytes)}): ${r.problems.length ? `${formatCount(r.problems.length, 'problem')}` : 'all good'}.`);
  if (r.problems.length) lines.push('Fetch good copies with `dvs pull`, or re-track the data where it is intact.');
  return { text: lines.join('\n') + '\n', exit: r.problems.length ? EXIT.differences : undefined };
};
