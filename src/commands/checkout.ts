import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { CheckoutPreview, CheckoutResult } from '../ops/data/checkout.js';

export interface CheckoutArgs {
  paths?: string[];
  force: boolean;
  relink: boolean;
  dryRun: boolean;
}

export const checkoutCommand = defineCommand<CheckoutArgs, CheckoutResult | CheckoutPreview>({
  name: 'checkout',
  command: 'checkout [paths..]',
  describe: 'Make the workspace match the pointers, from the cache',
  builder: (y) =>
    y
      .positional('paths', variadic('limit to these tracked paths (or files inside tracked directories)'))
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'overwrite or delete workspace data even if it is not saved in the cache' })
      .option('relink', { type: 'boolean', default: false, describe: 'place every file again with the configured cache.type, even where its bytes already match' })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print what would be added, modified and deleted; change nothing' })
      .example('dvs checkout data/train', 'after `git checkout v1.0 -- data/train.dvs`: the data of v1.0')
      .example('dvs checkout --dry-run', 'what a checkout of all tracked data would change')
      .example('dvs checkout --relink', 'after `dvs config cache.type hardlink,copy`: turn checked-out copies into hardlinks'),
  async run(args, env) {
    const { checkout, previewCheckout } = await import('../ops/data/checkout.js');
    const options = { targets: args.paths, force: args.force, relink: args.relink };
    return args.dryRun ? previewCheckout(await env.context(), options) : checkout(await env.context(), options);
  },
});
