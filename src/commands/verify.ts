import { defineCommand } from './types.js';
import type { VerifyResult } from '../ops/verify.js';

export const verifyCommand = defineCommand<{ paths?: string[] }, VerifyResult>({
  name: 'verify',
  command: 'verify [paths..]',
  describe: 'Re-hash the cache objects behind the pointers; quarantine bad ones',
  builder: (y) => y.positional('paths', { type: 'string', array: true, describe: 'limit to these tracked paths' }),
  async run(args, env) {
    const { verify } = await import('../ops/verify.js');
    return verify(await env.context(), { targets: args.paths });
  },
});
