import type { RecordHashResult } from '../../ops/data/record-hash.js';
import { formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

/** `<digest>  <path>` like sha256sum, then what was hashed. */
export const renderHash: Renderer<RecordHashResult> = (r) => {
  const at = r.rev ? ` at ${r.rev.slice(0, 10)}` : '';
  const what = `${formatCount(r.rows, 'record')} in ${formatCount(r.files, 'file')} (${r.formats.join(', ')}), ${r.ordered ? 'in order' : 'in any order'}`;
  return {
    text: `${r.digest}  ${r.path || '.'}${at}\n${what}; ${r.algorithm}${r.ordered ? ' sequence' : ' multiset'}\n`,
    notes: r.warnings.map((w) => warningNote(w.message, w.hint)),
  };
};
