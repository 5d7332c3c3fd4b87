import { remoteFlag } from './push.js';
import { lastValue, variadic } from './options.js';
import { defineCommand } from './types.js';
import type { VerifyResult } from '../ops/data/verify.js';

export const verifyCommand = defineCommand<{ paths?: string[]; remote?: string; deep: boolean }, VerifyResult>({
  name: 'verify',
  command: 'verify [paths..]',
  describe: 'Re-hash the cache objects behind the pointers; quarantine bad ones',
  builder: (y) =>
    y
      .positional('paths', variadic('limit to these tracked paths'))
      .option('remote', { alias: 'r', type: 'string', coerce: lastValue, describe: 'check a remote instead (default remote if no name): every object there, with the right size' })
      .option('deep', { type: 'boolean', default: false, describe: 'with --remote: download and re-hash every object' })
      .example('dvs verify', 'is every cache object the pointers need intact?')
      .example('dvs verify --remote origin --deep', 're-hash every object on remote origin; bad copies are deleted there'),
  async run(args, env) {
    const { remote, paths } = await remoteFlag(env, args.remote, args.paths);
    if (remote !== undefined) {
      const { verifyRemote } = await import('../ops/remote/verify.js');
      return verifyRemote(await env.context(), { targets: paths, remote: remote === true ? undefined : remote, deep: args.deep });
    }
    const { verify } = await import('../ops/data/verify.js');
    return verify(await env.context(), { targets: paths });
  },
});
