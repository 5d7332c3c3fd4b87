import type { GetResult } from '../../ops/registry/get.js';
import type { ImportResult } from '../../ops/registry/import.js';
import type { ListResult } from '../../ops/registry/list.js';
import type { UpdateResult } from '../../ops/registry/update.js';
import { formatBytes, formatCount, warningNote } from '../format.js';
import type { Renderer } from './types.js';

const at = (rev: string | null, commit: string) => `${rev ? `${rev} ` : ''}(${commit.slice(0, 10)})`;
const dataSize = (d: { kind: string; size: number; files?: number }) => (d.kind === 'dir' ? `${formatCount(d.files ?? 0, 'file')}, ${formatBytes(d.size)}` : formatBytes(d.size));
const fetchedLine = (r: { fetched: number; bytes: number; from: string[] }) =>
  r.fetched === 0 ? 'nothing to download' : `downloaded ${formatCount(r.fetched, 'object')} (${formatBytes(r.bytes)}) from ${r.from.join(' and ')}`;
const notes = (r: { warnings: Array<{ message: string; hint?: string }> }) => r.warnings.map((w) => warningNote(w.message, w.hint));

function stagedLines(r: { staged: string[]; toStage: string[] }): string[] {
  const lines: string[] = [];
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add ${r.toStage.map(quote).join(' ')}`);
  return lines;
}

function quote(p: string): string {
  return /^[\w./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

export const renderList: Renderer<ListResult> = (r) => {
  const lines = [`${r.url} at ${at(r.rev, r.commit)}: ${formatCount(r.data.length, 'data path')}`];
  const width = Math.max(0, ...r.data.map((d) => formatBytes(d.size).length));
  for (const d of r.data) {
    lines.push(`${formatBytes(d.size).padStart(width)}  ${d.path}${d.kind === 'dir' ? `/  (${formatCount(d.files ?? 0, 'file')})` : ''}${d.importedFrom ? `  imported from ${d.importedFrom}` : ''}`);
    for (const e of d.entries ?? []) lines.push(`${formatBytes(e.size).padStart(width)}    ${d.path}/${e.path}`);
  }
  return { text: lines.join('\n') + '\n', notes: notes(r) };
};

export const renderGet: Renderer<GetResult> = (r) => ({
  text: `got ${r.path} (${dataSize(r)}) from ${r.url} at ${at(r.rev, r.commit)} → ${r.out}; ${fetchedLine(r)}\n`,
  notes: notes(r),
});

export const renderImport: Renderer<ImportResult> = (r) => {
  const lines = [
    `imported ${r.path} (${dataSize(r)}) → ${r.pointer}; ${fetchedLine(r)}`,
    `  imported from ${r.source.url} ${r.source.path} @ ${r.source.commit.slice(0, 10)}`,
    ...stagedLines(r),
  ];
  return { text: lines.join('\n') + '\n', notes: notes(r) };
};

export const renderUpdate: Renderer<UpdateResult> = (r) => {
  const lines: string[] = [];
  for (const i of r.imports) {
    const commits = `${i.fromCommit.slice(0, 10)} → ${i.toCommit.slice(0, 10)}`;
    if (i.outcome === 'current') lines.push(`up to date  ${i.path} (${i.url} @ ${i.toCommit.slice(0, 10)})`);
    else if (i.outcome === 'moved') lines.push(`unchanged   ${i.path}: the source moved on (${commits}), this data did not`);
    else lines.push(`updated     ${i.path} (${commits}); ${formatCount(i.fetched, 'object')} downloaded (${formatBytes(i.bytes)})`);
  }
  lines.push(...stagedLines(r));
  return { text: lines.join('\n') + '\n', notes: notes(r) };
};
