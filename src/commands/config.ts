import { defineCommand } from './types.js';
import type { ConfigResult } from '../ops/setup/config.js';

export const configCommand = defineCommand<{ key?: string; value?: string; unset: boolean; local: boolean }, ConfigResult>({
  name: 'config',
  command: 'config [key] [value]',
  describe: 'Get, set or list configuration (section.key)',
  builder: (y) =>
    y
      .positional('key', { type: 'string', describe: 'e.g. cache.type, core.autostage, remote.<name>.url' })
      .positional('value', { type: 'string', describe: 'new value; omit to read' })
      .option('unset', { type: 'boolean', default: false, describe: 'remove the key' })
      .option('local', { type: 'boolean', default: false, describe: 'use .dvs/config.local (not committed; for secrets and paths of this machine)' })
      .example('dvs config', 'every setting and its value')
      .example('dvs config core.remote', 'print one value (nothing, and exit 1, when it is not set)')
      .example('dvs config cache.type hardlink,copy', 'set a value in .dvs/config'),
  async run(args, env) {
    const { config } = await import('../ops/setup/config.js');
    return config(await env.repo(), { key: args.key, value: args.value === undefined ? undefined : String(args.value), unset: args.unset, local: args.local });
  },
});
