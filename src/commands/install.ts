import { defineCommand } from './types.js';
import type { InstallResult, UninstallResult } from '../ops/install.js';

export const installCommand = defineCommand<Record<string, never>, InstallResult>({
  name: 'install',
  command: 'install',
  describe: 'Install the Git hooks (data follows checkout/merge/pull/rebase; push sends data) and the pointer merge driver',
  async run(_args, env) {
    const { install } = await import('../ops/install.js');
    return install(await env.repo());
  },
});

export const uninstallCommand = defineCommand<Record<string, never>, UninstallResult>({
  name: 'uninstall',
  command: 'uninstall',
  describe: 'Remove the dvs Git hooks and merge driver, restoring hooks that were there before',
  async run(_args, env) {
    const { uninstall } = await import('../ops/install.js');
    return uninstall(await env.repo());
  },
});
