import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

/**
 * The whole story, as a user runs it: raw data in, two transforms (a quality filter, a dedup), run A;
 * the filter is tightened on a branch so it drops 5% more of the math rows, run B scores lower on
 * math; `dvs run compare` explains why from Git alone. Then tampering is caught.
 */

const NODE = process.execPath;

const SCRIPTS = {
  'scripts/filter.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
const [src, dst, min] = process.argv.slice(2);
const [header, ...rows] = readFileSync(src, 'utf8').trimEnd().split('\\n');
const q = header.split(',').indexOf('quality');
const kept = rows.filter((r) => Number(r.split(',')[q]) >= Number(min));
writeFileSync(dst, [header, ...kept].join('\\n') + '\\n');
console.log(\`filter: kept \${kept.length} of \${rows.length} rows\`);
`,
  'scripts/dedup.mjs': `import { readFileSync, writeFileSync } from 'node:fs';
const [src, dst, column] = process.argv.slice(2);
const [header, ...rows] = readFileSync(src, 'utf8').trimEnd().split('\\n');
const c = header.split(',').indexOf(column);
const seen = new Set();
const kept = rows.filter((r) => { const k = r.split(',')[c]; if (seen.has(k)) return false; seen.add(k); return true; });
writeFileSync(dst, [header, ...kept].join('\\n') + '\\n');
console.error(\`dedup: dropped \${rows.length - kept.length} duplicates\`);
`,
};

/**
 * 200 math rows (20 of quality 0.3, 10 of quality 0.55, the rest 0.9) and 200 code rows (10 of
 * quality 0.2; the last 10 repeat the text of 10 others). min_quality=0.5 keeps 370 rows, dedup 360;
 * min_quality=0.6 also drops the ten 0.55 math rows: 5% of the 200 math rows.
 */
function rawCsv(): string {
  const lines = ['id,subject,text,quality'];
  for (let i = 0; i < 200; i++) lines.push(`${lines.length},math,math problem ${i},${i < 20 ? 0.3 : i < 30 ? 0.55 : 0.9}`);
  for (let i = 0; i < 200; i++) lines.push(`${lines.length},code,code snippet ${i >= 190 ? i - 10 : i},${i < 10 ? 0.2 : 0.8}`);
  return lines.join('\n') + '\n';
}

const filterArgs = (min: string) => ['transform', '--name', 'filter', '--input', 'data/raw.csv', '--output', 'data/filtered.csv', '--param', `min_quality=${min}`, '--', NODE, 'scripts/filter.mjs', 'data/raw.csv', 'data/filtered.csv', min];
const dedupArgs = ['transform', '--name', 'dedup', '--input', 'data/filtered.csv', '--output', 'data/clean.csv', '--param', 'key=text', '--', NODE, 'scripts/dedup.mjs', 'data/filtered.csv', 'data/clean.csv', 'text'];

async function ok(repo: string, args: string[]) {
  const r = await dvs(repo, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

describe('the lineage, runs and audit story', () => {
  it('explains a worse model from Git alone, and catches tampering', async () => {
    const repo = gitRepo(SCRIPTS);
    writeTree(repo, { 'data/raw.csv': rawCsv() });

    // Ingest.
    await ok(repo, ['track', 'data/raw.csv']);
    git(repo, 'commit', '-q', '-m', 'raw data');

    // Transform 1: filter by quality score. The child's output reaches the terminal.
    const f = await ok(repo, filterArgs('0.5'));
    expect(f.stdout).toContain('filter: kept 370 of 400 rows\n');
    expect(f.stdout).toMatch(/^ran filter \(min_quality=0\.5\) in \d+(\.\d+)? s$/m);
    expect(f.stdout).toMatch(/^ {2}in {3}data\/raw\.csv {2}[0-9a-f]{10} {2}[\d.]+ KB, 400 rows$/m);
    expect(f.stdout).toMatch(/^ {2}out {2}data\/filtered\.csv {2}[0-9a-f]{10} {2}[\d.]+ KB, 370 rows$/m);
    expect(f.stdout).toContain('  7.50% of rows removed\nLineage recorded in data/filtered.csv.dvs\n');

    // Transform 2: dedup (its stderr passes through too).
    const d = await ok(repo, dedupArgs);
    expect(d.stderr).toContain('dedup: dropped 10 duplicates\n');
    expect(d.stdout).toContain('  2.70% of rows removed\n');
    const pointer = read(repo, 'data/clean.csv.dvs');
    expect(pointer).toMatch(/^version: 1\nkind: file\noid: sha256:[0-9a-f]{64}\nsize: \d+\nlineage:\n {2}transform: dedup\n {2}params:\n {4}key: text\n/m);
    expect(pointer).toContain('      rows: 370\n');
    git(repo, 'commit', '-q', '-m', 'clean data v1');

    // Run A.
    const a = await ok(repo, ['run', 'start', 'run-a', '--model', 'tiny-lm', '--dataset', 'data/clean.csv', '--param', 'lr=0.001', '--param', 'epochs=3']);
    expect(a.stdout).toMatch(/^started run run-a \(model tiny-lm\) at code [0-9a-f]{10} on main \(clean\)\n {2}dataset {2}data\/clean\.csv {2}[0-9a-f]{10} {2}360 rows {2}← dedup \(key=text\) ← filter \(min_quality=0\.5\)\n {2}params {3}lr=0\.001 epochs=3\n/);
    await ok(repo, ['run', 'finish', 'run-a', '--metric', 'math=0.71', '--metric', 'code=0.65']);
    git(repo, 'commit', '-q', '-m', 'run A');

    // On a branch: tighten the filter. Until dedup runs again, clean.csv's lineage is stale.
    git(repo, 'checkout', '-q', '-b', 'tighter');
    const f2 = await ok(repo, filterArgs('0.6'));
    expect(f2.stdout).toContain('filter: kept 360 of 400 rows\n');
    const stale = await ok(repo, ['lineage', 'show', 'data/clean.csv']);
    expect(stale.stderr).toMatch(/^dvs: warning: stale lineage: dedup used data\/filtered\.csv at [0-9a-f]{10}, but its pointer in the workspace says [0-9a-f]{10}\n {2}hint: Re-run the dedup transform to bring data\/clean\.csv up to date\.\n$/);
    expect(stale.stdout).toContain('(older version, from commit');
    await ok(repo, dedupArgs);
    const show = await ok(repo, ['lineage', 'show', 'data/clean.csv']);
    expect(show.stderr).toBe('');
    const lines = show.stdout.split('\n');
    expect(lines[0]).toMatch(/^data\/clean\.csv {2}[0-9a-f]{10} {2}350 rows$/);
    expect(lines[1]).toBe('└── dedup (key=text)  360 → 350 rows, 2.78% removed');
    expect(lines[2]).toMatch(/^ {4}by Test User <test@example\.com>, \d{4}-\d\d-\d\d \d\d:\d\dZ, [\d.]+ s, code [0-9a-f]{10}$/);
    expect(lines[3]).toMatch(/^ {4}└── data\/filtered\.csv {2}[0-9a-f]{10} {2}360 rows$/);
    expect(lines[4]).toBe('        └── filter (min_quality=0.6)  400 → 360 rows, 10.00% removed');
    expect(lines[6]).toMatch(/^ {12}└── data\/raw\.csv {2}[0-9a-f]{10} {2}400 rows {2}\(source\)$/);
    git(repo, 'commit', '-q', '-m', 'tighter quality filter');

    // Run B, on the tighter data: math drops.
    await ok(repo, ['run', 'start', 'run-b', '--model', 'tiny-lm', '--dataset', 'data/clean.csv', '--param', 'lr=0.001', '--param', 'epochs=3']);
    await ok(repo, ['run', 'finish', 'run-b', '--metric', 'math=0.64', '--metric', 'code=0.65']);
    git(repo, 'commit', '-q', '-m', 'run B');

    // Back on main, run B exists only in Git: compare reads it from the branch without a checkout.
    git(repo, 'checkout', '-q', 'main');
    expect((await dvs(repo, ['run', 'show', 'run-b'])).code).toBe(4);
    const cmp = await ok(repo, ['run', 'compare', 'run-a', 'run-b@tighter']);
    const out = cmp.stdout;
    expect(out).toMatch(/^Comparing run run-a \(tiny-lm, .*\) with run-b@tighter \(tiny-lm, .*\)\n\nDatasets\n {2}M data\/clean\.csv {2}[0-9a-f]{10} → [0-9a-f]{10} {2}\([\d.]+ KB → [\d.]+ KB\)\n/);
    expect(out).toContain('      rows 360 → 350 (-10, -2.78%)\n');
    expect(out).toContain(
      '      lineage: dedup → data/clean.csv: rows out 360 → 350 (2.70% → 2.78% removed)\n' +
        '               filter → data/filtered.csv: min_quality 0.5 → 0.6; rows out 370 → 360 (7.50% → 10.00% removed)\n' +
        '      records: changed (record hash ',
    );
    // The record hash tells a real change from a re-encoding (docs/record-hash.md); then the content diff.
    expect(out).toMatch(/ {6}records: changed \(record hash [0-9a-f]{12} → [0-9a-f]{12}\): a real data change\n/);
    expect(out).toContain(
      '      content: schema: unchanged\n' +
        '               rows: 0 added, 10 removed, 350 unchanged\n',
    );
    // The ten rows the tighter filter dropped are all math rows: 180 → 170 is 5% of the 200.
    expect(out).toContain('               column subject: changed, "math" 180 → 170\n');
    expect(out).toContain('\nHyperparameters\n  all the same\n');
    expect(out).toMatch(/\nCode\n {2}[0-9a-f]{10} → [0-9a-f]{10} \(run-b is 2 ahead, 0 behind\)\n/);
    expect(out).toContain('\nMetrics\n  code  0.65 → 0.65  ±0\n  math  0.71 → 0.64  -0.07 (-9.86%)\n');
    expect(cmp.stderr).toBe('');

    const j = json(await ok(repo, ['run', 'compare', 'run-a@main', 'run-b@tighter', '--json']));
    expect(j.a).toMatchObject({ id: 'run-a', rev: 'main', integrity: 'ok' });
    expect(j.b).toMatchObject({ id: 'run-b', rev: 'tighter', integrity: 'ok' });
    expect(j.datasets).toHaveLength(1);
    const ds = j.datasets[0];
    expect(ds).toMatchObject({ path: 'data/clean.csv', change: 'modified', rows: { before: 360, after: 350, delta: -10, percent: -2.78 } });
    expect(ds.files).toMatchObject({ change: 'modified', oldOid: ds.before.oid, newOid: ds.after.oid });
    expect(ds.lineage.map((s: any) => [s.transform, s.change, s.params])).toEqual([
      ['dedup', 'modified', []],
      ['filter', 'modified', [{ key: 'min_quality', before: 0.5, after: 0.6 }]],
    ]);
    expect(ds.content.rows).toEqual({ before: 360, after: 350, delta: -10 });
    expect(ds.content.rowDiff).toMatchObject({ added: 0, removed: 10 });
    expect(ds.content.rowDiff.samples.removed[0].values).toMatchObject({ subject: 'math', quality: '0.55' });
    expect(j.params).toEqual([]);
    expect(j.metrics).toEqual([
      { key: 'code', before: 0.65, after: 0.65, delta: 0, percent: 0 },
      { key: 'math', before: 0.71, after: 0.64, delta: -0.07, percent: -9.86 },
    ]);

    const md = (await ok(repo, ['run', 'compare', 'run-a', 'run-b@tighter', '--md'])).stdout;
    expect(md).toContain('### Run `run-a` → `run-b@tighter`\n');
    expect(md).toMatch(/\| `data\/clean\.csv` \| modified \| `[0-9a-f]{10}` → `[0-9a-f]{10}` \| rows 360 → 350 \(-10, -2\.78%\) \| dedup → data\/clean\.csv: rows out 360 → 350 \(2\.70% → 2\.78% removed\)<br>filter → data\/filtered\.csv: min_quality 0\.5 → 0\.6; rows out 370 → 360 \(7\.50% → 10\.00% removed\) \|/);
    expect(md).toContain('| `math` | 0.71 | 0.64 | -0.07 (-9.86%) |\n');

    // Chain of custody of the tighter dataset, read at the branch.
    const report = await ok(repo, ['audit', 'report', 'data/clean.csv', '--rev', 'tighter']);
    expect(report.stdout).toMatch(/^Chain of custody of data\/clean\.csv [0-9a-f]{10} \(at tighter\)\n/);
    expect(report.stdout).toMatch(/Test User <test@example\.com> {2}tracked as data\/clean\.csv\n.*produced by dedup \(key=text\) from data\/filtered\.csv\n.*training run run-b started \(model tiny-lm\)\n.*training run run-b finished: code=0\.65 math=0\.64\n/);
    expect(report.stdout).toContain('Summary: tracked by Test User <test@example.com>; produced by dedup; trained in run-b.\nThe audit trail verifies.\n');

    // Both branches appended events; they merge without a conflict and still verify.
    writeTree(repo, { 'models/base.bin': 'weights' });
    await ok(repo, ['track', 'models/base.bin']);
    git(repo, 'commit', '-q', '-m', 'base model');
    git(repo, 'merge', '-q', '--no-edit', 'tighter');
    const merged = await ok(repo, ['audit', 'verify']);
    expect(merged.stdout).toMatch(/^Checked 14 events \(2 heads\) against HEAD \(14 events\), 2 run records and 2 lineage records\.\nThe audit trail verifies\.\n$/);
    await ok(repo, ['run', 'start', 'run-c', '--model', 'tiny-lm', '--dataset', 'data/clean.csv']);
    expect((await ok(repo, ['audit', 'verify'])).stdout).toContain('Checked 15 events (1 head)');
    git(repo, 'commit', '-q', '-m', 'run C started');

    // Tampering with a run record's dataset oid is detected by show, compare and verify.
    const recordFile = join(repo, '.dvs/runs/run-a.yaml');
    const original = readFileSync(recordFile, 'utf8');
    const forged = original.replace(/(datasets:\n {2}- path: data\/clean\.csv\n {4}kind: file\n {4}oid: sha256:)[0-9a-f]{64}/, `$1${'0'.repeat(64)}`);
    expect(forged).not.toBe(original);
    writeFileSync(recordFile, forged);
    const shown = await dvs(repo, ['run', 'show', 'run-a']);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toContain('  integrity CHANGED after its audit event: do not trust this record\n');
    expect(shown.stderr).toMatch(/^dvs: error: \.dvs\/runs\/run-a\.yaml: the record was changed after its run-finish event \(\.dvs\/audit\/\d{8}T\d{9}Z-[0-9a-f]{16}\.json\)/);
    expect((await dvs(repo, ['run', 'compare', 'run-a', 'run-b'])).code).toBe(1);
    const finishForged = await dvs(repo, ['audit', 'verify', '--json']);
    expect(finishForged.code).toBe(1);
    expect(json(finishForged).problems).toEqual([expect.objectContaining({ code: 'RECORD_MISMATCH', file: '.dvs/runs/run-a.yaml' })]);
    writeFileSync(recordFile, original);

    // Tampering with an audit event: verify names the first bad event.
    const events = readdirSync(join(repo, '.dvs/audit')).sort();
    const target = events.find((n) => readFileSync(join(repo, '.dvs/audit', n), 'utf8').includes('"type":"run-start"'))!;
    const eventFile = join(repo, '.dvs/audit', target);
    const text = readFileSync(eventFile, 'utf8');
    writeFileSync(eventFile, text.replace('"user":"Test User <test@example.com>"', '"user":"Mallory <m@example.com>"'));
    const v = await dvs(repo, ['audit', 'verify']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`First bad event: .dvs/audit/${target} (run-start by Mallory <m@example.com> at `);
    expect(v.stdout).toMatch(/ {2}HASH_MISMATCH {5}\.dvs\/audit\/.* was edited after it was written/);
    expect(v.stdout).toContain('The audit trail does NOT verify: 1 problem.\n');
    writeFileSync(eventFile, text);
    rmSync(eventFile);
    const deleted = await dvs(repo, ['audit', 'verify', '--json']);
    expect(deleted.code).toBe(1);
    expect(json(deleted).firstBad).toMatchObject({ code: 'DELETED', file: `.dvs/audit/${target}` });
    writeFileSync(eventFile, text);
    expect((await dvs(repo, ['audit', 'verify'])).code).toBe(0);
  }, 180_000);
});
