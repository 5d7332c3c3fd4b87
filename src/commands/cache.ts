import { defineCommand } from './types.js';
import type { CacheDirResult } from '../ops/setup/cache-dir.js';

export const cacheCommand = defineCommand<{ action: 'dir'; path?: string; local: boolean }, CacheDirResult>({
  name: 'cache',
  command: 'cache <action> [path]',
  describe: 'Show or set the cache directory (a cache may be shared between repositories)',
  builder: (y) =>
    y
      .positional('action', { choices: ['dir'] as const, describe: 'dir: show or set the cache location' })
      .positional('path', { type: 'string', describe: 'new cache location' })
      .option('local', { type: 'boolean', default: false, describe: 'write to .dvs/config.local' })
      .example('dvs cache dir', 'where the cache is')
      .example('dvs cache dir --local /mnt/shared/dvs-cache', 'use a cache shared by the repositories on this machine'),
  async run(args, env) {
    const { cacheDir } = await import('../ops/setup/cache-dir.js');
    return cacheDir(await env.repo(), { path: args.path, cwd: env.cwd, local: args.local });
  },
});
