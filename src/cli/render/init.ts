import type { InitResult } from '../../ops/setup/init.js';
import type { Renderer } from './types.js';

export const renderInit: Renderer<InitResult> = (r) => ({
  text: r.alreadyInitialised && r.created.length === 0
    ? `dvs is already set up in ${r.root}\n`
    : `Initialised dvs in ${r.root}/.dvs\n${r.staged.length ? `Staged: ${r.staged.join(' ')}\nCommit them: git commit -m "Set up dvs"\n` : ''}`,
});
