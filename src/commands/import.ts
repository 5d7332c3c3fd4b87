import { single } from './options.js';
import { defineCommand } from './types.js';
import type { ImportResult } from '../ops/registry/import.js';

export interface ImportArgs {
  url: string;
  path: string;
  out?: string;
  rev?: string;
  force: boolean;
}

export const importCommand = defineCommand<ImportArgs, ImportResult>({
  name: 'import',
  command: 'import <url> <path>',
  describe: 'Bring data another Git repository tracks into this one, tracked, with its source recorded',
  builder: (y) =>
    y
      .positional('url', { type: 'string', describe: 'the source repository: a Git URL or a local path' })
      .positional('path', { type: 'string', describe: 'the data path in the source repository' })
      .option('out', single('string', 'the data path here (default: its name, in the current directory)', { alias: 'o' }))
      .option('rev', single('string', 'a branch, tag or commit of the source to follow (default: its default branch)'))
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'replace data or a pointer already at the output path' })
      .example('dvs import https://github.com/org/datasets images -o data/images', 'track the registry\'s images/ as data/images (pointer staged)')
      .example('dvs import ../datasets labels.csv --rev v2', 'follow tag v2 of a local clone'),
  async run(args, env) {
    const { importData } = await import('../ops/registry/import.js');
    return importData(await env.context(), { url: args.url, path: args.path, out: args.out, rev: args.rev, force: args.force });
  },
});
