import { isAbsolute, relative, sep } from 'node:path';
import type { ObjectOrigin } from '../../ops/data/gc-origins.js';
import type { GcRemovedObject, GcResult } from '../../ops/data/gc.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

/** Besides the first, how many other paths of an object are shown (all are in --json). */
const MORE_ORIGINS = 2;

export const renderGc: Renderer<GcResult> = (r, { args, verbose }) => {
  const lines: string[] = [];
  if (r.dryRun || verbose) for (const o of r.removed) lines.push(...removedLines(o, r.dryRun ? 'would remove' : 'removed'));
  lines.push(`${r.dryRun ? 'Would remove' : 'Removed'} ${formatCount(r.removed.length, 'object')} (${formatBytes(r.bytes)})${r.remote ? ` from ${r.remote.name}` : ''}; kept ${formatCount(r.kept, 'object')}.`);
  if (r.projects.length > 1) {
    lines.push(`Kept what ${formatCount(r.projects.length, 'project')} sharing the cache need: ${r.projects.map((p) => `${shortPath(p.root)} (${formatCount(p.pointers, 'pointer')}, ${formatCount(p.runs, 'run record')})`).join(', ')}.`);
  }
  const notes = r.warnings.map((w) => warningNote(w.message, w.hint));
  if (r.dryRun && r.manifestsUnread) {
    notes.push(warningNote(`${formatCount(r.manifestsUnread, 'directory listing')} of the history ${r.manifestsUnread === 1 ? 'is' : 'are'} not in the cache: files only ${r.manifestsUnread === 1 ? 'it names' : 'they name'} show as unreferenced`));
  }
  if (r.cache && r.removed.length && r.projects.length === 1 && isOutside(r.projects[0].root, r.cache)) {
    notes.push(warningNote(`the cache (${r.cache}) is outside this repository`, 'if other repositories share it, name them with --projects <path> so that gc keeps what they need.'));
  }
  if (r.remote && r.removed.length && !args.allBranches && !args.allTags && !args.allCommits && !args.date && !(args.rev as string[] | undefined)?.length) {
    notes.push(warningNote(`only what the workspace needs was kept on ${r.remote.name}`, 'a remote is shared: pass -a/-T/-A, --date or --rev to keep what branches, tags or commits need.'));
  }
  return { text: lines.join('\n') + '\n', notes };
};

/** `would remove data/a.csv (3f2a1b0c9d, 2024-05-13)  12 B`, then the other paths it had. */
function removedLines(o: GcRemovedObject, verb: string): string[] {
  if (o.origins.length === 0) return [`${verb} unreferenced object ${o.oid}  ${formatBytes(o.size)} (named by no pointer or run record of the history)`];
  const [first, ...rest] = o.origins;
  const lines = [`${verb} ${describeOrigin(first, o.manifest)}  ${formatBytes(o.size)}`];
  for (const other of rest.slice(0, MORE_ORIGINS)) lines.push(`    also ${describeOrigin(other, o.manifest)}`);
  if (rest.length > MORE_ORIGINS) lines.push(`    also ${formatCount(rest.length - MORE_ORIGINS, 'other path')}`);
  return lines;
}

function describeOrigin(o: ObjectOrigin, manifest?: boolean): string {
  const where: string[] = [];
  if (manifest) where.push('directory listing');
  if (o.run) where.push(`dataset of run record ${o.run}`);
  if (o.commit) where.push(o.date ? `${o.commit.slice(0, 10)}, ${o.date.slice(0, 10)}` : o.commit.slice(0, 10));
  else if (o.run) where.push('workspace');
  return `${o.project ? `${shortPath(o.project)}: ` : ''}${o.path}${manifest ? '/' : ''} (${where.join(', ')})`;
}

/** A repository's folder relative to here when that is shorter. */
function shortPath(abs: string): string {
  const rel = relative(process.cwd(), abs) || '.';
  return rel.length < abs.length ? rel : abs;
}

function isOutside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
