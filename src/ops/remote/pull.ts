import { checkout, type CheckoutResult } from '../data/checkout.js';
import type { OpContext } from '../context.js';
import { fetchUnlocked, type FetchOptions, type FetchResult } from './fetch.js';
import { auditPaths } from './push.js';
import type { ScopedPointer } from './scope.js';

export interface PullOptions extends FetchOptions {
  /** Passed to checkout: overwrite workspace data that is not saved in the cache. */
  force?: boolean;
}

export interface PullResult {
  fetch: FetchResult;
  checkout: CheckoutResult;
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
  return { fetch: fetched, checkout: checkedOut };
}
