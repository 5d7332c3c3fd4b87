import { checkout, type CheckoutResult } from './checkout.js';
import type { OpContext } from './context.js';
import { fetchUnlocked, type FetchOptions, type FetchResult } from './fetch.js';

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
  const fetched = await ctx.repo.withLock({ ...ctx.lock, command: 'dvs pull' }, () => fetchUnlocked(ctx, options));
  const checkedOut = await checkout(ctx, { targets: options.targets, force: options.force });
  return { fetch: fetched, checkout: checkedOut };
}
