/**
 * A tracked directory is a set of tables, not one table. Its files are grouped into tables by the
 * evidence their paths give: partition directories (`date=2024-01-01/`, `year=2024/`), numbered shards
 * (`part-00001.parquet`, `train-00000-of-00005.arrow`, `data_2019.csv`), generated ids (Spark's
 * `part-00000-<uuid>-c000.snappy.parquet`) — the parts of a path that vary between partitions are
 * replaced by `*`, and files with the same pattern and format are one table. Files whose names share
 * nothing are separate tables; a file that changed format under the same name
 * (`flights-3m.csv` → `flights-3m.parquet`) is one table whose versions are compared with each other.
 * Files that are not tabular are listed apart.
 */
import { detectFormat } from './format.js';
import type { TabularFormat } from './types.js';

export interface TableGroup {
  /** The path of a single-file table, else the pattern its partitions share (`date=*\/part-*.parquet`). */
  name: string;
  /** `file`: one path; `partitioned`: several files; `converted`: one name whose format changed. */
  layout: 'file' | 'partitioned' | 'converted';
  before: string[];
  after: string[];
}

export interface Grouping {
  tables: TableGroup[];
  /** Files that are not tabular (images, TopoJSON, anything without a tabular extension). */
  other: { before: string[]; after: string[] };
}

/** A token that names a partition rather than a table: digits, or an id (hex with a digit, ≥ 4 long). */
function varies(token: string): boolean {
  return /^\d+$/.test(token) || (token.length >= 4 && /\d/.test(token) && /^[0-9a-f]+$/i.test(token));
}

function patternOfName(name: string): string {
  return name
    .split(/([-_.])/)
    .map((t) => (t === '-' || t === '_' || t === '.' ? t : varies(t) ? '*' : t))
    .join('');
}

function patternOfDir(segment: string): string {
  const eq = segment.indexOf('=');
  if (eq > 0) return `${segment.slice(0, eq)}=*`; // Hive-style partition directory
  return patternOfName(segment);
}

/** The stem and the extension that made the format (`a/b.csv.gz` → [`a/b`, `.csv.gz`]). */
function splitExtension(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  const m = /(\.(?:csv|tsv|tab|jsonl|ndjson|json|parquet|pq|arrow|feather|ipc|arrows)(?:\.gz|\.gzip)?)$/i.exec(name);
  if (!m) return [path, ''];
  return [path.slice(0, path.length - m[1]!.length), m[1]!];
}

/** What identifies a file's table: its path with the varying parts as `*`, and its format. */
export function tablePattern(path: string): string {
  const [stem] = splitExtension(path);
  const parts = stem.split('/');
  const name = parts.pop()!;
  return [...parts.map(patternOfDir), patternOfName(name)].join('/');
}

interface Bucket {
  pattern: string;
  format: TabularFormat;
  ext: string;
  before: string[];
  after: string[];
}

export function groupTables(before: readonly string[], after: readonly string[], formatOf: (path: string) => TabularFormat | undefined = detectFormat): Grouping {
  const buckets = new Map<string, Bucket>();
  const other = { before: [] as string[], after: [] as string[] };
  const add = (path: string, side: 'before' | 'after'): void => {
    const format = formatOf(path);
    if (!format) {
      other[side].push(path);
      return;
    }
    const pattern = tablePattern(path);
    const id = `${format}\u0000${pattern}`;
    let b = buckets.get(id);
    if (!b) buckets.set(id, (b = { pattern, format, ext: splitExtension(path)[1].toLowerCase(), before: [], after: [] }));
    b[side].push(path);
  };
  for (const p of before) add(p, 'before');
  for (const p of after) add(p, 'after');

  // A name whose format changed: the bucket that only has `before` files meets the one that only has
  // `after` files under the same pattern. One candidate on each side, or it is not evidence.
  const tables: TableGroup[] = [];
  const used = new Set<Bucket>();
  const byPattern = new Map<string, Bucket[]>();
  for (const b of buckets.values()) byPattern.set(b.pattern, [...(byPattern.get(b.pattern) ?? []), b]);
  for (const list of byPattern.values()) {
    const gone = list.filter((b) => b.after.length === 0);
    const come = list.filter((b) => b.before.length === 0);
    if (gone.length === 1 && come.length === 1) {
      const [a, b] = [gone[0]!, come[0]!];
      used.add(a).add(b);
      const name = a.before.length === 1 && b.after.length === 1 ? `${a.before[0]} → ${b.after[0]}` : `${a.pattern}${a.ext} → ${b.pattern}${b.ext}`;
      tables.push({ name, layout: 'converted', before: a.before, after: b.after });
    }
  }
  for (const b of buckets.values()) {
    if (used.has(b)) continue;
    const paths = new Set([...b.before, ...b.after]);
    const single = paths.size === 1;
    tables.push({ name: single ? [...paths][0]! : `${b.pattern}${b.ext}`, layout: single ? 'file' : 'partitioned', before: b.before, after: b.after });
  }
  tables.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return { tables, other };
}
