import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { OpContext } from '../context.js';
import { remoteName } from '../remote/open.js';

/**
 * Bring objects a read-only command needs (`dvs diff`, `run compare`) from the remote `dvs pull` would
 * use, if there is one. The command goes on without them, and says so, when there is none or the fetch
 * fails: a diff of what can be read is worth more than no diff.
 */
export async function fetchMissing(ctx: OpContext, oids: Oid[], neededBy: string, warnings: Warning[]): Promise<void> {
  let remote: string;
  try {
    remote = remoteName(ctx.repo);
  } catch {
    warnings.push({ code: 'OBJECTS_MISSING', message: `${oids.length} object${oids.length === 1 ? '' : 's'} needed by ${neededBy} are not in the cache and no default remote is set`, hint: 'Fetch them (dvs fetch --rev <rev>) or set a default remote (dvs remote default <name>).' });
    return;
  }
  try {
    const { fetchObjects } = await import('../remote/fetch.js');
    const r = await fetchObjects(ctx, oids, { remote });
    if (r.failed.length) warnings.push({ code: 'FETCH_FAILED', message: `${r.failed.length} object${r.failed.length === 1 ? '' : 's'} could not be fetched from ${remote}: ${r.failed[0].message}` });
  } catch (err) {
    warnings.push({ code: 'FETCH_FAILED', message: `fetching from ${remote} failed: ${(err as Error).message}` });
  }
}
