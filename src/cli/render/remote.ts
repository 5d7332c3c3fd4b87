import type { RemoteResult } from '../../ops/remote.js';
import type { Renderer } from './types.js';

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

export const renderRemote: Renderer<RemoteResult> = (r) => {
  switch (r.action) {
    case 'add':
      return { text: `${r.replaced ? 'Changed' : 'Added'} remote ${r.name}: ${r.url} (in ${r.file})${r.isDefault ? ', the default' : ''}\n` };
    case 'list': {
      if (r.remotes.length === 0) return { text: 'No remotes (dvs remote add <name> <url> to add one).\n' };
      const width = Math.max(...r.remotes.map((x) => x.name.length));
      const lines = r.remotes.map((x) => {
        const opts = Object.entries(x.options).map(([k, v]) => `${k}=${show(v)}`).join(' ');
        return `${x.isDefault ? '*' : ' '} ${x.name.padEnd(width)}  ${x.url}${opts ? `  (${opts})` : ''}`;
      });
      return { text: lines.join('\n') + '\n' };
    }
    case 'remove':
      return { text: `Removed remote ${r.name}${r.wasDefault ? ' (it was the default; none is now)' : ''}${r.files.length ? ` from ${r.files.join(' and ')}` : ''}\n` };
    case 'default':
      if (r.file && r.name === undefined) return { text: r.changed ? `No default remote now (in ${r.file})\n` : 'There was no default remote there.\n' };
      if (r.file) return { text: `Default remote: ${r.name} (in ${r.file})\n` };
      return { text: r.name ? `${r.name}\n` : '', notes: r.name ? [] : ['No default remote (dvs remote default <name> sets one).'] };
    case 'modify':
      return { text: r.unset ? `remote.${r.name}.${r.option} unset\n` : `remote.${r.name}.${r.option}=${show(r.value)} (in ${r.file})\n` };
  }
};
