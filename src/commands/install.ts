import { defineCommand } from './types.js';
import type { InstallResult, UninstallResult } from '../ops/git/install.js';

export const installCommand = defineCommand<{ preCommit: boolean }, InstallResult>({
  name: 'install',
  command: 'install',
  describe: 'Install the Git hooks (data follows checkout/merge/pull/rebase; push sends data) and the pointer merge driver',
  builder: (y) =>
    y
      .option('pre-commit', { type: 'boolean', default: false, describe: 'also a pre-commit hook that warns when tracked data differs from its staged pointer' })
      .example('git clone <url> repo && cd repo && dvs install && dvs pull', 'a fresh clone: hooks first, then the data')
      .example('dvs install --pre-commit', 'git commit also warns about data changed since it was tracked'),
  async run(args, env) {
    const { install } = await import('../ops/git/install.js');
    return install(await env.repo(), { preCommit: args.preCommit });
  },
});

export const uninstallCommand = defineCommand<Record<string, never>, UninstallResult>({
  name: 'uninstall',
  command: 'uninstall',
  describe: 'Remove the dvs Git hooks and merge driver, restoring hooks that were there before',
  builder: (y) => y.example('dvs uninstall', 'Git checkouts stop moving data; hooks dvs had chained are put back'),
  async run(_args, env) {
    const { uninstall } = await import('../ops/git/install.js');
    return uninstall(await env.repo());
  },
});
