import { defineCommand } from './types.js';
import type { FetchResult } from '../ops/remote/fetch.js';
import { transferExamples, transferOptions, transferScope, type TransferArgs } from './push.js';

export const fetchCommand = defineCommand<TransferArgs, FetchResult>({
  name: 'fetch',
  command: 'fetch [paths..]',
  describe: 'Download into the cache the objects the pointers need (the workspace is not touched)',
  builder: (y) => transferExamples('fetch')(transferOptions(y)),
  async run(args, env) {
    const { fetch } = await import('../ops/remote/fetch.js');
    return fetch(await env.context(), transferScope(args));
  },
});
