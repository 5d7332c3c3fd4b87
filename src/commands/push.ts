import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineCommand, type CommandEnv } from './types.js';
import type { PushResult } from '../ops/push.js';

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
    .positional('paths', { type: 'string', array: true, describe: 'limit to these tracked paths (a path inside a tracked directory: just that part)' })
    .option('remote', { alias: 'r', type: 'string', describe: 'remote name (default: core.remote)' })
    .option('jobs', { alias: 'j', type: 'number', describe: 'parallel transfers (default: per backend)' })
    .option('rev', { type: 'string', array: true, describe: 'also what these revisions\' pointers need' })
    .option('all-branches', { alias: 'a', type: 'boolean', default: false, describe: 'also what every branch needs' })
    .option('all-tags', { alias: 'T', type: 'boolean', default: false, describe: 'also what every tag needs' })
    .option('all-commits', { alias: 'A', type: 'boolean', default: false, describe: 'also what every commit needs' });

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
  builder: transferOptions,
  async run(args, env) {
    const { push } = await import('../ops/push.js');
    return push(await env.context(), transferScope(args));
  },
});
