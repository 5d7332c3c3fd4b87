import type { DataDiff } from '../../diff/data-diff.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import type { ContentSource, TabularFormat } from '../../diff/content/index.js';
import type { OpContext } from '../context.js';
import { fetchMissing } from './fetch-missing.js';

/** Paths of tabular files are shown relative to the repository root in content diffs. */
interface Side {
  /** Logical path (for the format and messages). */
  path: string;
  /** Cache object, or undefined for a workspace file. */
  oid?: Oid;
  /** Workspace path, when the newer side is the workspace. */
  workspacePath?: string;
}

interface Job {
  change: DataDiff;
  format: TabularFormat;
  before: Side[];
  after: Side[];
}

/**
 * Attach the content diff (schema, statistics, rows) to changed tabular data. For a tracked file, its two
 * versions are compared; for a tracked directory, the changed partitions of its dominant format are
 * compared as one table (added partitions count as added rows, deleted ones as removed rows). The content
 * engine is loaded only here, and objects missing from the cache are fetched lazily, only those needed.
 */
/** What the content diff needs of `dvs diff`'s options. */
export interface ContentDiffOptions {
  /** Sample size of added/removed rows. */
  rows?: number;
  /** Match rows by this column and show changed cells. */
  key?: string;
  /** Fetch objects missing from the cache (default true). */
  fetch?: boolean;
  /** The newer side is the workspace: its files are read where they are. */
  workspace: boolean;
}

export async function attachContentDiffs(ctx: OpContext, changes: DataDiff[], options: ContentDiffOptions, warnings: Warning[]): Promise<void> {
  const { repo } = ctx;
  const content = await import('../../diff/content/index.js');
  const { markSameRecords } = await import('./diff-records.js');
  // Re-partitioned or converted data: one line ("same records") says more than a diff of nothing.
  const same = await markSameRecords(ctx, changes, options.workspace, options.fetch !== false, warnings);
  const jobs: Job[] = [];
  for (const change of changes) {
    if (change.change === 'renamed' && !change.files?.length) continue; // same bytes under a new name
    if (same.has(change)) continue;
    const workspaceAfter = options.workspace;
    if (change.kind === 'file' && (change.oldKind ?? 'file') === 'file') {
      const format = content.detectFormat(change.path) ?? (change.oldPath ? content.detectFormat(change.oldPath) : undefined);
      if (!format) continue;
      jobs.push({
        change,
        format,
        before: change.oldOid ? [{ path: change.oldPath ?? change.path, oid: change.oldOid }] : [],
        after: change.newOid ? [workspaceAfter ? { path: change.path, workspacePath: change.path } : { path: change.path, oid: change.newOid }] : [],
      });
      continue;
    }
    if (!change.files?.length) continue;
    const byFormat = new Map<TabularFormat, Job>();
    for (const f of change.files) {
      if (f.change === 'renamed') continue;
      const format = content.detectFormat(f.path);
      if (!format) continue;
      let job = byFormat.get(format);
      if (!job) byFormat.set(format, (job = { change, format, before: [], after: [] }));
      const path = `${change.path}/${f.path}`;
      if (f.oldOid) job.before.push({ path, oid: f.oldOid });
      if (f.newOid) job.after.push(workspaceAfter ? { path, workspacePath: path } : { path, oid: f.newOid });
    }
    // One table per directory: the format with the most changed files.
    const best = [...byFormat.values()].sort((a, b) => b.before.length + b.after.length - (a.before.length + a.after.length))[0];
    if (best) jobs.push(best);
    if (byFormat.size > 1) warnings.push({ code: 'MIXED_FORMATS', message: `${change.path}: changed files of several formats; the content diff covers the ${best.format} files` });
  }
  if (jobs.length === 0) return;

  const needed = [...new Set(jobs.flatMap((j) => [...j.before, ...j.after]).map((s) => s.oid).filter((o): o is Oid => !!o && !repo.cache.has(o)))];
  if (needed.length && options.fetch !== false) await fetchMissing(ctx, needed, 'the content diff', warnings);

  for (const job of jobs) {
    try {
      const open = async (s: Side): Promise<ContentSource | undefined> => {
        if (s.workspacePath) return content.fileSource(repo.abs(s.workspacePath), s.path);
        if (!s.oid || !repo.cache.has(s.oid)) return undefined;
        return content.fileSource(repo.cache.pathOf(s.oid), s.path);
      };
      const before = await Promise.all(job.before.map(open));
      const after = await Promise.all(job.after.map(open));
      const missing = [...before, ...after].filter((s) => s === undefined).length;
      if (missing) {
        job.change.contentError = `${missing} version(s) of the changed files are not in the cache (dvs fetch brings them)`;
        continue;
      }
      const withFormat = (list: Array<ContentSource | undefined>) => list.map((s) => ({ ...s!, format: job.format }));
      job.change.content = await content.diffPartitions(withFormat(before), withFormat(after), {
        rows: options.rows,
        key: options.key,
        rowLevel: options.rows !== undefined || options.key !== undefined ? true : undefined,
        onProgress: ctx.onProgress,
      });
    } catch (err) {
      job.change.contentError = (err as Error).message.split('\n')[0];
    }
  }
}
