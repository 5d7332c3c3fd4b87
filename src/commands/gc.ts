import { lastValue, repeatable, single } from './options.js';
import { defineCommand } from './types.js';
import type { GcResult } from '../ops/data/gc.js';

export interface GcArgs {
  allBranches: boolean;
  allTags: boolean;
  allCommits: boolean;
  rev?: string[];
  date?: string;
  runs: boolean;
  projects?: string[];
  dryRun: boolean;
  force: boolean;
  remote?: string;
}

export const gcCommand = defineCommand<GcArgs, GcResult>({
  name: 'gc',
  command: 'gc',
  describe: 'Delete cache objects nothing kept needs (the workspace always, run records\' datasets unless --no-runs)',
  builder: (y) =>
    y
      .option('all-branches', { alias: 'a', type: 'boolean', default: false, describe: 'also keep what every branch needs' })
      .option('all-tags', { alias: 'T', type: 'boolean', default: false, describe: 'also keep what every tag needs' })
      .option('all-commits', { alias: 'A', type: 'boolean', default: false, describe: 'also keep what every commit needs' })
      .option('rev', repeatable('also keep what this revision needs'))
      .option('date', single('string', 'also keep what every commit made on or after this day needs (YYYY-MM-DD; with -A, only those)'))
      .option('runs', { type: 'boolean', default: true, describe: 'keep the datasets that run records in scope name (--no-runs to collect them)' })
      .option('projects', repeatable('another dvs repository sharing this cache: also keep what its scope needs'))
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'list what would be deleted (the data paths and commits of each object), delete nothing' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'collect even if a kept manifest is missing or a run record cannot be read' })
      .option('remote', { alias: 'r', type: 'string', coerce: lastValue, describe: 'collect a remote instead of the cache (default remote if no name); try --dry-run first' })
      .example('dvs gc -a -T --dry-run', 'what would go (data paths and commits), keeping what every branch and tag needs')
      .example('dvs gc --date 2024-01-01 --projects ../b', 'keep what commits since 2024 need, and what ../b (same cache) needs')
      .example('dvs gc --remote origin --all-commits --no-runs', 'delete from remote origin what no commit needs, even datasets of old runs'),
  async run(args, env) {
    const options = {
      allBranches: args.allBranches,
      allTags: args.allTags,
      allCommits: args.allCommits,
      revs: args.rev,
      since: args.date,
      noRuns: !args.runs,
      projects: args.projects,
      dryRun: args.dryRun,
      force: args.force,
    };
    if (args.remote !== undefined) {
      const { gcRemote } = await import('../ops/remote/gc.js');
      return gcRemote(await env.context(), { ...options, remote: args.remote === '' ? undefined : args.remote });
    }
    const { gc } = await import('../ops/data/gc.js');
    return gc(await env.context(), options);
  },
});
