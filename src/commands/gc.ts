import { lastValue, repeatable } from './options.js';
import { defineCommand } from './types.js';
import type { GcResult } from '../ops/data/gc.js';

export interface GcArgs {
  allBranches: boolean;
  allTags: boolean;
  allCommits: boolean;
  rev?: string[];
  dryRun: boolean;
  force: boolean;
  remote?: string;
}

export const gcCommand = defineCommand<GcArgs, GcResult>({
  name: 'gc',
  command: 'gc',
  describe: 'Delete cache objects no kept pointer needs (the workspace is always kept)',
  builder: (y) =>
    y
      .option('all-branches', { alias: 'a', type: 'boolean', default: false, describe: 'also keep what every branch needs' })
      .option('all-tags', { alias: 'T', type: 'boolean', default: false, describe: 'also keep what every tag needs' })
      .option('all-commits', { alias: 'A', type: 'boolean', default: false, describe: 'also keep what every commit needs' })
      .option('rev', repeatable('also keep what this revision needs'))
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'list what would be deleted, delete nothing' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'collect even if a kept manifest is missing' })
      .option('remote', { alias: 'r', type: 'string', coerce: lastValue, describe: 'collect a remote instead of the cache (default remote if no name); try --dry-run first' })
      .example('dvs gc -a -T --dry-run', 'what would go, keeping what every branch and tag needs')
      .example('dvs gc --remote origin --all-commits', 'delete from remote origin what no commit needs'),
  async run(args, env) {
    const options = { allBranches: args.allBranches, allTags: args.allTags, allCommits: args.allCommits, revs: args.rev, dryRun: args.dryRun, force: args.force };
    if (args.remote !== undefined) {
      const { gcRemote } = await import('../ops/remote/gc.js');
      return gcRemote(await env.context(), { ...options, remote: args.remote === '' ? undefined : args.remote });
    }
    const { gc } = await import('../ops/data/gc.js');
    return gc(await env.context(), options);
  },
});
