import { single } from './options.js';
import { defineCommand } from './types.js';
import type { GetResult } from '../ops/registry/get.js';

export interface GetArgs {
  url: string;
  path: string;
  out?: string;
  rev?: string;
  force: boolean;
}

export const getCommand = defineCommand<GetArgs, GetResult>({
  name: 'get',
  command: 'get <url> <path>',
  describe: 'Download data another Git repository tracks, without tracking it here',
  noRepo: true,
  builder: (y) =>
    y
      .positional('url', { type: 'string', describe: 'the source repository: a Git URL or a local path' })
      .positional('path', { type: 'string', describe: 'the data path in the source repository' })
      .option('out', single('string', 'where to put it (default: its name, in the current directory)', { alias: 'o' }))
      .option('rev', single('string', 'a branch, tag or commit of the source (default: its default branch)'))
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'replace an existing file or directory at the output path' })
      .example('dvs get https://github.com/org/datasets images', 'images/ from the registry, into ./images')
      .example('dvs get ../datasets labels.csv -o data/labels.csv --rev v2', 'one file at tag v2 of a local clone'),
  async run(args, env) {
    const { get } = await import('../ops/registry/get.js');
    return get({ cwd: env.cwd }, { url: args.url, path: args.path, out: args.out, rev: args.rev, force: args.force });
  },
});
