import { defineCommand } from './types.js';
import type { TrackResult } from '../ops/track.js';

export const trackCommand = defineCommand<{ paths: string[] }, TrackResult>({
  name: 'track',
  command: 'track <paths..>',
  aliases: ['add'],
  describe: 'Hash files or directories into the cache and write their .dvs pointers',
  builder: (y) => y.positional('paths', { type: 'string', array: true, describe: 'files or directories to track' }),
  async run(args, env) {
    const { track } = await import('../ops/track.js');
    return track(await env.context(), { targets: args.paths });
  },
});
