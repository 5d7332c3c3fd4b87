/**
 * The statistics of files kept by content hash, on this machine (`.dvs/tmp/content-stats/`): a file's
 * statistics are a pure function of its bytes, so once computed they hold for every version of every
 * dataset that contains that object, and the totals of a partitioned dataset cost only the reads of the
 * partitions that are new.
 *
 * One JSON file per object and kind (`<2 hex>/<oid>.<kind>.json`), written atomically (temp file in the
 * same directory, rename), so a killed diff leaves either nothing or a whole entry. Each entry names the
 * format and the engine version that wrote it; an entry of another version, or one that does not parse,
 * is ignored and overwritten. Losing the directory loses nothing but time.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../base/atomic.js';
import { STATS_ENGINE_VERSION, type FileStats, type StatsKind, type StatsStore } from '../../diff/content/index.js';

const FORMAT = 'dvs-content-stats';

interface Entry {
  format: string;
  version: number;
  key: string;
  kind: StatsKind;
  stats: FileStats;
}

const SAFE_KEY = /^[0-9a-f]{16,128}$/;

export class DirStatsStore implements StatsStore {
  constructor(private readonly dir: string) {}

  private pathOf(key: string, kind: StatsKind): string | undefined {
    return SAFE_KEY.test(key) ? join(this.dir, key.slice(0, 2), `${key}.${kind}.json`) : undefined;
  }

  get(key: string, kind: StatsKind): FileStats | undefined {
    const path = this.pathOf(key, kind);
    if (!path) return undefined;
    try {
      const e = JSON.parse(readFileSync(path, 'utf8')) as Partial<Entry>;
      if (e.format !== FORMAT || e.version !== STATS_ENGINE_VERSION || e.key !== key || e.kind !== kind || !e.stats || !Array.isArray(e.stats.columns)) return undefined;
      return e.stats;
    } catch {
      return undefined; // missing or unreadable: computed again
    }
  }

  put(key: string, kind: StatsKind, stats: FileStats): void {
    const path = this.pathOf(key, kind);
    if (!path) return;
    const entry: Entry = { format: FORMAT, version: STATS_ENGINE_VERSION, key, kind, stats };
    try {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileAtomic(path, JSON.stringify(entry));
    } catch {
      // A cache that cannot be written (read-only repository, full disk) costs time next run, nothing else.
    }
  }
}
