import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { UnprotectResult } from '../ops/data/unprotect.js';

export const unprotectCommand = defineCommand<{ paths: string[] }, UnprotectResult>({
  name: 'unprotect',
  command: 'unprotect <paths..>',
  describe: 'Replace linked, read-only checkouts with writable copies so they can be edited',
  builder: (y) =>
    y
      .positional('paths', variadic('tracked files or directories (or files inside them) to make writable'))
      .example('dvs unprotect data/train/a.csv', 'a writable copy of a hardlinked checkout, to edit without touching the cache'),
  async run(args, env) {
    const { unprotect } = await import('../ops/data/unprotect.js');
    return unprotect(await env.context(), { targets: args.paths });
  },
});
