import { defineCommand } from './types.js';
import type { UnprotectResult } from '../ops/unprotect.js';

export const unprotectCommand = defineCommand<{ paths: string[] }, UnprotectResult>({
  name: 'unprotect',
  command: 'unprotect <paths..>',
  describe: 'Replace linked, read-only checkouts with writable copies so they can be edited',
  builder: (y) => y.positional('paths', { type: 'string', array: true }),
  async run(args, env) {
    const { unprotect } = await import('../ops/unprotect.js');
    return unprotect(await env.context(), { targets: args.paths });
  },
});
