import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { TrackResult } from '../ops/data/track.js';

export const trackCommand = defineCommand<{ paths: string[]; glob: boolean }, TrackResult>({
  name: 'track',
  command: 'track <paths..>',
  aliases: ['add'],
  describe: 'Hash files or directories into the cache and write their .dvs pointers',
  builder: (y) =>
    y
      .positional('paths', variadic('files or directories to track'))
      .option('glob', { type: 'boolean', default: false, describe: 'the paths are glob patterns (*, **, ?, [..], {a,b}), expanded by dvs inside the repository' })
      .example('dvs track data/train', 'hash data/train into the cache; write and stage data/train.dvs')
      .example('dvs track model.bin data/raw/*.csv', 'several paths at once')
      .example("dvs track --glob 'data/**/*.parquet'", 'every Parquet file under data/, each with its own pointer'),
  async run(args, env) {
    const { track } = await import('../ops/data/track.js');
    return track(await env.context(), { targets: args.paths, glob: args.glob });
  },
});
