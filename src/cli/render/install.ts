import type { InstallResult, UninstallResult } from '../../ops/git/install.js';
import { EXIT } from '../exit-codes.js';
import { errorNote } from '../format.js';
import type { Renderer } from './types.js';

export const renderInstall: Renderer<InstallResult> = (r) => {
  const lines = r.hooks.map((h) => `${h.action.padEnd(9)} ${h.name}${h.action === 'chained' ? ' (the existing hook still runs first)' : ''}${h.reason ? `: ${h.reason}` : ''}`);
  lines.push(`Hooks in ${r.hooksDir}; merge driver for *.dvs registered${r.attributes ? ' (.gitattributes updated and staged)' : ''}.`);
  const refused = r.hooks.filter((h) => h.action === 'refused');
  const notes = refused.map((h) => errorNote(`${h.name} not installed: ${h.reason}`, 'merge the two hooks by hand, or remove the .pre-dvs file, then run dvs install again.'));
  return { text: lines.join('\n') + '\n', notes, exit: refused.length ? EXIT.conflict : undefined };
};

export const renderUninstall: Renderer<UninstallResult> = (r) => ({
  text: r.hooks.map((h) => `${h.action.padEnd(9)} ${h.name}`).join('\n') + `\nMerge driver unregistered.\n`,
});
