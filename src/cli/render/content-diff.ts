/**
 * Human renderings of a content diff (`dvs diff --content`): compact text lines for the terminal, and a
 * collapsible markdown section per file for pull requests (`--md`). `--json` is the ContentDiff itself.
 * Both show the columns that moved most first, as the diff sorts them, and only the changed ones.
 */
import { topPairs, type Cell, type ColumnDiff, type ColumnStats, type ContentDiff, type DatasetTotals, type RowDiff, type SampleRow, type TableDiff, type TensorDiff } from '../../diff/content/index.js';
import { formatSigned, groupDigits } from '../format.js';
import { columnHistograms, isCategorical, nullRate, nullRateChange, sparklines, topChanges, type TopChange } from './content-pictures.js';

/** Changed columns shown before "… and N more". */
const MAX_COLUMNS = 12;
/** A cell longer than this is cut with an ellipsis. */
const MAX_CELL = 40;

export function num(x: number): string {
  if (Number.isInteger(x)) return groupDigits(x);
  const abs = Math.abs(x);
  return abs !== 0 && (abs < 1e-4 || abs >= 1e15) ? x.toExponential(3) : String(Number(x.toPrecision(6)));
}

export function signed(x: number): string {
  return formatSigned(x, num);
}

export function value(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  if (typeof v === 'number') return num(v);
  const s = String(v).replace(/\r?\n/g, '⏎');
  return s.length > MAX_CELL ? s.slice(0, MAX_CELL - 1) + '…' : s;
}

/** `a → b`, or just `a` when nothing changed. */
function change(a: unknown, b: unknown): string {
  return a === b ? value(a) : `${value(a)} → ${value(b)}`;
}

/** Top values whose counts moved most, as `math 1,000 → 950`. */
function topMoves(a: ColumnStats, b: ColumnStats, max: number): string[] {
  return topPairs(a, b)
    .filter((m) => m.before !== m.after)
    .sort((x, y) => Math.abs(y.after - y.before) - Math.abs(x.after - x.before))
    .slice(0, max)
    .map((m) => `${value(m.value)} ${num(m.before)} → ${num(m.after)}`);
}

/** What moved in a column, as short `name a → b` phrases; only the statistics that changed. */
function columnMoves(c: ColumnDiff): string[] {
  const a = c.before;
  const b = c.after;
  if (!a || !b) return [];
  const parts: string[] = [];
  if (c.reformatted) parts.push('same numbers written differently (formatting only)');
  // `null` is "no values", not a type (a header-only file): the counts say what happened.
  if (a.type !== b.type && !c.reformatted && a.type !== 'null' && b.type !== 'null') parts.push(`type ${a.type} → ${b.type}`);
  const stat = (label: string, key: keyof ColumnStats): void => {
    if (a[key] !== b[key] && (a[key] !== null || b[key] !== null)) parts.push(`${label} ${change(a[key], b[key])}`);
  };
  stat('nulls', 'nulls');
  stat('mean', 'mean');
  stat('stddev', 'stddev');
  stat('min', 'min');
  stat('max', 'max');
  const tops = topMoves(a, b, 3);
  if (tops.length) parts.push(`top ${tops.join(', ')}`);
  stat('distinct', 'distinct');
  stat('mean length', 'meanLength');
  return parts;
}

function rowsLine(d: ContentDiff): string {
  const { before, after, delta } = d.rows;
  if (before === null || after === null) return `rows: ${value(before)} → ${value(after)}`;
  return `rows: ${num(before)} → ${num(after)} (${signed(delta ?? 0)})`;
}

function schemaParts(d: ContentDiff): string[] {
  const s = d.schema;
  return [
    ...s.added.map((c) => `+${c.name} (${c.type})`),
    ...s.removed.map((c) => `−${c.name} (${c.type})`),
    ...s.renamed.map((r) => `${r.from} → ${r.to} (renamed)`),
    ...s.typeChanged.map((t) => `${t.name}: ${t.before} → ${t.after}`),
    ...(s.reordered ? ['columns reordered'] : []),
  ];
}

/** Key mode, per column: `score: 2 rows changed, mean Δ −12.5`. */
function cellChangeLines(r: RowDiff): string[] {
  const of = r.cellChangesOf !== null && r.changed !== null && r.cellChangesOf < r.changed ? ` (of the first ${num(r.cellChangesOf)} changed keys)` : '';
  return (r.cellChanges ?? []).map((c) => `${c.column}: ${num(c.rows)} ${c.rows === 1 ? 'row' : 'rows'} changed${c.meanDelta === null ? '' : `, mean Δ ${signed(c.meanDelta)}`}${of}`);
}

function sampleText(r: SampleRow): string {
  // Text with a comma is quoted, so that `a=x, y` cannot be read as two cells.
  const show = (v: Cell): string => (typeof v === 'string' && /[,"]/.test(v) ? JSON.stringify(value(v)) : value(v));
  return `row ${r.row}: ${Object.entries(r.values)
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(', ')}`;
}

export function renderContentDiffText(path: string, diff: ContentDiff): string[] {
  const lines: string[] = [];
  const files = diff.files.before > 1 || diff.files.after > 1 ? `, ${num(diff.files.before)} → ${num(diff.files.after)} files` : '';
  lines.push(`${path} (${diff.format ?? 'unknown format'}, ${diff.change}${files})`);
  // A partitioned table: the whole dataset first, then what changed.
  if (diff.dataset) lines.push(...datasetLines(diff.dataset).map((l) => `  ${l}`));
  lines.push(`  ${rowsLine(diff)}${diff.dataset ? ' in the changed files' : ''}`);
  const schema = schemaParts(diff);
  if (schema.length) lines.push(`  schema: ${schema.join('; ')}`);
  const moved = diff.columns.filter((c) => c.change === 'changed');
  for (const c of moved.slice(0, MAX_COLUMNS)) {
    const parts = columnMoves(c);
    const type = c.after && c.after.type !== 'null' ? c.after.type : (c.before?.type ?? c.after?.type);
    if (parts.length) lines.push(`  ${c.name} (${type}): ${parts.join('; ')}`);
  }
  if (moved.length > MAX_COLUMNS) lines.push(`  … and ${num(moved.length - MAX_COLUMNS)} more changed columns`);
  const r = diff.rowDiff;
  if (r) {
    const est = r.estimated ? ' (estimated)' : '';
    if (r.mode === 'key') {
      lines.push(`  by key ${r.key}: ${num(r.changed ?? 0)} changed, removed ${num(r.removed)} rows, added ${num(r.added)}, ${num(r.unchanged)} unchanged${est}`);
      lines.push(...cellChangeLines(r).map((l) => `    ${l}`));
    } else {
      lines.push(`  removed ${num(r.removed)} rows, added ${num(r.added)}, ${num(r.unchanged)} unchanged${est}`);
    }
    for (const s of r.samples.removed) lines.push(`    − ${sampleText(s)}`);
    for (const s of r.samples.added) lines.push(`    + ${sampleText(s)}`);
    for (const c of r.samples.changed) {
      lines.push(`    ~ ${r.key}=${value(c.key)}: ${c.cells.map((x) => `${x.column} ${value(x.before)} → ${value(x.after)}`).join('; ')}`);
    }
  }
  if (diff.estimateReason) lines.push(`  estimated: ${diff.estimateReason}`);
  // Part of the diff's report on stdout (the rest of the diff went on), not an error of dvs.
  for (const e of diff.errors) lines.push(`  ${e.path} (${e.side}): ${e.message}`);
  for (const n of diff.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** A markdown table cell: no HTML, no pipes, no line breaks that would end the row. */
function cell(v: unknown): string {
  const s = typeof v === 'string' ? v : value(v);
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.map(cell).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function statsTable(columns: ColumnDiff[]): string[] {
  const rows = columns.map((c) => {
    // An added or removed column has one side: show its values, not "∅ → value".
    const pair = (key: keyof ColumnStats): string => cell(c.before && c.after ? change(c.before[key], c.after[key]) : value((c.after ?? c.before)![key]));
    const top =
      c.before && c.after
        ? topMoves(c.before, c.after, 3).join('; ')
        : ((c.after ?? c.before)!.top ?? []).slice(0, 3).map((t) => `${value(t.value)} ${num(t.count)}`).join('; ');
    const plain = c.reformatted ? `${c.name} (formatting only)` : c.name;
    const name = c.renamedFrom ? `${c.renamedFrom} → ${c.name}` : c.change === 'added' ? `+${c.name}` : c.change === 'removed' ? `−${c.name}` : plain;
    return [cell(name), pair('type'), pair('nulls'), pair('distinct'), pair('mean'), pair('stddev'), pair('min'), pair('max'), cell(top)];
  });
  return table(['column', 'type', 'nulls', 'distinct', 'mean', 'stddev', 'min', 'max', 'top values (count)'], rows);
}

/** `a 120 → 130 (+10)`, or `a 120` when its count did not move. */
export function topChangeText(t: TopChange): string {
  if (t.before === null || t.after === null) return `${value(t.value)} ${num((t.before ?? t.after)!)}`;
  if (t.before === t.after) return `${value(t.value)} ${num(t.after)}`;
  return `${value(t.value)} ${num(t.before)} → ${num(t.after)} (${signed(t.after - t.before)})`;
}

/** The smallest and largest number of the column over both versions, as `lo … hi`. */
function numericRange(c: ColumnDiff): string {
  // Bounds beyond a double's precision are exact text (a numeric column's): the range is a picture's, a double does.
  const bounds = [c.before, c.after].flatMap((s) => (s?.histogram ? [s.min, s.max] : [])).map((x) => (typeof x === 'string' ? Number(x) : x)).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return bounds.length ? `${num(Math.min(...bounds))} … ${num(Math.max(...bounds))}` : '';
}

/**
 * Pictures a reviewer reads at a glance: per numeric column a sparkline of each version on the same bins,
 * per categorical column its top values with their count change; and the null rate of both.
 */
function distributionTables(diff: ContentDiff, columns: ColumnDiff[]): string[] {
  const nulls = (c: ColumnDiff) => cell(nullRateChange(nullRate(c.before, diff.rows.before), nullRate(c.after, diff.rows.after)));
  const numeric: string[][] = [];
  const categorical: string[][] = [];
  for (const c of columns) {
    const h = columnHistograms(c);
    if (h) {
      const s = sparklines(h);
      const spark = (x: string | null) => (x === null ? '' : `\`${x}\``);
      numeric.push([cell(c.name), spark(s.before), spark(s.after), cell(numericRange(c)), nulls(c)]);
    } else if (isCategorical(c)) {
      categorical.push([cell(c.name), cell(topChanges(c, 5).map(topChangeText).join('; ')), nulls(c)]);
    }
  }
  const out: string[] = [];
  if (numeric.length) out.push(...table(['column', 'before', 'after', 'range', 'nulls'], numeric), '');
  if (categorical.length) out.push(...table(['column', 'top values (count before → after)', 'nulls'], categorical), '');
  return out;
}

function sampleTable(samples: SampleRow[]): string[] {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.values)))];
  return table(['row', ...names], samples.map((s) => [String(s.row), ...names.map((n) => cell(value(s.values[n] as Cell)))]));
}

export function renderContentDiffMarkdown(path: string, diff: ContentDiff): string {
  const moved = diff.columns.filter((c) => c.change !== 'unchanged');
  const summary = [diff.format ?? 'unknown format', diff.change === 'modified' ? '' : diff.change, rowsLine(diff), `${num(moved.length)} of ${num(diff.columns.length)} columns changed`]
    .filter(Boolean)
    .join(', ');
  const out: string[] = [`<details><summary><code>${cell(path)}</code> — ${cell(summary)}</summary>`, ''];
  if (diff.dataset) out.push(...datasetLines(diff.dataset).map((l) => `- ${cell(l.trim())}`), '');
  const schema = schemaParts(diff);
  if (schema.length) out.push(`**Schema:** ${cell(schema.join('; '))}`, '');
  if (moved.length) {
    out.push(...statsTable(moved.slice(0, MAX_COLUMNS)));
    if (moved.length > MAX_COLUMNS) out.push('', `… and ${num(moved.length - MAX_COLUMNS)} more changed columns`);
    out.push('');
    const pictures = distributionTables(diff, moved.slice(0, MAX_COLUMNS));
    if (pictures.length) out.push('**Distributions** (each version on the same bins; ▁ is an empty bin):', '', ...pictures);
  }
  const r = diff.rowDiff;
  if (r) {
    const est = r.estimated ? ' (estimated)' : '';
    const head = r.mode === 'key' ? `**Rows by \`${cell(r.key)}\`:** ${num(r.changed ?? 0)} changed, ` : '**Rows:** ';
    out.push(`${head}${num(r.removed)} removed, ${num(r.added)} added, ${num(r.unchanged)} unchanged${est}`, '');
    const perColumn = cellChangeLines(r);
    if (perColumn.length) out.push(...perColumn.map((l) => `- ${cell(l)}`), '');
    if (r.samples.removed.length) out.push(`Removed (first ${r.samples.removed.length}):`, '', ...sampleTable(r.samples.removed), '');
    if (r.samples.added.length) out.push(`Added (first ${r.samples.added.length}):`, '', ...sampleTable(r.samples.added), '');
    if (r.samples.changed.length) {
      const rows = r.samples.changed.flatMap((c) => c.cells.map((x) => [cell(value(c.key)), cell(x.column), cell(value(x.before)), cell(value(x.after))]));
      out.push(`Changed (first ${r.samples.changed.length}):`, '', ...table([r.key ?? 'key', 'column', 'before', 'after'], rows), '');
    }
  }
  for (const e of diff.errors) out.push(`> **Error** (${e.side}) \`${cell(e.path)}\`: ${cell(e.message)}`, '');
  if (diff.estimateReason) out.push(`> Estimated: ${cell(diff.estimateReason)}`, '');
  for (const n of diff.notes) out.push(`> ${cell(n)}`, '');
  out.push('</details>');
  return out.join('\n') + '\n';
}

/** A partitioned table's totals over all its files, and which files were read for them. */
function datasetLines(t: DatasetTotals): string[] {
  const { before, after, delta } = t.rows;
  const rows = before === null || after === null ? `${value(before)} → ${value(after)}` : `${num(before)} → ${num(after)} (${signed(delta ?? 0)})`;
  const lines = [`dataset: rows ${rows} over ${num(t.files.before)} → ${num(t.files.after)} files`];
  for (const c of t.columns.filter((x) => x.change === 'changed').slice(0, MAX_COLUMNS)) {
    const parts = columnMoves(c);
    if (parts.length) lines.push(`  ${c.name} (${c.after?.type ?? c.before?.type}): ${parts.join('; ')}`);
  }
  const cost = [`read ${num(t.read.length)} ${t.read.length === 1 ? 'file' : 'files'}${t.read.length && t.read.length <= 5 ? ` (${t.read.join(', ')})` : ''}`, `${num(t.cached.length)} from the stats cache`];
  if (t.footerOnly) cost.push(`${num(t.footerOnly)} Parquet ${t.footerOnly === 1 ? 'footer' : 'footers'} only`);
  if (t.unavailable.length) cost.push(`${num(t.unavailable.length)} not in the cache, left out`);
  lines.push(`dataset statistics: ${cost.join(', ')}`);
  return lines;
}

/** One table of a tracked directory: its name and layout, then its content diff. */
export function renderTableText(dir: string, t: TableDiff): string[] {
  const name = `${dir}/${t.name}`;
  const head = `table ${t.name} (${t.content?.format ?? 'unknown format'}, ${t.layout}, ${num(t.files.before)} → ${num(t.files.after)} ${t.files.after === 1 ? 'file' : 'files'}, ${num(t.files.changed)} changed${t.sameRecords === true ? ', same records' : t.sameRecords === false ? ', records differ' : ''})`;
  if (!t.content) return [head, ...(t.contentError ? [`  content: ${t.contentError}`] : [])];
  return [head, ...renderContentDiffText(name, t.content).slice(1)];
}

/** A safetensors file: tensors added, removed, retyped, reshaped, and whose bytes changed. */
export function renderTensorText(t: TensorDiff): string[] {
  const { before, after } = t.tensors;
  const lines = [`${t.path} (safetensors, ${t.change}): tensors ${value(before)} → ${value(after)}`];
  const list = (xs: Array<{ name: string; dtype: string; shape: number[] }>) => xs.map((x) => `${x.name} ${x.dtype}[${x.shape.join(', ')}]`).join(', ');
  if (t.added.length) lines.push(`  added: ${list(t.added)}`);
  if (t.removed.length) lines.push(`  removed: ${list(t.removed)}`);
  for (const c of t.dtypeChanged) lines.push(`  ${c.name}: dtype ${c.before} → ${c.after}`);
  for (const c of t.shapeChanged) lines.push(`  ${c.name}: shape ${c.before} → ${c.after}`);
  if (t.bytesChanged.length) lines.push(`  bytes changed: ${t.bytesChanged.join(', ')}`);
  lines.push(`  ${num(t.unchanged)} unchanged`);
  for (const m of t.metadata) lines.push(`  metadata ${m.key}: ${change(m.before, m.after)}`);
  for (const e of t.errors) lines.push(`  ${e.path} (${e.side}): ${e.message}`);
  return lines;
}
