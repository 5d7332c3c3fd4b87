/**
 * A tracked directory is a set of tables, not one table. Its files are grouped into tables by the
 * evidence their paths give: partition directories (`date=2024-01-01/`, `year=2024/`), numbered shards
 * (`part-00001.parquet`, `train-00000-of-00005.arrow`, `data_2019.csv`), generated ids (Spark's
 * `part-00000-<uuid>-c000.snappy.parquet`) — the parts of a path that vary between partitions are
 * replaced by `*`, and files with the same pattern and format are one table. Files whose names share
 * nothing are separate tables; a file that changed format under the same name
 * (`flights-3m.csv` → `flights-3m.parquet`) is one table whose versions are compared with each other.
 * Files that are not tabular are listed apart.
 *
 * A path pattern alone is weak evidence (`data_2019.csv` and `data_2020.csv` may hold unrelated tables),
 * so splitBySchema then asks the files' columns: files of one pattern are one table only when their
 * schemas agree (below).
 */
import { detectFormat } from './format.js';
import type { TabularFormat } from './types.js';

export interface TableGroup {
  /** The path of a single-file table, else the pattern its partitions share (`date=*\/part-*.parquet`). */
  name: string;
  /**
   * `file`: one path; `partitioned`: several files; `converted`: one name whose format changed; `moved`:
   * one name gone from a folder and come in another (its format may have changed too).
   */
  layout: 'file' | 'partitioned' | 'converted' | 'moved';
  before: string[];
  after: string[];
  /**
   * Partitions whose columns differ from the rest of their table in a version (schema evolution, a
   * changed partition), one line each; set by splitBySchema.
   */
  notes?: string[];
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

  const tables: TableGroup[] = [];
  const used = new Set<Bucket>();
  // A name whose format changed: the bucket that only has `before` files meets the one that only has
  // `after` files under the same pattern. Then a name moved to another folder (`raw/flights.csv` →
  // `clean/flights.csv`): the same evidence by the file name alone, among the buckets still unpaired.
  pairGoneWithCome(buckets, used, (b) => b.pattern, 'converted', tables);
  pairGoneWithCome(buckets, used, (b) => b.pattern.slice(b.pattern.lastIndexOf('/') + 1), 'moved', tables);
  for (const b of buckets.values()) {
    if (used.has(b)) continue;
    const paths = new Set([...b.before, ...b.after]);
    const single = paths.size === 1;
    tables.push({ name: single ? [...paths][0]! : `${b.pattern}${b.ext}`, layout: single ? 'file' : 'partitioned', before: b.before, after: b.after });
  }
  tables.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return { tables, other };
}

/**
 * Among the unpaired buckets with the same `id`, one whose files are all gone and one whose files are
 * all new make one table of `layout`. One candidate on each side, or it is not evidence.
 */
function pairGoneWithCome(buckets: Map<string, Bucket>, used: Set<Bucket>, id: (b: Bucket) => string, layout: 'converted' | 'moved', tables: TableGroup[]): void {
  const byId = new Map<string, Bucket[]>();
  for (const b of buckets.values()) if (!used.has(b)) byId.set(id(b), [...(byId.get(id(b)) ?? []), b]);
  for (const list of byId.values()) {
    const gone = list.filter((b) => b.after.length === 0);
    const come = list.filter((b) => b.before.length === 0);
    if (gone.length !== 1 || come.length !== 1) continue;
    const [a, b] = [gone[0]!, come[0]!];
    used.add(a).add(b);
    const name = a.before.length === 1 && b.after.length === 1 ? `${a.before[0]} → ${b.after[0]}` : `${a.pattern}${a.ext} → ${b.pattern}${b.ext}`;
    tables.push({ name, layout, before: a.before, after: b.after });
  }
}

/** A file's column names in one version; undefined when unknown (not readable, not fetched). */
export type SchemaOf = (path: string, side: 'before' | 'after') => readonly string[] | undefined;

/** Disjoint sets over schema nodes: the tables a partitioned group splits into. */
class Links {
  private readonly parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x) ?? x;
    if (p !== x) this.parent.set(x, (p = this.find(p)));
    return p;
  }
  union(a: string, b: string): void {
    const [x, y] = [this.find(a), this.find(b)];
    if (x !== y) this.parent.set(x, y);
  }
}

const contains = (big: ReadonlySet<string>, small: ReadonlySet<string>): boolean => [...small].every((c) => big.has(c));

/**
 * The second half of the evidence: a partitioned group's files are one table only when their schemas
 * agree. Two column sets agree when they are equal or one contains the other (columns added to later
 * partitions: schema evolution, as Hive and Delta tables grow); the order of columns does not matter.
 * A path in both versions joins its two schemas, so a partition whose columns changed stays in its
 * table, where the diff reports the change (and `notes` name the partitions that differ from the rest).
 * Files whose columns are unknown stay with their table: with the other version of their path, else with
 * the largest part. Groups that are not partitioned are returned as they are.
 */
export function splitBySchema(grouping: Grouping, schemaOf: SchemaOf): Grouping {
  const tables: TableGroup[] = [];
  for (const t of grouping.tables) tables.push(...(t.layout === 'partitioned' ? splitGroup(t, schemaOf) : [t]));
  tables.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return { tables, other: grouping.other };
}

function splitGroup(t: TableGroup, schemaOf: SchemaOf): TableGroup[] {
  const schemas = new Map<string, ReadonlySet<string>>(); // node (side + sorted names) → names
  const nodeOf = (path: string, side: 'before' | 'after'): string | undefined => {
    const names = schemaOf(path, side);
    if (!names?.length) return undefined; // an empty file says nothing about its table
    const node = [...names].sort().join('\u0000');
    if (!schemas.has(node)) schemas.set(node, new Set(names));
    return node;
  };
  const paths = [...new Set([...t.before, ...t.after])];
  const nodes = new Map<string, { before?: string; after?: string }>();
  for (const p of paths) nodes.set(p, { before: t.before.includes(p) ? nodeOf(p, 'before') : undefined, after: t.after.includes(p) ? nodeOf(p, 'after') : undefined });
  const links = new Links();
  const keys = [...schemas.keys()];
  for (const a of keys) for (const b of keys) if (a < b && (contains(schemas.get(a)!, schemas.get(b)!) || contains(schemas.get(b)!, schemas.get(a)!))) links.union(a, b);
  for (const n of nodes.values()) if (n.before && n.after) links.union(n.before, n.after);

  const parts = new Map<string, string[]>(); // root → paths
  const unknown: string[] = [];
  for (const p of paths) {
    const n = nodes.get(p)!;
    const node = n.before ?? n.after;
    if (node === undefined) unknown.push(p);
    else parts.set(links.find(node), [...(parts.get(links.find(node)) ?? []), p]);
  }
  if (parts.size <= 1) return [withNotes({ ...t }, nodes, schemas)];
  const largest = [...parts.values()].sort((a, b) => b.length - a.length)[0]!;
  largest.push(...unknown);

  const multi = [...parts.values()].filter((ps) => ps.length > 1).length;
  return [...parts.values()].map((ps) => {
    const member = new Set(ps);
    const before = t.before.filter((p) => member.has(p));
    const after = t.after.filter((p) => member.has(p));
    if (ps.length === 1) return { name: ps[0]!, layout: 'file', before, after };
    // Two tables under one pattern: their columns tell them apart.
    const n = nodes.get(ps.find((p) => nodes.get(p)!.after) ?? ps[0]!)!;
    const names = [...(schemas.get((n.after ?? n.before)!) ?? [])];
    const name = multi > 1 ? `${t.name} (columns ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})` : t.name;
    return withNotes({ name, layout: 'partitioned', before, after }, nodes, schemas);
  });
}

/** Notes on the partitions whose columns differ from the most common columns of their table in a version. */
function withNotes(t: TableGroup, nodes: Map<string, { before?: string; after?: string }>, schemas: Map<string, ReadonlySet<string>>): TableGroup {
  const notes: string[] = [];
  const countsOf = (side: 'before' | 'after'): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const p of t[side]) {
      const n = nodes.get(p)?.[side];
      if (n) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    return counts;
  };
  for (const side of ['before', 'after'] as const) {
    const counts = countsOf(side);
    if (counts.size <= 1) continue;
    // The most common columns; a tie goes to the columns the other version has most (the table's own).
    const other = countsOf(side === 'before' ? 'after' : 'before');
    const common = [...counts].sort((a, b) => b[1] - a[1] || (other.get(b[0]) ?? 0) - (other.get(a[0]) ?? 0) || (a[0] < b[0] ? -1 : 1))[0]![0];
    const base = schemas.get(common)!;
    const odd = t[side].filter((p) => nodes.get(p)?.[side] && nodes.get(p)![side] !== common);
    for (const p of odd.slice(0, 5)) {
      const cols = schemas.get(nodes.get(p)![side]!)!;
      const added = [...cols].filter((c) => !base.has(c));
      const missing = [...base].filter((c) => !cols.has(c));
      const diff = [...added.map((c) => `+${c}`), ...missing.map((c) => `−${c}`)].join(', ');
      notes.push(`${p} (${side}): columns differ from ${counts.get(common)} other file(s) of the table: ${diff}`);
    }
    if (odd.length > 5) notes.push(`… and ${odd.length - 5} more file(s) (${side}) whose columns differ from the rest of the table`);
  }
  if (notes.length) t.notes = notes;
  return t;
}
