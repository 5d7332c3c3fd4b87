import { DvsError } from '../errors.js';
import type { ReproCheckResult } from '../ops/history/repro-check.js';
import type { ReproResult } from '../ops/history/repro.js';
import { single, variadic } from './options.js';
import { terminalRunner } from './transform.js';
import { defineCommand } from './types.js';

export interface ReproArgs {
  datasets?: string[];
  dryRun: boolean;
  force: boolean;
  check: boolean;
  rev?: string;
}

export type ReproCommandResult = ({ action: 'repro' } & ReproResult) | ({ action: 'check' } & ReproCheckResult);

export const reproCommand = defineCommand<ReproArgs, ReproCommandResult>({
  name: 'repro',
  command: 'repro [datasets..]',
  describe: 'Rebuild datasets from their recorded lineage: re-run (or restore) the steps whose inputs or parameters changed',
  builder: (y) =>
    y
      .positional('datasets', variadic('the datasets to bring up to date (data paths or pointers; default: every dataset with lineage); every step upstream of them is considered'))
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'print which steps are stale and why; run nothing' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'run every step of the chain, stale or not, without the result cache' })
      .option('check', { type: 'boolean', default: false, describe: 'run the chain again in a scratch copy and compare with the recorded outputs (the workspace is not touched)' })
      .option('rev', single('string', 'plan from the lineage recorded at this revision (rebuild what it names)'))
      .example('dvs repro data/train.csv --dry-run', 'which steps upstream of data/train.csv are stale, and why')
      .example('dvs repro data/train.csv', 'rebuild them, in order; results seen before are restored, not recomputed')
      .example('dvs repro --check data/train.csv', 'is every step deterministic? names the ones that are not'),
  async run(args, env) {
    const targets = args.datasets ?? [];
    const run = terminalRunner(args.json);
    if (args.check) {
      const extra = args.dryRun ? '--dry-run' : args.force ? '--force' : undefined;
      if (extra) throw new DvsError('UNEXPECTED_OPTION', `${extra} does not apply to dvs repro --check (it changes nothing and runs every step)`);
      const { reproCheck } = await import('../ops/history/repro-check.js');
      return { action: 'check', ...(await reproCheck(await env.context(), { targets, rev: args.rev, run })) };
    }
    const { repro } = await import('../ops/history/repro.js');
    return { action: 'repro', ...(await repro(await env.context(), { targets, dryRun: args.dryRun, force: args.force, rev: args.rev, run })) };
  },
});
