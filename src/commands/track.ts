import { DvsError } from '../errors.js';
import { single, variadic } from './options.js';
import { defineCommand } from './types.js';
import type { TrackResult } from '../ops/data/track.js';

interface TrackArgs {
  paths: string[];
  glob: boolean;
  out?: string;
  force: boolean;
  toRemote: boolean;
  remote?: string;
  jobs?: number;
  appendOnly: boolean;
}

export const trackCommand = defineCommand<TrackArgs, TrackResult>({
  name: 'track',
  command: 'track <paths..>',
  aliases: ['add'],
  describe: 'Hash files or directories into the cache and write their .dvs pointers',
  builder: (y) =>
    y
      .positional('paths', variadic('files or directories to track'))
      .option('glob', { type: 'boolean', default: false, describe: 'the paths are glob patterns (*, **, ?, [..], {a,b}), expanded by dvs inside the repository' })
      .option('out', single('string', 'track the one source given (a file or folder anywhere, only read) as this path inside the repository', { alias: 'o' }))
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'with -o: replace what is at the destination' })
      .option('to-remote', { type: 'boolean', default: false, describe: 'upload the data straight to a remote instead of the cache (with -o: nothing is placed in the workspace; dvs pull gets it)' })
      .option('remote', single('string', 'with --to-remote: remote name (default: core.remote, or the only remote)', { alias: 'r' }))
      .option('append-only', { type: 'boolean', default: false, describe: 'declare the directories append-only: later tracks may add files but refuse to record a changed or removed one' })
      .option('jobs', single('number', 'with --to-remote: parallel uploads (default: per backend)', { alias: 'j' }))
      .example('dvs track data/train', 'hash data/train into the cache; write and stage data/train.dvs')
      .example('dvs track data/train/part-7.csv', 'inside tracked data/train: record only that file in its manifest')
      .example("dvs track --glob 'data/**/*.parquet'", 'every Parquet file under data/, each with its own pointer')
      .example('dvs track /mnt/big/corpus -o data/corpus --to-remote', 'from outside the repository, uploaded straight to the default remote; only data/corpus.dvs is written'),
  async run(args, env) {
    if (args.out !== undefined && (args.paths.length !== 1 || args.glob)) {
      throw new DvsError('TRACK_OUT_ONE_SOURCE', `-o/--out takes exactly one source (got ${args.glob ? '--glob' : `${args.paths.length}`})`, {
        hint: 'Track each source with its own -o: dvs track /mnt/a -o data/a',
      });
    }
    if (!args.toRemote && (args.remote !== undefined || args.jobs !== undefined)) {
      throw new DvsError('UNEXPECTED_OPTION', `${args.remote !== undefined ? '-r/--remote' : '-j/--jobs'} applies only with --to-remote`, { hint: 'Push tracked data with dvs push -r <remote>.' });
    }
    if (args.force && args.out === undefined) {
      throw new DvsError('UNEXPECTED_OPTION', '--force applies only with -o/--out', { hint: 'Re-tracking data in the workspace needs no --force.' });
    }
    if (args.appendOnly && (args.toRemote || args.out !== undefined)) {
      throw new DvsError('UNEXPECTED_OPTION', `--append-only does not combine with ${args.toRemote ? '--to-remote' : '-o/--out'}`, { hint: 'Track the directory in the workspace first: dvs track --append-only data/stream' });
    }
    if (args.toRemote) {
      const { trackToRemote } = await import('../ops/remote/track-to-remote.js');
      return trackToRemote(await env.context(), { targets: args.paths, glob: args.glob, out: args.out, force: args.force, remote: args.remote, jobs: args.jobs });
    }
    if (args.out !== undefined) {
      const { trackExternal } = await import('../ops/data/track-external.js');
      return trackExternal(await env.context(), { source: args.paths[0], out: args.out, force: args.force });
    }
    const { track } = await import('../ops/data/track.js');
    return track(await env.context(), { targets: args.paths, glob: args.glob, appendOnly: args.appendOnly });
  },
});
