import type { LineageCommandResult } from '../../commands/lineage.js';
import { formatParams } from '../../lineage/params.js';
import type { LineageNode, LineageStep } from '../../lineage/walk.js';
import type { LineageShowResult } from '../../ops/history/lineage.js';
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

export const renderLineage: Renderer<LineageCommandResult> = (r, options) => (r.action === 'show' ? renderShow(r, options) : renderTransform(r, options));
