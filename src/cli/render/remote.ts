import type { ConfigStaging, RemoteResult } from '../../ops/remote/remote.js';
import type { RemoteStatusResult } from '../../ops/remote/status.js';
import { EXIT } from '../exit-codes.js';
import { formatCount } from '../format.js';
import type { Rendered, Renderer } from './types.js';

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** The committed config a change staged, or the `git add` to run (core.autostage off). */
function staging(r: ConfigStaging): string {
  return `${r.staged.length ? `Staged: ${r.staged.join(' ')}\n` : ''}${r.toStage.length ? `To record this in Git: git add ${r.toStage.join(' ')}\n` : ''}`;
}

export const renderRemote: Renderer<RemoteResult> = (r) => {
  if (r.action === 'list') {
    if (r.remotes.length === 0) return { text: 'No remotes (dvs remote add <name> <url> to add one).\n' };
    const width = Math.max(...r.remotes.map((x) => x.name.length));
    const lines = r.remotes.map((x) => {
      const opts = Object.entries(x.options).map(([k, v]) => `${k}=${show(v)}`).join(' ');
      return `${x.isDefault ? '*' : ' '} ${x.name.padEnd(width)}  ${x.url}${opts ? `  (${opts})` : ''}`;
    });
    return { text: lines.join('\n') + '\n' };
  }
  const rendered = renderChange(r);
  return { ...rendered, text: rendered.text + staging(r) };
};

function renderChange(r: Exclude<RemoteResult, { action: 'list' }>): Rendered {
  switch (r.action) {
    case 'add':
      return { text: `${r.replaced ? 'Changed' : 'Added'} remote ${r.name}: ${r.url} (in ${r.file})${r.isDefault ? ', the default' : ''}\n` };
    case 'remove':
      return { text: `Removed remote ${r.name}${r.wasDefault ? ' (it was the default; none is now)' : ''}${r.files.length ? ` from ${r.files.join(' and ')}` : ''}\n` };
    case 'rename':
      return { text: `Renamed remote ${r.name} → ${r.newName}${r.files.length ? ` in ${r.files.join(' and ')}` : ''}${r.isDefault ? ', still the default' : ''}\n` };
    case 'default':
      if (r.file && r.name === undefined) return { text: r.changed ? `No default remote now (in ${r.file})\n` : 'There was no default remote there.\n' };
      if (r.file) return { text: `Default remote: ${r.name} (in ${r.file})\n` };
      return { text: r.name ? `${r.name}\n` : '', notes: r.name ? [] : ['No default remote (dvs remote default <name> sets one).'] };
    case 'modify':
      return { text: r.unset ? `remote.${r.name}.${r.option} unset\n` : `remote.${r.name}.${r.option}=${show(r.value)} (in ${r.file})\n` };
  }
}

/** `dvs status --remote`: per pointer, what the remote lacks; then what to do. */
export const renderRemoteStatus: Renderer<RemoteStatusResult> = (r, { args }) => {
  const name = r.remote.name;
  const lines: string[] = [];
  if (r.entries.length === 0) lines.push('No tracked data (dvs track <path> to start).');
  for (const e of r.entries) {
    const parts: string[] = [];
    if (e.remote.notPushed) parts.push(`${formatCount(e.remote.notPushed, 'object')} not pushed to ${name}`);
    if (e.remote.missingEverywhere) parts.push(`${formatCount(e.remote.missingEverywhere, 'object')} in neither the cache nor ${name}`);
    lines.push(`${parts.length ? '  changed' : '  ok     '}  ${e.path}${e.kind === 'dir' ? '/' : ''}${parts.length ? `: ${parts.join('; ')}` : ''}`);
  }
  if (r.entries.length && r.clean) lines.push(`Everything is on ${name}.`);
  else if (!r.clean) {
    const hints: string[] = [];
    if (r.remote.notPushed) hints.push(`dvs push -r ${name} to send what is not pushed`);
    if (r.remote.missingEverywhere) hints.push('push what is in neither place from a clone that has it');
    lines.push(`(${hints.join('; ')})`);
  }
  return { text: lines.join('\n') + '\n', exit: args.exitCode && !r.clean ? EXIT.differences : undefined };
};
