import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const NODE = process.execPath;
const RAW = 'id,score\n1,0.9\n2,0.2\n3,0.8\n4,0.4\n';

/** A filter as a one-line node script: keeps rows with score >= min. */
const FILTER = `const fs=require('fs');const [s,d,m]=process.argv.slice(1);const [h,...r]=fs.readFileSync(s,'utf8').trim().split('\\n');const k=r.filter(l=>Number(l.split(',')[1])>=Number(m));fs.writeFileSync(d,[h,...k].join('\\n')+'\\n');console.log('kept',k.length);`;
const filter = (min: string, out = 'data/out.csv') => ['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', out, '-p', `min=${min}`, '--', NODE, '-e', FILTER, 'data/raw.csv', out, min];

/** A repository with data/raw.csv tracked and committed. */
async function repoWithRaw(): Promise<string> {
  const repo = gitRepo();
  writeTree(repo, { 'data/raw.csv': RAW });
  expect((await dvs(repo, ['track', 'data/raw.csv'])).code).toBe(0);
  git(repo, 'commit', '-q', '-m', 'raw');
  return repo;
}

const events = (repo: string) => readdirSync(join(repo, '.dvs/audit')).length;

describe('dvs transform', () => {
  it('records nothing when the command fails, and refuses inputs that do not match their pointers', async () => {
    const repo = await repoWithRaw();
    const before = events(repo);
    const cases: Array<[string[], number, string]> = [
      [['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/out.csv', '--', NODE, '-e', "require('fs').writeFileSync('data/out.csv','x');process.exit(3)"], 6, 'dvs: error: The filter command failed with exit status 3; its outputs were not tracked and no lineage was recorded\n'],
      [['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/out.csv', '--', 'no-such-command-dvs-test'], 4, 'dvs: error: no-such-command-dvs-test: command not found; nothing was recorded\n'],
      [['transform', '--name', 'filter', '-i', 'data/other.csv', '-o', 'data/out.csv', '--', NODE, '-e', ''], 4, 'dvs: error: input data/other.csv: not tracked by dvs (no data/other.csv.dvs)\n'],
      [['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/nothing.csv', '--', NODE, '-e', ''], 4, 'dvs: error: The filter command succeeded but did not write data/nothing.csv; no lineage was recorded\n'],
      [['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/raw.csv', '--', NODE, '-e', ''], 2, 'dvs: error: data/raw.csv is both an input and an output\n'],
      [['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/out.csv'], 2, 'dvs: error: Name the command to run after --\n'],
      [['transform', '--name', 'bad name', '-i', 'data/raw.csv', '-o', 'data/out.csv', '--', NODE], 2, 'dvs: error: Invalid transform name "bad name"'],
      [['transform', '--name', 'f', '-i', 'data/raw.csv', '-o', 'data/out.csv', '-p', 'novalue', '--', NODE], 2, 'dvs: error: --param novalue: expected key=value'],
      [['transform', '--name', 'f', '-i', 'data/raw.csv', '-o', 'README.md', '--', NODE, '-e', "require('fs').writeFileSync('ran','')"], 5, 'dvs: error: output README.md: already tracked by Git\n'],
      // A mistyped flag never runs the command.
      [['transform', '--name', 'f', '-i', 'data/raw.csv', '-o', 'data/out.csv', '--parma', 'a=1', '--', NODE, '-e', "require('fs').writeFileSync('ran','')"], 2, 'bogus'],
    ];
    for (const [args, code, message] of cases) {
      const r = await dvs(repo, args);
      expect({ args, code: r.code }).toEqual({ args, code });
      if (message !== 'bogus') expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(repo, 'ran'))).toBe(false);
    expect(existsSync(join(repo, 'data/out.csv.dvs'))).toBe(false);
    expect(events(repo)).toBe(before);

    // The input in the workspace differs from its pointer: refused before anything runs.
    writeFileSync(join(repo, 'data/raw.csv'), RAW + '5,1.0\n');
    const modified = await dvs(repo, filter('0.5'));
    expect(modified.code).toBe(5);
    expect(modified.stderr).toBe(
      'dvs: error: input data/raw.csv: the workspace data differs from its pointer data/raw.csv.dvs\n' +
        '  hint: Record the change with `dvs track data/raw.csv` (and commit it), or restore the tracked version with `dvs checkout data/raw.csv`.\n',
    );
    expect(modified.stdout).toBe('');
    writeFileSync(join(repo, 'data/raw.csv'), RAW);

    // A command that changes its own input: the record would lie, so nothing is recorded.
    const sneaky = await dvs(repo, ['transform', '--name', 'f', '-i', 'data/raw.csv', '-o', 'data/out.csv', '--', NODE, '-e', "const fs=require('fs');fs.appendFileSync('data/raw.csv','9,9\\n');fs.writeFileSync('data/out.csv','x')"]);
    expect(sneaky.code).toBe(5);
    expect(sneaky.stderr).toContain('dvs: error: the command changed its input data/raw.csv: the workspace data differs from its pointer data/raw.csv.dvs\n');
    expect(existsSync(join(repo, 'data/out.csv.dvs'))).toBe(false);
    expect(events(repo)).toBe(before);
  });

  it('tracks the outputs, writes the record into their pointers and passes the child output through', async () => {
    const repo = await repoWithRaw();
    const r = await dvs(repo, filter('0.5'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^kept 2\nran filter \(min=0\.5\) in [\d.]+ s\n {2}in {3}data\/raw\.csv {2}[0-9a-f]{10} {2}33 B, 4 rows\n {2}out {2}data\/out\.csv {2}[0-9a-f]{10} {2}21 B, 2 rows\n {2}50\.00% of rows removed\nLineage recorded in data\/out\.csv\.dvs\nStaged: data\/out\.csv\.dvs data\/\.gitignore\n$/,
    );
    const pointer = read(repo, 'data/out.csv.dvs');
    const rawOid = read(repo, 'data/raw.csv.dvs').match(/oid: (sha256:[0-9a-f]{64})/)![1];
    const outOid = pointer.match(/^oid: (sha256:[0-9a-f]{64})/m)![1];
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    expect(pointer).toMatch(
      new RegExp(
        `^lineage:\\n  transform: filter\\n  params:\\n    min: 0\\.5\\n  command:\\n    - .+\\n    - -e\\n    - [^]+    - data/raw\\.csv\\n    - data/out\\.csv\\n    - "0\\.5"\\n` +
          `  inputs:\\n    - path: data/raw\\.csv\\n      oid: ${rawOid}\\n      kind: file\\n      size: 33\\n      rows: 4\\n` +
          `  outputs:\\n    - path: data/out\\.csv\\n      oid: ${outOid}\\n      kind: file\\n      size: 21\\n      rows: 2\\n      row_index: sha256:[0-9a-f]{64}\\n` +
          `  started: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n  duration: [\\d.]+\\n  user: Test User <test@example\\.com>\\n  host: .+\\n  commit: ${head}\\n  dirty: false\\n  ran: here\\n$`,
        'm',
      ),
    );
    expect(git(repo, 'diff', '--cached', '--name-only').split('\n')).toEqual(expect.arrayContaining(['data/out.csv.dvs', 'data/.gitignore']));
    const log = json(await dvs(repo, ['audit', 'log', '--json', '-n', '2']));
    expect(log.events.map((e: any) => e.type)).toEqual(['transform', 'track']);
    expect(log.events[0].paths.map((p: any) => [p.role, p.path])).toEqual([['input', 'data/raw.csv'], ['output', 'data/out.csv']]);

    // With --json, the child's stdout goes to stderr so that stdout stays one JSON document.
    const j = await dvs(repo, [...filter('0.85', 'data/best.csv').slice(0, 1), '--json', ...filter('0.85', 'data/best.csv').slice(1)]);
    expect(j.code).toBe(0);
    expect(j.stderr).toBe('kept 1\n');
    expect(json(j)).toMatchObject({ transform: 'filter', params: { min: 0.85 }, ran: 'here', outputs: [{ path: 'data/best.csv', rows: 1 }] });
  });

  it('sums the rows of a directory output and records work that ran elsewhere', async () => {
    const repo = await repoWithRaw();
    const split = `const fs=require('fs');fs.mkdirSync('data/parts',{recursive:true});fs.writeFileSync('data/parts/a.csv','id\\n1\\n2\\n');fs.writeFileSync('data/parts/b.csv','id\\n3\\n');fs.writeFileSync('data/parts/README.txt','x\\ny\\n')`;
    const r = await dvs(repo, ['transform', '--name', 'split', '-i', 'data/raw.csv', '-o', 'data/parts', '--json', '--', NODE, '-e', split]);
    expect(r.code).toBe(0);
    expect(json(r).outputs).toEqual([expect.objectContaining({ path: 'data/parts', kind: 'dir', files: 3, rows: 3 })]);

    writeTree(repo, { 'data/train.jsonl': '{"id":1}\n{"id":2}\n{"id":3}\n' });
    const rec = await dvs(repo, ['lineage', 'record', '--name', 'export', '-i', 'data/parts', '-o', 'data/train.jsonl', '-p', 'format=jsonl', '--command', 'spark-submit export.py', '--started', '2024-05-13T10:00:00Z', '--duration', '42']);
    expect(rec.code).toBe(0);
    expect(rec.stdout).toMatch(/^recorded export \(format=jsonl\) \(ran elsewhere, in 42 s\)\n {2}in {3}data\/parts {2}[0-9a-f]{10} {2}3 files, 16 B, 3 rows\n {2}out {2}data\/train\.jsonl {2}[0-9a-f]{10} {2}27 B, 3 rows\n/);
    const pointer = read(repo, 'data/train.jsonl.dvs');
    expect(pointer).toContain('  command: spark-submit export.py\n');
    expect(pointer).toContain('  started: 2024-05-13T10:00:00.000Z\n  duration: 42\n');
    expect(pointer).toContain('  ran: elsewhere\n');
    const log = json(await dvs(repo, ['audit', 'log', 'data/train.jsonl', '--json']));
    expect(log.events.map((e: any) => e.type)).toEqual(['lineage-record', 'track']);
    const bad = await dvs(repo, ['lineage', 'record', '--name', 'x', '-o', 'data/train.jsonl', '--started', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--started yesterday: not a date and time');
  });
});

describe('dvs lineage show', () => {
  it('walks back to the sources, reads any revision from Git, and warns about stale or outdated lineage', async () => {
    const repo = await repoWithRaw();
    expect((await dvs(repo, filter('0.5'))).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'filtered');
    const rawV1 = read(repo, 'data/raw.csv.dvs').match(/oid: sha256:([0-9a-f]{10})/)![1];
    const outV1 = read(repo, 'data/out.csv.dvs').match(/^oid: sha256:([0-9a-f]{10})/m)![1];

    const mermaid = await dvs(repo, ['lineage', 'show', 'data/out.csv', '--mermaid']);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toBe(
      [
        'flowchart LR',
        `  d0["data/out.csv<br/>${outV1} · 2 rows"]`,
        `  d1["data/raw.csv<br/>${rawV1} · 4 rows"]`,
        '  t0{{"filter<br/>min=0.5"}}',
        '  d1 --> t0',
        '  t0 -->|"-50.00% rows"| d0',
        '',
      ].join('\n'),
    );

    // The raw data changes afterwards: the filtered data's lineage is stale until the filter runs again.
    writeFileSync(join(repo, 'data/raw.csv'), RAW + '5,0.7\n');
    expect((await dvs(repo, ['track', 'data/raw.csv'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'more raw data');
    const stale = await dvs(repo, ['lineage', 'show', 'data/out.csv', '--json']);
    expect(stale.code).toBe(0);
    const s = json(stale);
    expect(s).toMatchObject({ path: 'data/out.csv', rev: null, stale: true, sources: [expect.stringMatching(/^data\/raw\.csv@[0-9a-f]{64}$/)] });
    expect(s.steps).toEqual([expect.objectContaining({ transform: 'filter', params: { min: 0.5 }, rowsIn: 4, rowsOut: 2, removedPercent: 50, ran: 'here' })]);
    expect(s.nodes.map((n: any) => [n.path, n.found, n.origin, n.rows])).toEqual([
      ['data/out.csv', 'pointer', 'transform', 2],
      ['data/raw.csv', 'history', 'source', 4],
    ]);
    expect(s.warnings).toEqual([expect.objectContaining({ code: 'STALE_LINEAGE', path: 'data/raw.csv' })]);

    // At the earlier revision (read from Git's objects) the lineage was current.
    const old = await dvs(repo, ['lineage', 'show', 'data/out.csv', '--rev', 'HEAD~1']);
    expect(old.code).toBe(0);
    expect(old.stderr).toBe('');
    expect(old.stdout.split('\n')[3]).toBe(`    └── data/raw.csv  ${rawV1}  4 rows  (source)`);

    // Data re-tracked by hand: the record describes an earlier version, so the origin is unknown.
    writeFileSync(join(repo, 'data/out.csv'), 'id,score\n1,0.9\n');
    expect((await dvs(repo, ['track', 'data/out.csv'])).code).toBe(0);
    const outdated = await dvs(repo, ['lineage', 'show', 'data/out.csv']);
    expect(outdated.stderr).toContain(`warning: data/out.csv: the lineage in its pointer describes version ${outV1}, not `);
    expect(outdated.stdout).toMatch(/^data\/out\.csv {2}[0-9a-f]{10} {2}rows unknown {2}\(origin unknown\)\n$/);

    const md = await dvs(repo, ['lineage', 'show', 'data/out.csv', '--rev', 'HEAD', '--md']);
    expect(md.stdout).toContain('| filter | min=0.5 | 4 | 2 | 50.00% | Test User <test@example.com> |');
    expect(md.stdout).toContain('```mermaid\nflowchart LR\n');

    const missing = await dvs(repo, ['lineage', 'show', 'nothing.csv']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('nothing.csv: not tracked by dvs in the workspace (no nothing.csv.dvs)');
    expect((await dvs(repo, ['lineage', 'show', 'data/out.csv', '--rev', 'no-such-rev'])).code).toBe(4);
  });
});
