/**
 * The HTML report of content diffs (`dvs diff --content --html`, `dvs run compare --html`): one
 * self-contained page — inline CSS and SVG, no script, no request to anything — that a reviewer opens
 * offline or attaches to a review. Every value in it comes from the data (untrusted), so every piece of
 * text goes through `esc`, and the page's Content-Security-Policy forbids scripts and every fetch, so
 * that a missed escape still could not run anything or phone home.
 */
import type { ColumnDiff, ContentDiff, SampleRow } from '../../diff/content/index.js';
import { formatSigned } from '../format.js';
import { num, signed, topChangeText, value } from './content-diff.js';
import { columnHistograms, isCategorical, nullRate, nullRateChange, topChanges, type SharedHistogram } from './content-pictures.js';

/** Bins of a report histogram: finer than a sparkline, the page has the room. */
const REPORT_BINS = 40;
/** Columns drawn per dataset; beyond, they are listed by name. */
const MAX_PICTURES = 60;
/** A cell longer than this is cut with an ellipsis (the page has more room than the terminal). */
const MAX_CELL = 120;

/** A step of the lineage of a dataset, each version's side as one line of text. */
export interface ReportLineageRow {
  step: string;
  change: string;
  before: string | null;
  after: string | null;
}

export interface ReportDataset {
  path: string;
  change: string;
  content: ContentDiff | null;
  /** Why there is no content diff. */
  note?: string;
  lineage?: ReportLineageRow[];
}

export interface ReportMetric {
  key: string;
  before: number | null;
  after: number | null;
  delta: number | null;
  percent: number | null;
}

export interface ReportInput {
  title: string;
  subtitle?: string;
  /** Shown on top (run compare: "why is this run worse than the last one?"). */
  metrics?: ReportMetric[];
  /** Other before/after facts (parameters, code), as label, before, after. */
  facts?: { label: string; before: string; after: string }[];
  datasets: ReportDataset[];
}

/** Text for HTML content and attribute values alike. */
export function esc(v: unknown): string {
  return String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '∅';
  if (typeof v === 'number') return num(v);
  const s = String(v);
  return s.length > MAX_CELL ? s.slice(0, MAX_CELL - 1) + '…' : s;
}

function table(header: string[], rows: string[][], cls = ''): string {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const ifNum = (x: number | null) => (x === null ? '∅' : num(x));

// --- pictures ------------------------------------------------------------------------------------

const W = 360;
const H = 120;
const AXIS = 16;

/** Before and after side by side in each bin, heights as shares of each version's values on one scale. */
export function histogramSvg(name: string, h: SharedHistogram): string {
  const share = (c: number[] | null) => {
    const total = c?.reduce((x, y) => x + y, 0) ?? 0;
    return c ? c.map((n) => (total ? n / total : 0)) : null;
  };
  const a = share(h.before);
  const b = share(h.after);
  const top = Math.max(...(a ?? []), ...(b ?? []), 1e-12);
  const bins = h.edges.length - 1;
  const bw = W / bins;
  const plot = H - AXIS;
  const bars: string[] = [];
  for (let i = 0; i < bins; i++) {
    const range = `[${num(h.edges[i]!)}, ${num(h.edges[i + 1]!)})`;
    const tip = `${range}: before ${h.before ? num(h.before[i]!) : '—'}, after ${h.after ? num(h.after[i]!) : '—'}`;
    const bar = (s: number[] | null, x: number, cls: string) => {
      if (!s) return '';
      const height = (s[i]! / top) * (plot - 4);
      return `<rect class="${cls}" x="${x.toFixed(2)}" y="${(plot - height).toFixed(2)}" width="${Math.max(bw / 2 - 1, 0.5).toFixed(2)}" height="${height.toFixed(2)}"/>`;
    };
    bars.push(`<g><title>${esc(tip)}</title><rect class="hit" x="${(i * bw).toFixed(2)}" y="0" width="${bw.toFixed(2)}" height="${plot}"/>${bar(a, i * bw + 0.5, 'before')}${bar(b, i * bw + bw / 2, 'after')}</g>`);
  }
  const label = (x: number, anchor: string, text: string) => `<text x="${x}" y="${H - 3}" text-anchor="${anchor}">${esc(text)}</text>`;
  return (
    `<svg class="histogram" role="img" aria-label="${esc(`histogram of ${name}`)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" xmlns="http://www.w3.org/2000/svg">` +
    `<line class="axis" x1="0" y1="${plot}" x2="${W}" y2="${plot}"/>${bars.join('')}` +
    label(0, 'start', num(h.edges[0]!)) +
    label(W / 2, 'middle', num((h.edges[0]! + h.edges[bins]!) / 2)) +
    label(W, 'end', num(h.edges[bins]!)) +
    '</svg>'
  );
}

/** The top values as pairs of horizontal bars (before above after), longest count = full width. */
export function topValuesSvg(name: string, c: ColumnDiff): string {
  const tops = topChanges(c, 8);
  const max = Math.max(1, ...tops.flatMap((t) => [t.before ?? 0, t.after ?? 0]));
  const rowH = 22;
  const labelW = 120;
  const barW = W - labelW - 70;
  const rows = tops.map((t, i) => {
    const y = i * rowH;
    const bar = (n: number | null, dy: number, cls: string) =>
      n === null ? '' : `<rect class="${cls}" x="${labelW}" y="${y + dy}" width="${((n / max) * barW).toFixed(2)}" height="8"/>`;
    const label = value(t.value).slice(0, 18);
    return (
      `<g><title>${esc(topChangeText(t))}</title>` +
      `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${esc(label)}</text>` +
      bar(t.before, 2, 'before') +
      bar(t.after, 11, 'after') +
      `<text x="${W}" y="${y + 14}" text-anchor="end">${esc(t.after ?? t.before ?? '')}</text></g>`
    );
  });
  const height = Math.max(rowH, tops.length * rowH);
  return `<svg class="topvalues" role="img" aria-label="${esc(`top values of ${name}`)}" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" xmlns="http://www.w3.org/2000/svg">${rows.join('')}</svg>`;
}

// --- sections ------------------------------------------------------------------------------------

function statLine(label: string, a: unknown, b: unknown, both: boolean): string {
  const show = (x: unknown) => esc(cellText(x));
  const text = !both ? show(a ?? b) : a === b ? show(a) : `${show(a)} → ${show(b)}`;
  return `<dt>${esc(label)}</dt><dd>${text}</dd>`;
}

function nullBars(ra: number | null, rb: number | null): string {
  const bar = (r: number | null, cls: string) => (r === null ? '' : `<span class="nullbar ${cls}" style="width:${Math.max(r * 100, r > 0 ? 1 : 0).toFixed(1)}%"></span>`);
  return `<div class="nulls">${bar(ra, 'before')}${bar(rb, 'after')}</div>`;
}

function columnFigure(diff: ContentDiff, c: ColumnDiff): string {
  const s = c.after ?? c.before!;
  const both = c.before !== null && c.after !== null;
  const type = both && c.before!.type !== c.after!.type ? `${c.before!.type} → ${c.after!.type}` : s.type;
  const badge = c.change === 'renamed' ? `renamed from ${c.renamedFrom}` : c.change;
  const h = columnHistograms(c, REPORT_BINS);
  const picture = h ? histogramSvg(c.name, h) : isCategorical(c) ? topValuesSvg(c.name, c) : '<p class="muted">no values to draw</p>';
  const ra = nullRate(c.before, diff.rows.before);
  const rb = nullRate(c.after, diff.rows.after);
  const get = (k: 'mean' | 'stddev' | 'min' | 'max' | 'distinct') => [c.before?.[k] ?? null, c.after?.[k] ?? null] as const;
  const stats = [
    `<dt>nulls</dt><dd>${esc(nullRateChange(ra, rb) || '∅')}${nullBars(ra, rb)}</dd>`,
    ...(h ? (['mean', 'stddev', 'min', 'max'] as const).map((k) => statLine(k, ...get(k), both)) : []),
    statLine('distinct', ...get('distinct'), both),
  ];
  return (
    `<figure class="column ${esc(c.change)}" data-column="${esc(c.name)}"><figcaption><b>${esc(c.name)}</b> <span class="type">${esc(type)}</span> <span class="badge ${esc(c.change)}">${esc(badge)}</span></figcaption>` +
    `${picture}<dl>${stats.join('')}</dl></figure>`
  );
}

function schemaSection(d: ContentDiff): string {
  const s = d.schema;
  const items = [
    ...s.added.map((c) => `<li class="added">+ ${esc(c.name)} <span class="type">${esc(c.type)}</span></li>`),
    ...s.removed.map((c) => `<li class="removed">− ${esc(c.name)} <span class="type">${esc(c.type)}</span></li>`),
    ...s.renamed.map((r) => `<li>${esc(r.from)} → ${esc(r.to)} <span class="muted">(renamed; same ${esc(r.evidence)})</span></li>`),
    ...s.typeChanged.map((t) => `<li>${esc(t.name)}: ${esc(t.before)} → ${esc(t.after)}</li>`),
  ];
  const cols = (s.after ?? s.before ?? []).map((c) => esc(c.name)).join(', ');
  return `<h3>Schema</h3>${items.length ? `<ul class="schema">${items.join('')}</ul>` : '<p class="muted">no schema change</p>'}<p class="muted">columns: ${cols || '∅'}</p>`;
}

function sampleTable(samples: SampleRow[]): string {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.values)))];
  const rows = samples.map((s) => [esc(s.file), esc(s.row), ...names.map((n) => esc(cellText(s.values[n])))]);
  return table(['file', 'row', ...names], rows, 'samples');
}

function rowsSection(d: ContentDiff): string {
  const r = d.rowDiff;
  if (!r) return '';
  const est = r.estimated ? ' (estimated)' : '';
  const head = r.mode === 'key' ? `by key <code>${esc(r.key)}</code>: ${esc(num(r.changed ?? 0))} changed, ` : '';
  const out = [`<h3>Rows</h3><p>${head}${esc(num(r.removed))} removed, ${esc(num(r.added))} added, ${esc(num(r.unchanged))} unchanged${est}</p>`];
  if (r.samples.removed.length) out.push(`<h4>Removed (first ${r.samples.removed.length})</h4>${sampleTable(r.samples.removed)}`);
  if (r.samples.added.length) out.push(`<h4>Added (first ${r.samples.added.length})</h4>${sampleTable(r.samples.added)}`);
  if (r.samples.changed.length) {
    const rows = r.samples.changed.flatMap((c) => c.cells.map((x) => [esc(cellText(c.key)), esc(x.column), `<del>${esc(cellText(x.before))}</del>`, `<ins>${esc(cellText(x.after))}</ins>`]));
    out.push(`<h4>Changed (first ${r.samples.changed.length})</h4>${table([r.key ?? 'key', 'column', 'before', 'after'], rows, 'samples')}`);
  }
  return out.join('\n');
}

function lineageSection(rows: ReportLineageRow[] | undefined): string {
  if (!rows || rows.length === 0) return '';
  const body = rows.map((r) => [esc(r.step), esc(r.change), esc(r.before ?? '—'), esc(r.after ?? '—')]);
  return `<h3>Lineage</h3>${table(['step', 'change', 'before', 'after'], body, 'lineage')}`;
}

function rowsHeadline(d: ContentDiff): string {
  const { before, after, delta } = d.rows;
  if (before === null || after === null) return `rows: ${cellText(before)} → ${cellText(after)}`;
  return `rows: ${num(before)} → ${num(after)} (${signed(delta ?? 0)})`;
}

function datasetSection(ds: ReportDataset, i: number): string {
  const d = ds.content;
  const out = [`<section class="dataset" id="dataset-${i}"><h2><code>${esc(ds.path)}</code> <span class="badge ${esc(ds.change)}">${esc(ds.change)}</span></h2>`];
  if (!d) {
    out.push(`<p class="muted">content not compared${ds.note ? `: ${esc(ds.note)}` : ''}</p>`, lineageSection(ds.lineage), '</section>');
    return out.join('\n');
  }
  const files = d.files.before > 1 || d.files.after > 1 ? `, files: ${num(d.files.before)} → ${num(d.files.after)}` : '';
  out.push(`<p class="headline">${esc(d.format ?? 'unknown format')} · ${esc(rowsHeadline(d))}${esc(files)}</p>`);
  out.push(schemaSection(d));
  const moved = d.columns.filter((c) => c.change !== 'unchanged');
  const still = d.columns.filter((c) => c.change === 'unchanged');
  const figures = (cols: ColumnDiff[]) => `<div class="columns">${cols.slice(0, MAX_PICTURES).map((c) => columnFigure(d, c)).join('\n')}</div>`;
  const more = (cols: ColumnDiff[]) => (cols.length > MAX_PICTURES ? `<p class="muted">not drawn: ${cols.slice(MAX_PICTURES).map((c) => esc(c.name)).join(', ')}</p>` : '');
  out.push(`<h3>Columns that changed (${num(moved.length)} of ${num(d.columns.length)})</h3>`);
  out.push(moved.length ? figures(moved) + more(moved) : '<p class="muted">none</p>');
  if (still.length) out.push(`<details><summary>Unchanged columns (${num(still.length)})</summary>${figures(still)}${more(still)}</details>`);
  out.push(rowsSection(d), lineageSection(ds.lineage));
  const notes = [...d.errors.map((e) => `<li class="error">${esc(e.path)} (${esc(e.side)}): ${esc(e.message)}</li>`), ...(d.estimateReason ? [`<li>estimated: ${esc(d.estimateReason)}</li>`] : []), ...d.notes.map((n) => `<li>${esc(n)}</li>`)];
  if (notes.length) out.push(`<h3>Notes</h3><ul class="notes">${notes.join('')}</ul>`);
  out.push('</section>');
  return out.join('\n');
}

function metricsSection(metrics: ReportMetric[] | undefined): string {
  if (!metrics || metrics.length === 0) return '';
  const rows = metrics.map((m) => {
    const cls = m.delta === null || m.delta === 0 ? '' : m.delta > 0 ? 'up' : 'down';
    const pct = m.percent === null ? '' : ` (${formatSigned(m.percent, (x) => `${num(x)}%`)})`;
    return [`<b>${esc(m.key)}</b>`, esc(ifNum(m.before)), esc(ifNum(m.after)), `<span class="${cls}">${esc(m.delta === null ? '∅' : signed(m.delta))}${esc(pct)}</span>`];
  });
  return `<section class="metrics"><h2>Metrics</h2>${table(['metric', 'before', 'after', 'change'], rows)}</section>`;
}

function factsSection(facts: ReportInput['facts']): string {
  if (!facts || facts.length === 0) return '';
  return `<section class="facts"><h2>What else changed</h2>${table(['', 'before', 'after'], facts.map((f) => [esc(f.label), esc(f.before), esc(f.after)]))}</section>`;
}

const CSS = `
:root{--before:#6b8fbf;--after:#e8843c;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa}
*{box-sizing:border-box}body{margin:0 auto;max-width:1200px;padding:24px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:12px 0 4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--soft);padding:1px 4px;border-radius:4px}
.muted,.type{color:var(--muted)}.legend{color:var(--muted)}.key{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin:0 4px 0 10px}
.key.before{background:var(--before)}.key.after{background:var(--after)}
.badge{font-size:11px;font-weight:600;border-radius:10px;padding:1px 8px;background:var(--soft);border:1px solid var(--line);vertical-align:2px}
.badge.added{color:#1a7f37}.badge.removed,.badge.deleted{color:#cf222e}.badge.changed,.badge.modified,.badge.renamed{color:#9a6700}
.columns{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:12px}
figure.column{margin:0;padding:10px;border:1px solid var(--line);border-radius:6px;background:var(--bg)}figcaption{margin-bottom:6px;overflow-wrap:anywhere}
svg{display:block;overflow:visible}svg text{font-size:10px;fill:var(--muted)}svg .before{fill:var(--before)}svg .after{fill:var(--after)}svg .hit{fill:transparent}svg g:hover .hit{fill:var(--soft)}svg .axis{stroke:var(--line)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:8px 0 0;font-size:12px}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.nulls{display:grid;gap:2px;margin-top:2px;width:100%}.nullbar{display:block;height:4px;border-radius:2px}.nullbar.before{background:var(--before)}.nullbar.after{background:var(--after)}
table{border-collapse:collapse;font-size:12px;margin:4px 0 8px;display:block;overflow-x:auto;max-width:100%}th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top;max-width:360px;overflow-wrap:anywhere}th{background:var(--soft)}
del{background:#ffebe9;text-decoration:none}ins{background:#dafbe1;text-decoration:none}.up{color:#1a7f37}.down{color:#cf222e}
ul.schema li.added{color:#1a7f37}ul.schema li.removed{color:#cf222e}.notes .error{color:#cf222e}
nav ul{margin:4px 0;padding-left:18px}footer{margin-top:32px;color:var(--muted);font-size:12px}
`;

/** The whole page. */
export function renderContentReport(input: ReportInput): string {
  const nav =
    input.datasets.length > 1
      ? `<nav><ul>${input.datasets.map((d, i) => `<li><a href="#dataset-${i}"><code>${esc(d.path)}</code></a> ${esc(d.change)}</li>`).join('')}</ul></nav>`
      : '';
  const body = input.datasets.length ? input.datasets.map(datasetSection).join('\n') : '<p class="muted">No dataset changed.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dvs">
<title>${esc(input.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(input.title)}</h1>${input.subtitle ? `<p class="muted">${esc(input.subtitle)}</p>` : ''}<p class="legend">Histograms and bars: <span class="key before"></span>before <span class="key after"></span>after (bar heights are shares of each version's values)</p></header>
${metricsSection(input.metrics)}
${factsSection(input.facts)}
${nav}
${body}
<footer>Made by dvs. Self-contained: no script, nothing loaded from the network.</footer>
</body>
</html>
`;
}
