import { hookCommand } from '../commands/hook.js';
import { DvsError } from '../errors.js';
import { HOOK_NAMES, type HookName } from '../scm/hook-names.js';
import { execute, reportError } from './execute.js';

/**
 * `dvs hook <name> [args…]`, as the Git hook scripts call it, without loading yargs: hooks run on every
 * checkout and must start fast. The arguments are Git's, passed through unparsed.
 */
export async function hookMain(argv: string[], cwd = process.cwd()): Promise<number> {
  const [, name, ...args] = argv;
  if (!HOOK_NAMES.includes(name as HookName)) {
    return reportError(new DvsError('UNKNOWN_HOOK', `Unknown hook "${name}"`, { hint: `One of: ${HOOK_NAMES.join(', ')}.` }), false, false);
  }
  // Hooks wait for the lock: a Git command should not lose its data sync to a concurrent dvs command.
  return execute(hookCommand, { name, args, json: false, quiet: false, verbose: false, waitForLock: true }, cwd);
}
