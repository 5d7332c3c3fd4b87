import type { DataDiff } from '../../diff/data-diff.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { OpContext } from '../context.js';
import { fetchMissing } from './fetch-missing.js';
import { recordDigestOfFiles, type RecordFile } from './record-hash.js';

/**
 * "Same records, different files": before the content diff, compare the record hashes
 * (docs/record-hash.md) of the two versions of changed tabular data. A re-partitioned or converted
 * dataset (data.csv → data.parquet, one file → five partitions) has equal multiset digests, and its
 * content diff would only say "nothing moved"; it gets `sameRecords` instead. Within a changed directory
 * only the changed files are hashed: unchanged ones add the same part to both sides of the sum. A
 * deleted and an added target with the same records (a conversion that renamed the file) are paired.
 */
type Side = 'before' | 'after';

/** The tabular files of one side of a change; undefined when a changed file is not tabular or not readable here. */
function sideFiles(ctx: OpContext, change: DataDiff, side: Side, workspace: boolean, isTabular: (p: string) => boolean): RecordFile[] | undefined {
  const { repo } = ctx;
  const inWorkspace = side === 'after' && workspace;
  const place = (path: string, oid: Oid): RecordFile => (inWorkspace ? { path, file: repo.abs(path), oid } : { path, file: repo.cache.pathOf(oid), oid });
  if (change.kind === 'file' && (change.oldKind ?? 'file') === 'file') {
    const oid = side === 'before' ? change.oldOid : change.newOid;
    const path = side === 'before' ? (change.oldPath ?? change.path) : change.path;
    if (!oid) return [];
    return isTabular(path) ? [place(path, oid)] : undefined;
  }
  if (!change.files?.length) return undefined;
  const out: RecordFile[] = [];
  for (const f of change.files) {
    if (f.change === 'renamed' && f.oldOid === f.newOid) continue; // the same records on both sides
    const oid = side === 'before' ? f.oldOid : f.newOid;
    if (!oid) continue;
    const path = `${change.path}/${side === 'before' ? (f.oldPath ?? f.path) : f.path}`;
    if (!isTabular(path)) return undefined;
    out.push(place(path, oid));
  }
  return out;
}

/** Returns the changes found to hold the same records (their `sameRecords` set). */
export async function markSameRecords(ctx: OpContext, changes: DataDiff[], workspace: boolean, fetch: boolean, warnings: Warning[]): Promise<Set<DataDiff>> {
  const { repo } = ctx;
  const { detectFormat } = await import('../../diff/content/format.js');
  const isTabular = (p: string) => detectFormat(p) !== undefined;
  const sides = new Map<DataDiff, { before?: RecordFile[]; after?: RecordFile[] }>();
  for (const change of changes) {
    if (change.change === 'renamed' && !change.files?.length) continue; // same bytes under a new name
    const before = sideFiles(ctx, change, 'before', workspace, isTabular);
    const after = sideFiles(ctx, change, 'after', workspace, isTabular);
    if (before === undefined || after === undefined || before.length + after.length === 0) continue;
    sides.set(change, { before, after });
  }
  if (sides.size === 0) return new Set();
  const all = [...sides.values()].flatMap((s) => [...(s.before ?? []), ...(s.after ?? [])]);
  const cached = (f: RecordFile) => (f.file === repo.cache.pathOf(f.oid!) ? repo.cache.has(f.oid!) : true);
  const needed = [...new Set(all.filter((f) => !cached(f)).map((f) => f.oid!))];
  if (needed.length && fetch) await fetchMissing(ctx, needed, 'the record hash', warnings);

  const digestOf = async (files: RecordFile[]) => {
    if (files.some((f) => !cached(f))) return undefined;
    try {
      return await recordDigestOfFiles(repo, files, false);
    } catch (err) {
      warnings.push({ code: 'RECORD_HASH_FAILED', message: `record hash of ${files[0]?.path ?? '?'}: ${(err as Error).message.split('\n')[0]}` });
      return undefined;
    }
  };
  const same = new Set<DataDiff>();
  const unpaired: Array<{ change: DataDiff; side: Side; rows: number; digest: string }> = [];
  for (const [change, s] of sides) {
    if (s.before!.length && s.after!.length) {
      const [a, b] = [await digestOf(s.before!), await digestOf(s.after!)];
      if (a && b && a.digest === b.digest) {
        change.sameRecords = { rows: a.rows, digest: a.digest, with: null };
        same.add(change);
      }
    } else if (change.change === 'added' || change.change === 'deleted') {
      const side: Side = change.change === 'added' ? 'after' : 'before';
      const d = await digestOf(s[side]!);
      if (d) unpaired.push({ change, side, rows: d.rows, digest: d.digest });
    }
  }
  // A deleted target and an added one with the same records: a conversion under a new name.
  for (const gone of unpaired.filter((u) => u.side === 'before')) {
    const match = unpaired.find((u) => u.side === 'after' && u.digest === gone.digest && !same.has(u.change));
    if (!match) continue;
    gone.change.sameRecords = { rows: gone.rows, digest: gone.digest, with: match.change.path };
    match.change.sameRecords = { rows: match.rows, digest: match.digest, with: gone.change.path };
    same.add(gone.change).add(match.change);
  }
  return same;
}
