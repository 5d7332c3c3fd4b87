import { single } from './options.js';
import { defineCommand } from './types.js';
import type { ListResult } from '../ops/registry/list.js';

export interface ListArgs {
  url: string;
  path?: string;
  rev?: string;
  recursive: boolean;
}

export const listCommand = defineCommand<ListArgs, ListResult>({
  name: 'list',
  command: 'list <url> [path]',
  aliases: ['ls'],
  describe: 'List the data another Git repository tracks with dvs (a data registry)',
  noRepo: true,
  builder: (y) =>
    y
      .positional('url', { type: 'string', describe: 'the source repository: a Git URL or a local path' })
      .positional('path', { type: 'string', describe: 'only the data at this path, or in this folder, of the source' })
      .option('rev', single('string', 'a branch, tag or commit of the source (default: its default branch)'))
      .option('recursive', { alias: 'R', type: 'boolean', default: false, describe: "also list the files of tracked directories (fetches their manifests from the source's remote)" })
      .example('dvs list https://github.com/org/datasets', 'the data the registry tracks, with sizes')
      .example('dvs list ../datasets images -R --rev v2', 'the files of images/ at tag v2 of a local clone'),
  async run(args, env) {
    const { list } = await import('../ops/registry/list.js');
    return list({ cwd: env.cwd }, { url: args.url, path: args.path, rev: args.rev, recursive: args.recursive });
  },
});
