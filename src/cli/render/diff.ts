import type { DataDiff, FileChange, SameRecords, VersionLineage } from '../../diff/data-diff.js';
import type { ContentDiff, TableDiff } from '../../diff/content/index.js';
import { renderContentDiffMarkdown, renderContentDiffText, renderTableText, renderTensorText } from './content-diff.js';
import { renderContentReport, type ReportLineageRow } from './content-report.js';
import type { DiffResult, DiffSide } from '../../ops/data/diff.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount, formatSigned, groupDigits, warningNote } from '../format.js';
import type { Renderer } from './types.js';

const MAX_TEXT_FILES = 50;
const MAX_MD_ROWS = 200;

function sideLabel(s: DiffSide): string {
  return s.commit ? `${s.rev} (${s.commit.slice(0, 7)})` : s.rev;
}

const signed = (n: number) => formatSigned(n, formatBytes);

function sizes(d: { oldSize?: number; newSize?: number; sizeDelta: number; change: string }): string {
  if (d.change === 'added') return formatBytes(d.newSize ?? 0);
  if (d.change === 'deleted') return formatBytes(d.oldSize ?? 0);
  if (d.change === 'renamed' && d.sizeDelta === 0) return formatBytes(d.newSize ?? 0);
  return `${formatBytes(d.oldSize ?? 0)} → ${formatBytes(d.newSize ?? 0)} (${signed(d.sizeDelta)})`;
}

function fileLine(f: FileChange): string {
  const name = f.change === 'renamed' ? `${f.oldPath} → ${f.path}` : f.path;
  return `${f.change.padEnd(9)} ${name}  ${sizes(f)}`;
}

export function summaryLine(r: DiffResult): string {
  const parts: string[] = [];
  const d = r.summary.data;
  const f = r.summary.files;
  const n = d.added + d.deleted + d.modified + d.renamed;
  if (n === 0) return 'No data changed.';
  const counts = (c: typeof d) => (['added', 'deleted', 'modified', 'renamed'] as const).filter((k) => c[k]).map((k) => `${groupDigits(c[k])} ${k}`).join(', ');
  parts.push(`${formatCount(n, 'data path')} changed (${counts(d)})`);
  const fc = counts(f);
  if (fc) parts.push(`files: ${fc}`);
  parts.push(`size ${signed(r.summary.sizeDelta)}`);
  if (r.summary.incomplete) parts.push(`${formatCount(r.summary.incomplete, 'directory', 'directories')} without manifest`);
  return parts.join('; ');
}

/** The one way an import's origin is shown (diff, lineage show). */
export function importedLine(s: { url: string; path: string; commit: string }): string {
  return `imported from ${s.url} ${s.path} @ ${s.commit.slice(0, 10)}`;
}

/** Re-partitioned or converted tabular data (docs/record-hash.md). */
function sameRecordsLine(s: SameRecords): string {
  const other = s.with ? `as ${s.with}, ` : '';
  return `same records, different files (${other}${formatCount(s.rows, 'record')}; record hash ${s.digest.slice(0, 12)})`;
}

function dataHeadline(d: DataDiff): string {
  const name = d.change === 'renamed' ? `${d.oldPath} → ${d.path}` : d.path;
  const slash = d.kind === 'dir' ? '/' : '';
  return `${d.change.padEnd(9)} ${name}${slash}  ${sizes(d)}`;
}

export const renderDiff: Renderer<DiffResult> = (r, { args, verbose }) => {
  const lines = [`Comparing ${sideLabel(r.a)} → ${sideLabel(r.b)}`];
  for (const d of r.changes) {
    lines.push(dataHeadline(d));
    if (d.source) lines.push(`    ${importedLine(d.source)}`);
    if (d.incomplete) lines.push(`    (manifest ${d.incomplete.oids.map((o) => o.slice(0, 10)).join(', ')} not in the cache: files not listed; dvs fetch brings it)`);
    const files = d.files ?? [];
    const shown = verbose ? files : files.slice(0, MAX_TEXT_FILES);
    for (const f of shown) lines.push(`    ${fileLine(f)}`);
    if (shown.length < files.length) lines.push(`    … and ${groupDigits(files.length - shown.length)} more (-v lists all)`);
    if (d.sameRecords) lines.push(`    ${sameRecordsLine(d.sameRecords)}`);
    const tables = d.tables as TableDiff[] | undefined;
    if (tables?.length) {
      for (const t of tables) lines.push(...renderTableText(d.path, t).map((l) => `    ${l}`));
    } else {
      if (d.content) lines.push(...renderContentDiffText(d.path, d.content as ContentDiff).map((l) => `    ${l}`));
      if (d.contentError) lines.push(`    content: ${d.contentError}`);
    }
    for (const t of d.tensors ?? []) lines.push(...renderTensorText(t).map((l) => `    ${l}`));
    if (d.otherFiles?.length) lines.push(`    not tabular, not compared: ${d.otherFiles.slice(0, MAX_TEXT_FILES).join(', ')}${d.otherFiles.length > MAX_TEXT_FILES ? `, … and ${groupDigits(d.otherFiles.length - MAX_TEXT_FILES)} more` : ''}`);
  }
  lines.push(summaryLine(r));
  const changed = r.changes.length > 0;
  return {
    text: lines.join('\n') + '\n',
    md: renderDiffMarkdown(r),
    html: typeof args.html === 'string' ? renderDiffReport(r) : undefined,
    exit: args.exitCode && changed ? EXIT.differences : undefined,
    notes: r.warnings.map((w) => warningNote(w.message, w.hint)),
  };
};

/** `filter (min=3) from data/raw.csv (1,000 rows) → 900 rows, 2026-01-02, at 1a2b3c4d5e`. */
function lineageText(l: VersionLineage | null): string | null {
  if (!l) return null;
  const params = Object.entries(l.params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  const inputs = l.inputs.map((i) => `${i.path}${i.rows === null ? '' : ` (${groupDigits(i.rows)} rows)`}`).join(', ');
  const rows = l.rows === null ? '' : ` → ${groupDigits(l.rows)} rows`;
  return `${l.transform}${params ? ` (${params})` : ''} from ${inputs || 'no input'}${rows}, ${l.started.slice(0, 10)}${l.commit ? `, at ${l.commit.slice(0, 10)}` : ''}`;
}

function lineageRows(d: DataDiff): ReportLineageRow[] | undefined {
  if (!d.lineage) return undefined;
  const before = lineageText(d.lineage.before);
  const after = lineageText(d.lineage.after);
  const change = !before ? 'added' : !after ? 'removed' : before === after ? 'unchanged' : 'modified';
  return [{ step: `made by ${(d.lineage.after ?? d.lineage.before)!.transform}`, change, before, after }];
}

/** The HTML report: every data path whose contents were compared (or could not be). */
export function renderDiffReport(r: DiffResult): string {
  return renderContentReport({
    title: `dvs diff: ${sideLabel(r.a)} → ${sideLabel(r.b)}`,
    subtitle: summaryLine(r),
    datasets: r.changes
      .filter((d) => d.content || d.contentError)
      .map((d) => ({
        path: d.change === 'renamed' ? `${d.oldPath} → ${d.path}` : d.path,
        change: d.change,
        content: (d.content as ContentDiff | undefined) ?? null,
        ...(d.contentError ? { note: d.contentError } : {}),
        ...(d.lineage ? { lineage: lineageRows(d) } : {}),
      })),
  });
}

function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/`/g, "'");
}

/** A pull-request comment: summary first, then one table of every changed path and file. */
export function renderDiffMarkdown(r: DiffResult): string {
  const out: string[] = [];
  out.push(`### dvs diff: \`${mdEscape(sideLabel(r.a))}\` → \`${mdEscape(sideLabel(r.b))}\``);
  out.push('');
  out.push(`**${summaryLine(r)}**`);
  if (r.changes.length === 0) return out.join('\n') + '\n';
  out.push('');
  out.push('| change | path | before | after | Δ size |');
  out.push('|---|---|---:|---:|---:|');
  let rows = 0;
  let hidden = 0;
  const row = (change: string, path: string, oldSize: number | undefined, newSize: number | undefined, delta: number) => {
    if (rows >= MAX_MD_ROWS) {
      hidden++;
      return;
    }
    rows++;
    out.push(`| ${change} | \`${mdEscape(path)}\` | ${oldSize === undefined ? '' : formatBytes(oldSize)} | ${newSize === undefined ? '' : formatBytes(newSize)} | ${signed(delta)} |`);
  };
  for (const d of r.changes) {
    const name = d.change === 'renamed' ? `${d.oldPath} → ${d.path}` : d.path;
    row(`**${d.change}**`, d.kind === 'dir' ? `${name}/` : name, d.oldSize, d.newSize, d.sizeDelta);
    for (const f of d.files ?? []) {
      const fname = f.change === 'renamed' ? `${d.path}/${f.oldPath} → ${d.path}/${f.path}` : `${d.path}/${f.path}`;
      row(f.change, fname, f.oldSize, f.newSize, f.sizeDelta);
    }
    if (d.incomplete) row('(manifest missing)', `${d.path}/`, undefined, undefined, 0);
  }
  if (hidden) out.push(`| … | ${groupDigits(hidden)} more rows | | | |`);
  out.push('');
  // Then a collapsible section per file whose contents were compared.
  for (const d of r.changes) {
    const tables = d.tables as TableDiff[] | undefined;
    if (d.sameRecords) out.push(`> \`${mdEscape(d.path)}\`: ${mdEscape(sameRecordsLine(d.sameRecords))}`, '');
    else if (tables?.length) {
      for (const t of tables) {
        const name = `${d.path}/${t.name}`;
        if (t.content) out.push(renderContentDiffMarkdown(name, t.content), '');
        else if (t.contentError) out.push(`> \`${mdEscape(name)}\`: content not compared: ${mdEscape(t.contentError)}`, '');
      }
    } else if (d.content) out.push(renderContentDiffMarkdown(d.path, d.content as ContentDiff), '');
    else if (d.contentError) out.push(`> \`${mdEscape(d.path)}\`: content not compared: ${mdEscape(d.contentError)}`, '');
    for (const t of d.tensors ?? []) out.push('```', ...renderTensorText(t), '```', '');
  }
  return out.join('\n') + '\n';
}
