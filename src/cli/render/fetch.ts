import type { FetchResult } from '../../ops/fetch.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount } from '../format.js';
import { failureNotes } from './push.js';
import type { Renderer } from './types.js';
import { groupDigits } from '../format.js';

export function fetchLine(r: FetchResult): string {
  return r.fetched === 0 && r.failures.length === 0
    ? `Everything is already in the cache (${formatCount(r.alreadyInCache, 'object')}).`
    : `Fetched ${formatCount(r.fetched, 'object')} (${formatBytes(r.bytes)}) from ${r.remote.name}; ${groupDigits(r.alreadyInCache)} already in the cache.`;
}

export const renderFetch: Renderer<FetchResult> = (r, { verbose }) => ({
  text: fetchLine(r) + '\n',
  exit: r.failures.length ? EXIT.partial : undefined,
  notes: failureNotes(r.failures, verbose, 'fetched'),
});
