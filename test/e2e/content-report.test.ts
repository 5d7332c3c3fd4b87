import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs } from '../helpers.js';
import { HOSTILE, HOSTILE_COLUMN, reportRepo, tableCsv } from './content-report-fixture.js';

afterAll(cleanupTempDirs);

/** Every `<tag` in the page, by name. */
const tags = (html: string) => new Set([...html.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase()));

/** The columns drawn as histograms, in page order. */
const drawn = (html: string) => [...html.matchAll(/data-column="([^"]*)"><figcaption>(?:(?!<\/figure>).)*<svg class="histogram"/g)].map((m) => m[1]);

describe('pictures of a content diff', () => {
  // One repository for all (the last test, run compare, adds to it): each costs seconds on a busy machine.
  let repo: string;
  beforeAll(async () => {
    repo = await reportRepo();
  }, 60_000);

  it('--md draws a sparkline per numeric column and the top values with their count change', async () => {
    const r = await dvs(repo, ['diff', '--content', '--md', '--rows', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('**Distributions** (each version on the same bins; ▁ is an empty bin):');
    const pictures = r.stdout.slice(r.stdout.indexOf('**Distributions**')).split('\n');
    const score = pictures.find((l) => l.startsWith('| score | '))!;
    expect(score).toBeDefined();
    const [, before, after, range, nulls] = score.split(' | ');
    // Two sparklines on the same bins: same length, only block characters, each with a full block on one side.
    const spark = /^`([▁▂▃▄▅▆▇█]+)`$/;
    expect(before).toMatch(spark);
    expect(after).toMatch(spark);
    expect(before!.length).toBe(after!.length);
    expect(before! + after!).toContain('█');
    expect(range).toMatch(/^\d+(\.\d+)? … \d+(\.\d+)?$/);
    expect(nulls).toBe('0.0% → 5.0% (+5.0 pp) |');
    // A new category: its count change, from 0.
    const domain = pictures.find((l) => l.startsWith('| domain | '))!;
    expect(domain).toMatch(/code 0 → \d+ \(\+\d+\)/);
    expect(domain).toMatch(/news \d+ → \d+ \([-+±]\d+\)/);
  });

  it('--html writes one self-contained page: histograms on shared bins, top values, schema, rows; every value escaped', async () => {
    const r = await dvs(repo, ['diff', '--key', 'id', '--html', 'report.html']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('data/table.csv');
    const html = readFileSync(join(repo, 'report.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    // Nothing that runs or loads: no script, no external reference.
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|<img|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    expect([...tags(html)].sort()).toEqual(
      ['b', 'body', 'code', 'd' + 'd', 'del', 'details', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'g', 'h1', 'h2', 'h3', 'h4', 'head', 'header', 'html', 'ins', 'line', 'meta', 'p', 'rect', 'section', 'span', 'style', 'summary', 'svg', 'table', 'tbody', 'td', 'text', 'th', 'thead', 'title', 'tr'].sort(),
    );
    for (const h of [...HOSTILE, HOSTILE_COLUMN]) expect(html).not.toContain(h);
    expect(html).toContain('&#60;script&#62;window.__xss=1&#60;/script&#62;');
    expect(html).toContain('&#60;b onmouseover=window.__xss=4&#62;bold&#60;/b&#62;');
    // A histogram per numeric column (score changed, id did not), before and after bars in the same
    // bins; top-value bars for domain.
    expect(drawn(html)).toEqual(['score', 'id']);
    expect(html.match(/<svg class="histogram"[^>]*>/)![0]).toContain('width="360" height="120"');
    const svg = html.slice(html.indexOf('<svg class="histogram"'), html.indexOf('</svg>', html.indexOf('<svg class="histogram"')));
    const before = svg.match(/<rect class="before"/g)!.length;
    expect(before).toBeGreaterThan(5);
    expect(svg.match(/<rect class="after"/g)!.length).toBe(before);
    expect(html).toMatch(/<figure class="column changed" data-column="domain">.*<svg class="topvalues"/);
    expect(html).toContain('<dt>nulls</dt><dd>0.0% → 5.0% (+5.0 pp)');
    expect(html).toContain('by key <code>id</code>: ');
    expect(html).toContain('<h4>Changed (first 5)</h4>');
  });

  it('--html naming a folder, or a file in a folder that does not exist, is refused before the diff', async () => {
    const r = await dvs(repo, ['diff', '--html', 'no/such/dir/report.html']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`dvs: error: --html no/such/dir/report.html: the folder ${join(repo, 'no/such/dir')} does not exist\n  hint: Create it first, or name a file in an existing folder.\n`);
    expect(r.stdout).toBe('');
    expect(existsSync(join(repo, 'no'))).toBe(false);
    const folder = await dvs(repo, ['diff', '--html', 'data', '--json']);
    expect(folder.code).toBe(2);
    expect(JSON.parse(folder.stdout).error).toMatchObject({ code: 'REPORT_PATH', message: '--html data: is a folder' });
  });

  it('run compare --html puts the metric deltas on top, then the datasets that changed', async () => {
    writeFileSync(join(repo, 'data/table.csv'), tableCsv(1));
    await dvs(repo, ['run', 'start', 'r1', '--model', 'm', '-d', 'data/table.csv', '-p', 'lr=0.1']);
    await dvs(repo, ['run', 'finish', 'r1', '-m', 'acc=0.9', '-m', 'loss=0.2']);
    writeFileSync(join(repo, 'data/table.csv'), tableCsv(2));
    expect((await dvs(repo, ['track', 'data/table.csv'])).code).toBe(0);
    await dvs(repo, ['run', 'start', 'r2', '--model', 'm', '-d', 'data/table.csv', '-p', 'lr=0.2']);
    await dvs(repo, ['run', 'finish', 'r2', '-m', 'acc=0.75', '-m', 'loss=0.3']);
    const r = await dvs(repo, ['run', 'compare', 'r1', 'r2', '--html', 'runs.html']);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(repo, 'runs.html'), 'utf8');
    expect(html).toContain('<title>dvs run compare: r1 → r2</title>');
    const metrics = html.indexOf('<h2>Metrics</h2>');
    expect(metrics).toBeGreaterThan(0);
    expect(metrics).toBeLessThan(html.indexOf('<section class="dataset"'));
    expect(html).toContain('<tr><td><b>acc</b></td><td>0.9</td><td>0.75</td><td><span class="down">-0.15 (-16.67%)</span></td></tr>');
    expect(html).toContain('<td>parameter lr</td><td>0.1</td><td>0.2</td>');
    expect(html).toMatch(/<code>data\/table\.csv<\/code> <span class="badge modified">/);
    expect(drawn(html)).toEqual(['score', 'id']);
    for (const h of HOSTILE) expect(html).not.toContain(h);
    const show = await dvs(repo, ['run', 'show', 'r1', '--html', 'show.html']);
    expect(show.code).toBe(2);
    expect(show.stderr).toBe('dvs: error: --html applies to dvs run compare only, not run show\n');
    expect(existsSync(join(repo, 'show.html'))).toBe(false);
  });

  it('--html shows the lineage of both versions when recorded', async () => {
    writeFileSync(join(repo, 'data/raw.csv'), 'id\n1\n2\n3\n');
    expect((await dvs(repo, ['track', 'data/raw.csv'])).code).toBe(0);
    const rec = await dvs(repo, ['lineage', 'record', '--name', 'clean', '-i', 'data/raw.csv', '-o', 'data/table.csv', '-p', 'min=3', '--started', '2026-01-02T03:04:05Z']);
    expect(rec.code, rec.stderr).toBe(0);
    const r = await dvs(repo, ['diff', '--html', 'lineage.html', '-t', 'data/table.csv']);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(repo, 'lineage.html'), 'utf8');
    expect(html).toContain('<h3>Lineage</h3>');
    // Version 1 had no recorded lineage; version 2 was made by `clean` at the commit checked out.
    expect(html).toMatch(/<tr><td>made by clean<\/td><td>added<\/td><td>—<\/td><td>clean \(min=3\) from data\/raw\.csv \(3 rows\) → 400 rows, 2026-01-02, at [0-9a-f]{10}<\/td><\/tr>/);
  });
});
