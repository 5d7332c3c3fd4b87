import { variadic } from './options.js';
import { defineCommand } from './types.js';
import type { CheckoutResult } from '../ops/data/checkout.js';

export const checkoutCommand = defineCommand<{ paths?: string[]; force: boolean }, CheckoutResult>({
  name: 'checkout',
  command: 'checkout [paths..]',
  describe: 'Make the workspace match the pointers, from the cache',
  builder: (y) =>
    y
      .positional('paths', variadic('limit to these tracked paths (or files inside tracked directories)'))
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'overwrite or delete workspace data even if it is not saved in the cache' })
      .example('dvs checkout', 'make all tracked data match its pointer')
      .example('dvs checkout data/train', 'after `git checkout v1.0 -- data/train.dvs`: the data of v1.0'),
  async run(args, env) {
    const { checkout } = await import('../ops/data/checkout.js');
    return checkout(await env.context(), { targets: args.paths, force: args.force });
  },
});
