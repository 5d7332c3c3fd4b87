import type { ConfigResult } from '../../ops/setup/config.js';
import { EXIT } from '../exit-codes.js';
import type { Renderer } from './types.js';

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : v === undefined ? '' : String(v));

export const renderConfig: Renderer<ConfigResult> = (r) => {
  switch (r.action) {
    case 'list':
      return { text: r.values.map((e) => `${e.key}=${show(e.value)}`).join('\n') + (r.values.length ? '\n' : '') };
    case 'get':
      // Like `git config <key>`: a key that is not set prints nothing and exits 1, so scripts can tell.
      return r.value === undefined ? { text: '', exit: EXIT.differences } : { text: `${show(r.value)}\n` };
    case 'set':
      return { text: `${r.key}=${show(r.value)} (in ${r.file})\n` };
    case 'unset':
      return { text: `${r.key} unset (in ${r.file})\n` };
  }
};
