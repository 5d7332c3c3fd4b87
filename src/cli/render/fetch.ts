import type { FetchResult } from '../../ops/remote/fetch.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount, groupDigits, warningNote } from '../format.js';
import { failureNotes } from './push.js';
import type { Renderer } from './types.js';

export function fetchLine(r: FetchResult): string {
  return r.fetched === 0 && r.failures.length === 0
    ? `Everything is already in the cache (${formatCount(r.alreadyInCache, 'object')}).`
    : `Fetched ${formatCount(r.fetched, 'object')} (${formatBytes(r.bytes)}) from ${r.remote.name}; ${groupDigits(r.alreadyInCache)} already in the cache.`;
}

/** What a fetch told the remote about objects it found missing there (after the failures). */
export function remoteNotes(r: FetchResult): string[] {
  const notes = r.withdrawn.map((w) => `withdrawn from ${r.remote.name}: ${w.path} (${w.oid.slice(0, 10)}), which vouched for files that are not there`);
  if (r.withdrawn.length) notes.push(`  \`dvs push -r ${r.remote.name}\` from a clone that has the files sends them back, then the manifest${r.withdrawn.length === 1 ? '' : 's'}.`);
  for (const w of r.warnings) notes.push(warningNote(w.message, w.hint));
  return notes;
}

export const renderFetch: Renderer<FetchResult> = (r, { verbose }) => ({
  text: fetchLine(r) + '\n',
  exit: r.failures.length ? EXIT.partial : undefined,
  notes: [...failureNotes(r.failures, verbose, 'fetched'), ...remoteNotes(r)],
});
