import { statSync } from 'node:fs';
import { errnoCode } from '../errors.js';
import { CHUNK_SIZE, stampOf } from '../objects/hash.js';
import type { ObjectCache } from '../objects/cache.js';
import type { Oid } from '../objects/oid.js';
import type { StatCache } from '../objects/stat-cache.js';

export type ObjectHealth = 'ok' | 'missing' | 'corrupted' | 'wrong-size';

/**
 * Decide whether a cache object may be used. An object dvs wrote or verified before is vouched for by
 * the stat cache (its inode, size and mtime are unchanged since); anything else is re-hashed. A bad
 * object is moved to quarantine, so it is never checked out and a later fetch can replace it.
 */
export class ObjectChecker {
  private readonly buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  private readonly verdicts = new Map<Oid, ObjectHealth>();

  constructor(private readonly cache: ObjectCache, private readonly state: StatCache) {}

  check(oid: Oid, expectedSize?: number): ObjectHealth {
    const known = this.verdicts.get(oid);
    if (known) return known;
    const verdict = this.examine(oid, expectedSize);
    this.verdicts.set(oid, verdict);
    return verdict;
  }

  private examine(oid: Oid, expectedSize?: number): ObjectHealth {
    const path = this.cache.pathOf(oid);
    let stamp;
    try {
      stamp = stampOf(statSync(path, { bigint: true }));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 'missing';
      throw err;
    }
    if (expectedSize !== undefined && stamp.size !== expectedSize) {
      this.cache.quarantine(oid);
      return 'wrong-size';
    }
    if (this.state.getObject(stamp) === oid) return 'ok';
    const result = this.cache.rehash(oid, this.buffer);
    if (result.oid !== oid) {
      this.cache.quarantine(oid);
      return 'corrupted';
    }
    if (result.stable) this.state.setObject(result.stat, oid);
    return 'ok';
  }
}
