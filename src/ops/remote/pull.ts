import { checkout, type CheckoutResult } from '../data/checkout.js';
import type { OpContext } from '../context.js';
import { fetchUnlocked, type FetchOptions, type FetchResult } from './fetch.js';
import { auditPaths } from './push.js';
import type { ScopedPointer } from './scope.js';

export interface PullOptions extends FetchOptions {
  /** Passed to checkout: overwrite workspace data that is not saved in the cache. */
  force?: boolean;
  /** Objects the remote lacks do not fail the pull: they are listed as warnings, the rest is done. */
  allowMissing?: boolean;
}

export interface PullResult {
  fetch: FetchResult;
  checkout: CheckoutResult;
  /** With allowMissing: the data paths left out because their objects are neither on the remote nor in the cache. */
  missing?: string[];
}

/**
 * fetch, then checkout of the same targets. A path inside a tracked directory fetches and checks out
 * just that part. Objects that could not be fetched are reported by fetch; checkout still places
 * everything else.
 */
export async function pull(ctx: OpContext, options: PullOptions = {}): Promise<PullResult> {
  let scope: ScopedPointer[] = [];
  const fetched = await ctx.repo.withLock({ ...ctx.lock, command: 'dvs pull' }, () => fetchUnlocked(ctx, options, (p) => (scope = p)));
  const checkedOut = await checkout(ctx, { targets: options.targets, force: options.force });
  // The audit trail records pulls that brought data into this repository.
  if (fetched.fetched > 0) {
    const { recordTransferEvent } = await import('../../audit/record.js');
    await recordTransferEvent(ctx.repo, {
      type: 'pull',
      paths: auditPaths(scope),
      data: { remote: fetched.remote.name, url: fetched.remote.url, objects: fetched.fetched, bytes: fetched.bytes, failed: fetched.failures.length },
    });
  }
  const result: PullResult = { fetch: fetched, checkout: checkedOut };
  if (options.allowMissing) result.missing = allowMissing(result);
  return result;
}

const NOT_PULLED_HINT = 'Push it from a clone that has it (dvs push), then pull again.';

/**
 * `--allow-missing`, as DVC's: an object the remote answered 404 for, and a file checkout could not
 * place because its object is not in the cache, become warnings naming the data path. Every other
 * failure (a bad copy, an unreachable remote, modified data) still fails the pull.
 */
function allowMissing(result: PullResult): string[] {
  const missing: string[] = [];
  const { fetch, checkout } = result;
  const named = new Set<string>();
  fetch.failures = fetch.failures.filter((f) => {
    if (f.code !== 'REMOTE_OBJECT_MISSING') return true;
    const path = f.path.replace(/ \(manifest\)$/, '');
    named.add(path);
    missing.push(path);
    fetch.warnings.push({ code: f.code, path, message: `${f.message}; not pulled (--allow-missing)`, hint: NOT_PULLED_HINT });
    return false;
  });
  checkout.failures = checkout.failures.filter((f) => {
    if (f.code !== 'OBJECT_MISSING') return true;
    if (!named.has(f.path)) {
      missing.push(f.path);
      checkout.warnings.push({ code: f.code, path: f.path, message: `${f.message}; not checked out (--allow-missing)`, hint: NOT_PULLED_HINT });
    }
    return false;
  });
  return missing;
}
