import { single, variadic } from './options.js';
import { defineCommand } from './types.js';
import type { UpdateResult } from '../ops/registry/update.js';

export interface UpdateArgs {
  paths: string[];
  rev?: string;
  force: boolean;
}

export const updateCommand = defineCommand<UpdateArgs, UpdateResult>({
  name: 'update',
  command: 'update <paths..>',
  describe: 'Move imported data forward to the newest commit of its source revision (or to --rev)',
  builder: (y) =>
    y
      .positional('paths', variadic('imported data (data paths or their pointers)'))
      .option('rev', single('string', 'follow this branch, tag or commit of the source from now on'))
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'replace imported data that was changed here' })
      .example('dvs update data/images', 'the newest version on the branch it was imported from')
      .example('dvs update data/images --rev v3', 'switch to tag v3 of the source'),
  async run(args, env) {
    const { update } = await import('../ops/registry/update.js');
    return update(await env.context(), { targets: args.paths, rev: args.rev, force: args.force });
  },
});
