import type { PullResult } from '../../ops/remote/pull.js';
import { EXIT } from '../exit-codes.js';
import { renderCheckout } from './checkout.js';
import { fetchLine, remoteNotes } from './fetch.js';
import { failureNotes } from './push.js';
import type { Renderer } from './types.js';

export const renderPull: Renderer<PullResult> = (r, options) => {
  // A file that could not be fetched also fails checkout; say it once, with the fetch's reason.
  const fetchFailed = new Set(r.fetch.failures.map((f) => f.path.replace(/ \(manifest\)$/, '')));
  const checkout = renderCheckout({ ...r.checkout, failures: r.checkout.failures.filter((f) => !(f.code === 'OBJECT_MISSING' && fetchFailed.has(f.path))) }, options);
  const failed = r.fetch.failures.length > 0 || r.checkout.failures.length > 0;
  return {
    text: `${fetchLine(r.fetch)}\n${checkout.text}`,
    exit: failed ? EXIT.partial : undefined,
    notes: [...failureNotes(r.fetch.failures, options.verbose, 'fetched'), ...remoteNotes(r.fetch), ...(checkout.notes ?? [])],
  };
};
