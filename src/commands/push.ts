import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { repeatable, single, variadic } from './options.js';
import { defineCommand, type CommandEnv } from './types.js';
import type { PushResult } from '../ops/remote/push.js';

export interface TransferArgs {
  paths?: string[];
  remote?: string;
  jobs?: number;
  rev?: string[];
  allBranches: boolean;
  allTags: boolean;
  allCommits: boolean;
}

/** Flags push, fetch and pull share. */
export const transferOptions = (y: import('yargs').Argv) =>
  y
    .positional('paths', variadic('limit to these tracked paths (a path inside a tracked directory: just that part)'))
    .option('remote', single('string', 'remote name (default: core.remote, or the only remote)', { alias: 'r' }))
    .option('jobs', single('number', 'parallel transfers (default: per backend)', { alias: 'j' }))
    .option('rev', repeatable('also what this revision\'s pointers need'))
    .option('all-branches', { alias: 'a', type: 'boolean', default: false, describe: 'also what every branch needs' })
    .option('all-tags', { alias: 'T', type: 'boolean', default: false, describe: 'also what every tag needs' })
    .option('all-commits', { alias: 'A', type: 'boolean', default: false, describe: 'also what every commit needs' });

/** `dvs push`, `dvs fetch` and `dvs pull` examples: the same options, a different verb. */
export const transferExamples = (verb: string) => (y: import('yargs').Argv) =>
  y
    .example(`dvs ${verb}`, `${verb === 'push' ? 'upload' : 'download'} what the workspace's pointers need`)
    .example(`dvs ${verb} --rev HEAD~1 --rev v1.0 data/train`, 'data/train: the versions the workspace, HEAD~1 and tag v1.0 name')
    .example(`dvs ${verb} -r backup -a`, `what every branch needs, ${verb === 'push' ? 'to' : 'from'} remote backup`);

export function transferScope(args: TransferArgs) {
  return {
    targets: args.paths,
    remote: args.remote,
    jobs: args.jobs,
    revs: args.rev,
    allBranches: args.allBranches,
    allTags: args.allTags,
    allCommits: args.allCommits,
  };
}

/**
 * `--remote [name]` takes an optional value, so `dvs status --remote data/` would read `data/` as the
 * remote's name. A value that names no remote but an existing path is taken as a path instead.
 */
export async function remoteFlag(env: CommandEnv, value: string | undefined, paths: string[] | undefined): Promise<{ remote?: string | true; paths?: string[] }> {
  if (value === undefined) return { paths };
  if (value === '') return { remote: true, paths };
  const repo = await env.repo();
  if (repo.config.remoteNames().includes(value) || !existsSync(resolve(env.cwd, value))) return { remote: value, paths };
  return { remote: true, paths: [...(paths ?? []), value] };
}

export const pushCommand = defineCommand<TransferArgs, PushResult>({
  name: 'push',
  command: 'push [paths..]',
  describe: 'Upload the objects the pointers need that the remote lacks',
  builder: (y) => transferExamples('push')(transferOptions(y)),
  async run(args, env) {
    const { push } = await import('../ops/remote/push.js');
    return push(await env.context(), transferScope(args));
  },
});
