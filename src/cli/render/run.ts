import type { RunCommandResult } from '../../commands/run.js';
import type { ContentDiff } from '../../diff/content/index.js';
import { formatParams } from '../../lineage/params.js';
import type { LineageStepChange, MetricDelta, RunCompareResult, RunDatasetChange } from '../../ops/history/run-compare.js';
import type { RunListResult, RunShowResult } from '../../ops/history/run-show.js';
import type { RunWriteResult } from '../../ops/history/run-start.js';
import type { RunRecord } from '../../runs/record.js';
import { EXIT } from '../exit-codes.js';
import { errorNote, formatBytes, formatCount, formatSigned, groupDigits, warningNote } from '../format.js';
import { formatPercent, formatRows } from './transform.js';
import { renderContentReport, type ReportLineageRow } from './content-report.js';
import type { Rendered, Renderer } from './types.js';

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : '—');
const value = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
const short = (c: string | null | undefined) => (c ? c.slice(0, 10) : 'no commit');
const signed = (n: number) => formatSigned(n, (x) => (Number.isInteger(x) ? groupDigits(x) : String(x)));
const signedPercent = (p: number) => formatSigned(p, formatPercent);
const int = (n: number | null) => (n === null ? '?' : groupDigits(n));

function codeLine(code: RunRecord['code']): string {
  return `${short(code.commit)}${code.branch ? ` on ${code.branch}` : ''}${code.dirty ? ` (dirty: ${code.changes.join(', ')})` : ' (clean)'}`;
}

function hardwareLine(h: RunRecord['hardware']): string {
  const gpus = h.gpus === null ? 'GPUs not listed (no nvidia-smi)' : h.gpus.length ? h.gpus.map((g) => g.name).join(', ') : 'no GPU';
  return `${h.cpu}, ${formatCount(h.cores, 'core')}, ${formatBytes(h.memory)} memory, ${gpus}`;
}

function lineageChain(run: RunRecord['datasets'][number]): string {
  return run.lineage.map((s) => `${s.transform}${Object.keys(s.params).length ? ` (${formatParams(s.params)})` : ''}`).join(' ← ');
}

function renderWrite(r: { action: 'start' | 'finish' } & RunWriteResult): Rendered {
  const run = r.run;
  const lines: string[] = [];
  if (r.action === 'start') {
    lines.push(`started run ${run.id} (model ${run.model}) at code ${codeLine(run.code)}`);
    for (const d of run.datasets) lines.push(`  dataset  ${d.path}  ${d.oid.slice(0, 10)}  ${formatRows(d.rows)}${d.lineage.length ? `  ← ${lineageChain(d)}` : ''}`);
    if (Object.keys(run.params).length) lines.push(`  params   ${formatParams(run.params)}`);
    lines.push(`  hardware ${hardwareLine(run.hardware)}`);
  } else {
    lines.push(`finished run ${run.id} after ${int(run.duration)} s`);
    if (Object.keys(run.metrics).length) lines.push(`  metrics  ${formatParams(run.metrics)}`);
  }
  lines.push(`Recorded in ${r.file}`);
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add ${r.toStage.join(' ')} .dvs/audit`);
  return { text: lines.join('\n') + '\n', notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
}

function renderList(r: RunListResult): Rendered {
  if (r.runs.length === 0) return { text: `No runs${r.rev ? ` at ${r.rev}` : ''} (dvs run start <id> --model <name> records one).\n` };
  const lines = r.runs.map((x) => {
    if (x.error) return `${x.id}  unreadable: ${x.error}`;
    const metrics = Object.keys(x.metrics ?? {}).length ? `  ${formatParams(x.metrics!)}` : '';
    const flag = x.integrity === 'mismatch' ? '  [record changed after its audit event]' : x.integrity === 'unrecorded' ? '  [no audit event]' : '';
    return `${x.id}  ${x.model}  ${x.status}  ${when(x.started ?? null)}  ${x.user}  code ${short(x.commit)}  ${formatCount(x.datasets ?? 0, 'dataset')}${metrics}${flag}`;
  });
  return { text: lines.join('\n') + '\n' };
}

function renderShow(r: RunShowResult, md: boolean): Rendered {
  const run = r.run;
  const integrity =
    r.integrity.status === 'ok'
      ? `ok (matches its ${r.integrity.event?.type} event)`
      : r.integrity.status === 'mismatch'
        ? 'CHANGED after its audit event: do not trust this record'
        : 'no audit event vouches for this record';
  const lines = [
    `run ${run.id}  model ${run.model}  ${run.status}${r.commit ? `  (at commit ${short(r.commit)})` : ''}`,
    `  started   ${when(run.started)} by ${run.user} on ${run.host}${run.finished ? `; finished ${when(run.finished)} (${int(run.duration)} s)` : ''}`,
    `  code      ${codeLine(run.code)}`,
  ];
  for (const d of run.datasets) {
    lines.push(`  dataset   ${d.path}  ${d.oid.slice(0, 10)}  ${d.kind === 'dir' ? `${formatCount(d.files ?? 0, 'file')}, ` : ''}${formatBytes(d.size)}, ${formatRows(d.rows)}${d.staleLineage ? '  (lineage was stale)' : ''}`);
    if (d.lineage.length) lines.push(`            ← ${lineageChain(d)}`);
  }
  lines.push(`  params    ${Object.keys(run.params).length ? formatParams(run.params) : '—'}`);
  lines.push(`  hardware  ${hardwareLine(run.hardware)}`);
  lines.push(`  metrics   ${Object.keys(run.metrics).length ? formatParams(run.metrics) : '—'}`);
  lines.push(`  integrity ${integrity}`);
  const text = lines.join('\n') + '\n';
  const notes = r.integrity.status === 'ok' ? [] : [r.integrity.status === 'mismatch' ? errorNote(r.integrity.message ?? '') : warningNote(r.integrity.message ?? '')];
  const mdText = md
    ? [
        `### Run \`${run.id}\` (${run.model}, ${run.status})`,
        '',
        '| | |',
        '|---|---|',
        `| code | \`${short(run.code.commit)}\`${run.code.dirty ? ' (dirty)' : ''} |`,
        ...run.datasets.map((d) => `| dataset | \`${d.path}\` \`${d.oid.slice(0, 10)}\` ${formatRows(d.rows)} |`),
        ...Object.entries(run.params).map(([k, v]) => `| param \`${k}\` | ${value(v)} |`),
        ...Object.entries(run.metrics).map(([k, v]) => `| metric \`${k}\` | ${v} |`),
        `| integrity | ${integrity} |`,
        '',
      ].join('\n')
    : undefined;
  return { text, md: mdText, notes, exit: r.integrity.status === 'mismatch' ? EXIT.differences : undefined };
}

// --- compare -------------------------------------------------------------------------------------

function rowsText(d: RunDatasetChange): string | undefined {
  const r = d.rows;
  if (r.before === null && r.after === null) return undefined;
  if (r.delta === null) return `rows ${int(r.before)} → ${int(r.after)}`;
  return `rows ${int(r.before)} → ${int(r.after)} (${signed(r.delta)}${r.percent !== null ? `, ${signedPercent(r.percent)}` : ''})`;
}

function stepText(s: LineageStepChange): string | undefined {
  if (s.change === 'unchanged') return undefined;
  if (s.change === 'added') return `${s.transform} → ${s.outputs}: new step${s.params.length ? ` (${s.params.map((p) => `${p.key}=${value(p.after)}`).join(' ')})` : ''}`;
  if (s.change === 'removed') return `${s.transform} → ${s.outputs}: step no longer used`;
  const parts: string[] = [];
  for (const p of s.params) parts.push(`${p.key} ${value(p.before)} → ${value(p.after)}`);
  const b = s.before!;
  const a = s.after!;
  if (b.rowsOut !== a.rowsOut || b.rowsIn !== a.rowsIn) {
    const removed = b.removedPercent !== null && a.removedPercent !== null ? ` (${formatPercent(b.removedPercent)} → ${formatPercent(a.removedPercent)} removed)` : '';
    parts.push(`rows out ${int(b.rowsOut)} → ${int(a.rowsOut)}${removed}`);
  }
  if (parts.length === 0) parts.push('re-run on other input versions');
  return `${s.transform} → ${s.outputs}: ${parts.join('; ')}`;
}

function contentText(c: ContentDiff): string[] {
  const out: string[] = [];
  const s = c.schema;
  const schema = [
    ...s.added.map((x) => `+${x.name}`),
    ...s.removed.map((x) => `-${x.name}`),
    ...s.renamed.map((x) => `${x.from}→${x.to}`),
    ...s.typeChanged.map((x) => `${x.name}: ${x.before}→${x.after}`),
  ];
  out.push(`schema: ${schema.length ? schema.join(', ') : 'unchanged'}`);
  if (c.rowDiff) out.push(`rows: ${int(c.rowDiff.added)} added, ${int(c.rowDiff.removed)} removed${c.rowDiff.changed !== null ? `, ${int(c.rowDiff.changed)} changed` : ''}, ${int(c.rowDiff.unchanged)} unchanged${c.rowDiff.estimated ? ' (estimated)' : ''}`);
  const moved = c.columns.filter((col) => col.change !== 'unchanged').slice(0, 5);
  for (const col of moved) {
    const b = col.before;
    const a = col.after;
    const stats: string[] = [];
    if (b?.mean != null && a?.mean != null && b.mean !== a.mean) stats.push(`mean ${round(b.mean)} → ${round(a.mean)}`);
    if (b?.min != null && a?.min != null && b.min !== a.min) stats.push(`min ${value(b.min)} → ${value(a.min)}`);
    if (b?.nulls != null && a?.nulls != null && b.nulls !== a.nulls) stats.push(`nulls ${int(b.nulls)} → ${int(a.nulls)}`);
    if (b?.distinct != null && a?.distinct != null && b.distinct !== a.distinct) stats.push(`distinct ${int(b.distinct)} → ${int(a.distinct)}`);
    const top = topShift(b?.top ?? null, a?.top ?? null);
    if (top) stats.push(top);
    out.push(`column ${col.name}: ${col.change}${stats.length ? `, ${stats.join(', ')}` : ''}`);
  }
  return out;
}

/** The most frequent value whose count moved most, e.g. "math 400 → 380". */
function topShift(before: Array<{ value: string; count: number }> | null, after: Array<{ value: string; count: number }> | null): string | undefined {
  if (!before || !after) return undefined;
  let best: { value: string; from: number; to: number } | undefined;
  for (const b of before) {
    const a = after.find((x) => x.value === b.value);
    if (!a || a.count === b.count) continue;
    if (!best || Math.abs(a.count - b.count) > Math.abs(best.to - best.from)) best = { value: b.value, from: b.count, to: a.count };
  }
  return best ? `"${best.value}" ${int(best.from)} → ${int(best.to)}` : undefined;
}

const round = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(1) : n.toPrecision(4).replace(/\.?0+$/, ''));

function metricText(m: MetricDelta): string {
  if (m.delta === null) return `${value(m.before)} → ${value(m.after)}`;
  return `${m.before} → ${m.after}  ${signed(m.delta)}${m.percent !== null && m.delta !== 0 ? ` (${signedPercent(m.percent)})` : ''}`;
}

function codeCompare(r: RunCompareResult): string {
  const c = r.code;
  if (c.before.commit === c.after.commit) return `same commit ${short(c.after.commit)}${c.before.dirty || c.after.dirty ? ' (a tree was dirty)' : ''}`;
  const rel = c.ahead !== null && c.behind !== null ? ` (${r.b.id} is ${int(c.ahead)} ahead, ${int(c.behind)} behind)` : '';
  return `${short(c.before.commit)}${c.before.dirty ? ' (dirty)' : ''} → ${short(c.after.commit)}${c.after.dirty ? ' (dirty)' : ''}${rel}`;
}

const sideName = (s: RunCompareResult['a']) => `${s.id}${s.rev ? `@${s.rev}` : ''}`;

function compareText(r: RunCompareResult): string {
  const lines = [`Comparing run ${sideName(r.a)} (${r.a.model}, ${when(r.a.started)}) with ${sideName(r.b)} (${r.b.model}, ${when(r.b.started)})`, ''];
  lines.push('Datasets');
  const changed = r.datasets.filter((d) => d.change !== 'unchanged');
  if (changed.length === 0) lines.push('  all the same');
  for (const d of r.datasets) {
    if (d.change === 'unchanged') {
      if (changed.length) lines.push(`  = ${d.path}  ${d.after!.oid.slice(0, 10)} (same)`);
      continue;
    }
    const mark = d.change === 'added' ? 'A' : d.change === 'removed' ? 'D' : 'M';
    const b = d.before;
    const a = d.after;
    const versions = b && a ? `${b.oid.slice(0, 10)} → ${a.oid.slice(0, 10)}  (${formatBytes(b.size)} → ${formatBytes(a.size)})` : (a ?? b)!.oid.slice(0, 10);
    lines.push(`  ${mark} ${d.path}  ${versions}`);
    const rows = rowsText(d);
    if (rows) lines.push(`      ${rows}`);
    if (d.files?.fileCounts) {
      const fc = d.files.fileCounts;
      lines.push(`      files: ${int(fc.added)} added, ${int(fc.deleted)} deleted, ${int(fc.modified)} modified, ${int(fc.renamed)} renamed`);
    }
    const steps = d.lineage.map(stepText).filter((s): s is string => s !== undefined);
    steps.forEach((s, i) => lines.push(`      ${i === 0 ? 'lineage: ' : '         '}${s}`));
    if (d.records?.same) lines.push(`      records: the same ${int(d.records.after.rows)} records: re-encoded (re-partitioned, converted or reordered), not a data change`);
    else if (d.records) lines.push(`      records: changed (record hash ${d.records.before.digest.slice(0, 12)} → ${d.records.after.digest.slice(0, 12)}): a real data change`);
    if (d.content) contentText(d.content).forEach((s, i) => lines.push(`      ${i === 0 ? 'content: ' : '         '}${s}`));
    else if (d.contentNote && d.change === 'modified' && !d.records?.same) lines.push(`      content: not compared (${d.contentNote})`);
  }
  lines.push('', 'Hyperparameters');
  if (r.params.length === 0) lines.push('  all the same');
  for (const p of r.params) lines.push(`  ${p.key}  ${value(p.before)} → ${value(p.after)}`);
  lines.push('', 'Code', `  ${codeCompare(r)}`);
  if (r.hardware.length) {
    lines.push('', 'Hardware');
    for (const h of r.hardware) lines.push(`  ${h.key}  ${value(h.before)} → ${value(h.after)}`);
  }
  lines.push('', 'Metrics');
  if (r.metrics.length === 0) lines.push('  none recorded');
  const width = Math.max(0, ...r.metrics.map((m) => m.key.length));
  for (const m of r.metrics) lines.push(`  ${m.key.padEnd(width)}  ${metricText(m)}`);
  return lines.join('\n') + '\n';
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

function compareMarkdown(r: RunCompareResult): string {
  const out = [`### Run \`${sideName(r.a)}\` → \`${sideName(r.b)}\``, ''];
  out.push('#### Datasets', '', '| dataset | change | version | rows | lineage |', '|---|---|---|--:|---|');
  for (const d of r.datasets) {
    const version = d.before && d.after && d.before.oid !== d.after.oid ? `\`${d.before.oid.slice(0, 10)}\` → \`${d.after.oid.slice(0, 10)}\`` : `\`${(d.after ?? d.before)!.oid.slice(0, 10)}\``;
    const steps = d.lineage.map(stepText).filter((s): s is string => s !== undefined).map(cell).join('<br>') || '—';
    const change = d.records?.same ? 're-encoded (same records)' : d.change;
    out.push(`| \`${d.path}\` | ${change} | ${version} | ${cell(rowsText(d) ?? '—')} | ${steps} |`);
  }
  for (const d of r.datasets) {
    if (!d.content) continue;
    out.push('', `<details><summary>Content of <code>${d.path}</code></summary>`, '', ...contentText(d.content).map((s) => `- ${cell(s)}`), '', '</details>');
  }
  out.push('', '#### Hyperparameters', '');
  if (r.params.length === 0) out.push('All the same.');
  else out.push('| parameter | before | after |', '|---|---|---|', ...r.params.map((p) => `| \`${p.key}\` | ${cell(value(p.before))} | ${cell(value(p.after))} |`));
  out.push('', '#### Code', '', codeCompare(r), '', '#### Metrics', '');
  if (r.metrics.length === 0) out.push('None recorded.');
  else {
    out.push('| metric | before | after | Δ |', '|---|--:|--:|--:|');
    for (const m of r.metrics) out.push(`| \`${m.key}\` | ${value(m.before)} | ${value(m.after)} | ${m.delta === null ? '—' : `${signed(m.delta)}${m.percent !== null && m.delta !== 0 ? ` (${signedPercent(m.percent)})` : ''}`} |`);
  }
  for (const w of r.warnings) out.push('', `> ⚠️ ${w.message}`);
  return out.join('\n') + '\n';
}

/** One side of a lineage step for the report: its rows and its parameters' values on that side. */
function stepSideText(s: LineageStepChange, side: 'before' | 'after'): string | null {
  const v = s[side];
  if (!v) return null;
  const removed = v.removedPercent !== null ? ` (${formatPercent(v.removedPercent)} removed)` : '';
  const params = s.params.map((p) => `${p.key}=${value(p[side])}`);
  return [`step ${v.step.slice(0, 10)}: rows ${int(v.rowsIn)} → ${int(v.rowsOut)}${removed}`, ...params].join('; ');
}

function lineageRows(d: RunDatasetChange): ReportLineageRow[] {
  return d.lineage.map((s) => ({ step: `${s.transform} → ${s.outputs}`, change: s.change, before: stepSideText(s, 'before'), after: stepSideText(s, 'after') }));
}

/** The HTML report: metric deltas on top, then what else changed, then every dataset that changed. */
export function compareReport(r: RunCompareResult): string {
  const facts = [
    ...r.params.map((p) => ({ label: `parameter ${p.key}`, before: value(p.before), after: value(p.after) })),
    ...(r.code.same ? [] : [{ label: 'code', before: short(r.code.before.commit) + (r.code.before.dirty ? ' (dirty)' : ''), after: short(r.code.after.commit) + (r.code.after.dirty ? ' (dirty)' : '') }]),
    ...r.hardware.map((h) => ({ label: `hardware ${h.key}`, before: value(h.before), after: value(h.after) })),
  ];
  return renderContentReport({
    title: `dvs run compare: ${sideName(r.a)} → ${sideName(r.b)}`,
    subtitle: `${r.a.model}, ${when(r.a.started)} → ${r.b.model}, ${when(r.b.started)}; code ${codeCompare(r)}`,
    metrics: r.metrics,
    facts,
    datasets: r.datasets
      .filter((d) => d.change !== 'unchanged')
      .map((d) => ({
        path: d.path,
        change: d.change,
        content: d.content,
        ...(d.contentNote ? { note: d.contentNote } : {}),
        lineage: lineageRows(d),
      })),
  });
}

function renderCompare(r: RunCompareResult, html: boolean): Rendered {
  const tampered = r.warnings.some((w) => w.code === 'RUN_RECORD_TAMPERED');
  return {
    text: compareText(r),
    md: compareMarkdown(r),
    html: html ? compareReport(r) : undefined,
    notes: r.warnings.map((w) => (w.code === 'RUN_RECORD_TAMPERED' ? errorNote(w.message, w.hint) : warningNote(w.message, w.hint))),
    exit: tampered ? EXIT.differences : undefined,
  };
}

export const renderRun: Renderer<RunCommandResult> = (r, { args }) => {
  switch (r.action) {
    case 'start':
    case 'finish':
      return renderWrite(r);
    case 'list':
      return renderList(r);
    case 'show':
      return renderShow(r, args.md === true);
    case 'compare':
      return renderCompare(r, typeof args.html === 'string');
  }
};

