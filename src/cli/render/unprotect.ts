import type { UnprotectResult } from '../../ops/data/unprotect.js';
import type { Renderer } from './types.js';

export const renderUnprotect: Renderer<UnprotectResult> = (r) => ({
  text: r.unprotected.length ? r.unprotected.map((p) => `unprotected ${p}`).join('\n') + '\n' : 'Nothing to unprotect: the files are already writable copies.\n',
});
