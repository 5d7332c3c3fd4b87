import type { LineageCommandResult } from '../../commands/lineage.js';
import { formatParams } from '../../lineage/params.js';
import type { LineageNode, LineageStep } from '../../lineage/walk.js';
import type { LineageShowResult, LineageTraceResult } from '../../ops/history/lineage.js';
import type { RowPosition, TraceBranch, TraceHop } from '../../lineage/trace.js';
import { formatPercent, formatRows, renderTransform } from './transform.js';
import { importedLine } from './diff.js';
import type { Rendered, Renderer, RenderOptions } from './types.js';
import { groupDigits, warningNote } from '../format.js';

function when(iso: string): string {
  return iso ? iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, 'Z') : 'unknown time';
}

function stepTitle(s: LineageStep): string {
  const params = formatParams(s.params);
  const rows = s.rowsIn !== null || s.rowsOut !== null ? `  ${s.rowsIn === null ? '?' : groupDigits(s.rowsIn)} → ${formatRows(s.rowsOut)}` : '';
  const removed = s.removedPercent !== null ? `, ${s.removedPercent >= 0 ? `${formatPercent(s.removedPercent)} removed` : `${formatPercent(-s.removedPercent)} added`}` : '';
  const stale = s.staleInputs?.length ? `  [stale: ${s.staleInputs.join(', ')} changed since; dvs repro rebuilds it]` : '';
  return `${s.transform}${params ? ` (${params})` : ''}${rows}${removed}${stale}`;
}

function nodeLabel(n: LineageNode): string {
  const notes: string[] = [];
  if (n.origin === 'source') notes.push('source');
  if (n.origin === 'unknown') notes.push('origin unknown');
  if (n.found === 'history') notes.push(`older version, from commit ${n.commit?.slice(0, 10)}`);
  if (n.found === 'record') notes.push('version not found in Git');
  return `${n.path}  ${n.oid.slice(0, 10)}  ${formatRows(n.rows)}${notes.length ? `  (${notes.join('; ')})` : ''}`;
}

/** The graph as a tree from the target back to its sources. */
function tree(r: LineageShowResult): string[] {
  const nodes = new Map(r.nodes.map((n) => [n.id, n]));
  const steps = new Map(r.steps.map((s) => [s.id, s]));
  const lines: string[] = [];
  const shown = new Set<string>();
  const walk = (id: string, prefix: string, childPrefix: string) => {
    const n = nodes.get(id)!;
    lines.push(prefix + nodeLabel(n));
    if (!n.step) return;
    const s = steps.get(n.step)!;
    const stepPrefix = childPrefix + '└── ';
    const under = childPrefix + '    ';
    lines.push(stepPrefix + stepTitle(s));
    lines.push(`${under}by ${s.user || 'unknown'}, ${when(s.started)}${s.duration !== null ? `, ${groupDigits(s.duration)} s` : ''}${s.commit ? `, code ${s.commit.slice(0, 10)}${s.dirty ? ' (dirty)' : ''}` : ''}${s.ran === 'elsewhere' ? ', ran elsewhere' : ''}`);
    if (shown.has(s.id)) {
      lines.push(`${under}(inputs shown above)`);
      return;
    }
    shown.add(s.id);
    s.inputs.forEach((input, i) => {
      const last = i === s.inputs.length - 1;
      walk(input.node, under + (last ? '└── ' : '├── '), under + (last ? '    ' : '│   '));
    });
  };
  walk(r.nodes[0].id, '', '');
  return lines;
}

const esc = (s: string) => s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');

/** A Mermaid flowchart: datasets as boxes, transforms as hexagons, older (stale) versions dashed. */
export function mermaid(r: LineageShowResult): string {
  const ids = new Map<string, string>();
  const lines = ['flowchart LR'];
  r.nodes.forEach((n, i) => {
    const id = `d${i}`;
    ids.set(n.id, id);
    lines.push(`  ${id}["${esc(n.path)}<br/>${n.oid.slice(0, 10)} · ${esc(formatRows(n.rows))}"]`);
  });
  r.steps.forEach((s, i) => {
    const id = `t${i}`;
    const params = formatParams(s.params);
    lines.push(`  ${id}{{"${esc(s.transform)}${params ? `<br/>${esc(params)}` : ''}"}}`);
    for (const input of s.inputs) lines.push(`  ${ids.get(input.node)} --> ${id}`);
    for (const output of s.outputs) {
      const target = ids.get(output.node);
      if (!target) continue; // an output of the step that is not on the path walked
      const label = s.removedPercent !== null ? `|"${s.removedPercent >= 0 ? '-' : '+'}${formatPercent(Math.abs(s.removedPercent))} rows"|` : '';
      lines.push(`  ${id} -->${label} ${target}`);
    }
  });
  const old = r.nodes.filter((n) => n.found !== 'pointer').map((n) => ids.get(n.id));
  if (old.length) {
    lines.push('  classDef older stroke-dasharray: 5 3');
    lines.push(`  class ${old.join(',')} older`);
  }
  return lines.join('\n') + '\n';
}

function markdown(r: LineageShowResult): string {
  const out = [`### Lineage of \`${r.path}\` (${r.oid.slice(0, 10)}${r.rev ? ` at ${r.rev}` : ''})`, '', '```mermaid', mermaid(r).trimEnd(), '```', ''];
  if (r.steps.length) {
    out.push('| step | parameters | rows in | rows out | removed | by | when |', '|---|---|--:|--:|--:|---|---|');
    for (const s of r.steps) {
      out.push(`| ${s.transform} | ${formatParams(s.params).replace(/\|/g, '\\|') || '—'} | ${s.rowsIn !== undefined && s.rowsIn !== null ? groupDigits(s.rowsIn) : '?'} | ${s.rowsOut !== undefined && s.rowsOut !== null ? groupDigits(s.rowsOut) : '?'} | ${s.removedPercent !== null ? formatPercent(s.removedPercent) : '?'} | ${s.user} | ${when(s.started)} |`);
    }
    out.push('');
  }
  for (const w of r.warnings) out.push(`> ⚠️ ${w.message}`, '');
  return out.join('\n');
}

function renderShow(r: LineageShowResult, { args }: RenderOptions): Rendered {
  const notes = r.warnings.map((w) => warningNote(w.message, w.hint));
  if (args.mermaid === true) return { text: mermaid(r), md: markdown(r), notes };
  const lines = tree(r);
  if (r.imported) lines.push(importedLine(r.imported));
  else if (r.steps.length === 0 && r.nodes[0].origin === 'source') lines.push('(no lineage recorded: raw data, or tracked with dvs track)');
  return { text: lines.join('\n') + '\n', md: markdown(r), notes };
}

/** Parquet has rows, not lines: its positions read "row N of file.parquet". */
function isParquet(path: string): boolean {
  return /\.(parquet|pq)$/i.test(path);
}

function place(p: RowPosition): string {
  if (isParquet(p.path)) return `row ${groupDigits(p.row)} of ${p.path}`;
  return p.line === p.row ? `${p.path} line ${groupDigits(p.line)}` : `${p.path} row ${groupDigits(p.row)} (line ${groupDigits(p.line)})`;
}

function show(v: unknown): string {
  const t = typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v) : JSON.stringify(v);
  return t ?? String(v);
}

/** "min_score=0.8; this row's score 0.91" */
function hopParams(h: TraceHop): string {
  const params = formatParams(h.params);
  const values = h.values.map((v) => `this row's ${v.field} ${show(v.value)}`).join(', ');
  return params || values ? ` (${[params, values].filter(Boolean).join('; ')})` : '';
}

function copies(h: TraceHop): string {
  return h.copies > 1 ? `, ${ordinal(h.copy)} of ${groupDigits(h.copies)} copies` : '';
}

function ordinal(n: number): string {
  return n === 1 ? 'first' : n === 2 ? 'second' : n === 3 ? 'third' : `copy ${groupDigits(n)}`;
}

function hopLine(h: TraceHop): string {
  if (h.to) return `kept by ${h.transform}${hopParams(h)}${copies(h)} → ${place(h.to)}`;
  const dup = h.duplicateOf ? `, a copy of the row kept as ${place(h.duplicateOf)}${h.copies > 1 ? ` (${ordinal(h.copy)} of ${groupDigits(h.copies)} copies)` : ''}` : '';
  return `dropped by ${h.transform}${hopParams(h)}${dup}`;
}

function endLine(b: TraceBranch, direction: 'back' | 'forward'): string {
  const e = b.end;
  switch (e.status) {
    case 'source':
      return `${place(e.at)}  (raw source)`;
    case 'kept':
      return `ends in ${place(e.at)}`;
    case 'dropped':
      return '';
    case 'created':
      return `${place(e.at)}: made by ${e.transform}, from no input row`;
    case 'unknown':
      return `${direction === 'back' ? 'origin of' : 'beyond'} ${place(e.at)} unknown: ${e.reason}`;
  }
}

function traceText(r: LineageTraceResult): string {
  const lines: string[] = [];
  const key = r.key ? ` (${r.key.column} = ${show(r.key.value)})` : '';
  if (r.direction === 'back') {
    const b = r.branches[0];
    lines.push(`${r.file ?? r.path} row ${groupDigits(r.row)}${key}, from:`);
    lines.push(`  ${endLine(b, 'back')}`);
    for (const h of b.hops) lines.push(`    ${hopLine(h)}`);
  } else {
    const from = r.branches.find((b) => b.hops.length)?.hops[0].from;
    lines.push(`${r.file ?? r.path} row ${groupDigits(r.row)}${from && from.line !== from.row ? ` (line ${groupDigits(from.line)})` : ''}${key}:`);
    for (const b of r.branches) {
      for (const h of b.hops) lines.push(`  ${hopLine(h)}`);
      const end = endLine(b, 'forward');
      if (end) lines.push(`  ${end}`);
      if (r.branches.length > 1) lines.push('');
    }
  }
  if (r.fetched) lines.push(`(${groupDigits(r.fetched)} object${r.fetched === 1 ? '' : 's'} fetched from the remote)`);
  return lines.join('\n').trimEnd() + '\n';
}

/** A Mermaid flowchart of the row's way: positions as boxes, transforms as hexagons, a drop as a stop. */
export function traceMermaid(r: LineageTraceResult): string {
  const lines = ['flowchart LR'];
  const ids = new Map<string, string>();
  const box = (p: RowPosition): string => {
    const k = `${p.path}@${p.oid}#${p.row}`;
    let id = ids.get(k);
    if (!id) {
      id = `r${ids.size}`;
      ids.set(k, id);
      lines.push(`  ${id}["${esc(p.path)}<br/>row ${groupDigits(p.row)}${isParquet(p.path) ? '' : ` · line ${groupDigits(p.line)}`}"]`);
    }
    return id;
  };
  let n = 0;
  for (const b of r.branches) {
    for (const h of b.hops) {
      const t = `t${n++}`;
      lines.push(`  ${t}{{"${esc(h.transform)}${hopParams(h) ? `<br/>${esc(hopParams(h).slice(2, -1))}` : ''}"}}`);
      lines.push(`  ${box(h.from)} --> ${t}`);
      if (h.to) lines.push(`  ${t} --> ${box(h.to)}`);
      else {
        const x = `x${n}`;
        lines.push(`  ${x}(["dropped${h.duplicateOf ? '<br/>copy of a kept row' : ''}"])`, `  ${t} -.-> ${x}`);
      }
    }
    if (b.hops.length === 0) box(b.end.at);
  }
  return lines.join('\n') + '\n';
}

function renderTrace(r: LineageTraceResult, { args }: RenderOptions): Rendered {
  const notes = r.warnings.map((w) => warningNote(w.message, w.hint));
  const md = ['```mermaid', traceMermaid(r).trimEnd(), '```', ''].join('\n');
  if (args.mermaid === true) return { text: traceMermaid(r), md, notes };
  return { text: traceText(r), md, notes };
}

export const renderLineage: Renderer<LineageCommandResult> = (r, options) =>
  r.action === 'show' ? renderShow(r, options) : r.action === 'trace' ? renderTrace(r, options) : renderTransform(r, options);
