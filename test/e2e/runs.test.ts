import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const objectPath = (repo: string, oid: string) => join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2));

describe('dvs run start', () => {
  it('refuses datasets that do not match their pointers or whose objects fail verification', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/train.csv': 'a\n1\n2\n', 'data/test.csv': 'a\n3\n' });
    const t = json(await dvs(repo, ['track', 'data/train.csv', 'data/test.csv', '--json']));
    git(repo, 'commit', '-q', '-m', 'data');
    const trainOid = t.items[0].oid as string;
    const start = (...extra: string[]) => dvs(repo, ['run', 'start', 'r1', '--model', 'm', '-d', 'data/train.csv', ...extra]);

    writeFileSync(join(repo, 'data/train.csv'), 'a\n1\n2\n3\n');
    let r = await start();
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      'dvs: error: dataset data/train.csv: the workspace data differs from its pointer data/train.csv.dvs\n' +
        '  hint: Record the change with `dvs track data/train.csv` (and commit it), or restore the tracked version with `dvs checkout data/train.csv`.\n',
    );
    rmSync(join(repo, 'data/train.csv'));
    r = await start();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('dvs: error: dataset data/train.csv: not in the workspace\n');
    expect((await dvs(repo, ['checkout', 'data/train.csv'])).code).toBe(0);

    // The cache object is corrupted: refused, and the object is quarantined.
    chmodSync(objectPath(repo, trainOid), 0o644);
    writeFileSync(objectPath(repo, trainOid), 'a\n9\n9\n');
    r = await start();
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`dvs: error: dataset data/train.csv: object ${trainOid.slice(0, 10)} is corrupted in the cache (moved to quarantine)\n`);
    r = await start();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`dvs: error: dataset data/train.csv: object ${trainOid.slice(0, 10)} is not in the cache\n`);

    const cases: Array<[string[], number, string]> = [
      [['run', 'start', 'r1', '-d', 'data/test.csv'], 2, 'Name the model with --model <name>'],
      [['run', 'start', 'bad/id', '--model', 'm'], 2, 'Invalid run id "bad/id"'],
      [['run', 'start', 'r1', '--model', 'm', '-d', 'data/none.csv'], 4, 'dataset data/none.csv: not tracked by dvs'],
      [['run', 'start', 'r1', '--model', 'm', '-p', 'lr'], 2, '--param lr: expected key=value'],
      [['run', 'start', 'r1', 'r2', '--model', 'm'], 2, 'dvs run start takes one run (got r1 r2)'],
      [['run', 'finish', 'nope', '-m', 'acc=1'], 4, 'No run "nope" in the workspace'],
    ];
    for (const [args, code, message] of cases) {
      const x = await dvs(repo, args);
      expect({ args, code: x.code }).toEqual({ args, code });
      expect(x.stderr).toContain(message);
    }
    expect(readFileSync(join(repo, '.dvs/.gitignore'), 'utf8')).not.toContain('runs');
    expect((await dvs(repo, ['run', 'list'])).stdout).toBe('No runs (dvs run start <id> --model <name> records one).\n');
  });

  it('records data, code, parameters and hardware; finish adds metrics; list and show read them back', async () => {
    const repo = gitRepo({ 'train.py': 'print("v1")\n' });
    writeTree(repo, { 'data/train/a.csv': 'x\n1\n2\n', 'data/train/b.csv': 'x\n3\n' });
    await dvs(repo, ['track', 'data/train']);
    git(repo, 'commit', '-q', '-m', 'data');
    writeFileSync(join(repo, 'train.py'), 'print("v2")\n');
    const s = await dvs(repo, ['run', 'start', 'r1', '--model', 'tiny', '-d', 'data/train/', '-p', 'lr=0.001', '-p', 'seed=007', '-p', 'amp=true', '-p', 'opt=adam']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^started run r1 \(model tiny\) at code [0-9a-f]{10} on main \(dirty: train\.py\)\n {2}dataset {2}data\/train {2}[0-9a-f]{10} {2}3 rows\n {2}params {3}lr=0\.001 seed=007 amp=true opt=adam\n {2}hardware .+, \d+ cores, [\d.]+ [KMGT]?B memory, .+\nRecorded in \.dvs\/runs\/r1\.yaml\nStaged: \.dvs\/runs\/r1\.yaml\n$/);
    const record = read(repo, '.dvs/runs/r1.yaml');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    expect(record).toMatch(new RegExp(`^version: 1\\nid: r1\\nmodel: tiny\\nstatus: running\\nstarted: [\\d-]+T[\\d:.]+Z\\nfinished: null\\nduration: null\\nuser: Test User <test@example\\.com>\\nhost: .+\\ncode:\\n  commit: ${head}\\n  branch: main\\n  dirty: true\\n  changes:\\n    - train\\.py\\n`, 'm'));
    expect(record).toMatch(/^datasets:\n {2}- path: data\/train\n {4}kind: dir\n {4}oid: sha256:[0-9a-f]{64}\n {4}size: 10\n {4}files: 2\n {4}rows: 3\n {4}lineage: \[\]\nparams:\n {2}lr: 0\.001\n {2}seed: "007"\n {2}amp: true\n {2}opt: adam\nhardware:\n {2}platform: .+\n {2}os: .+\n {2}cpu: .+\n {2}cores: \d+\n {2}memory: \d+\n {2}gpus: .+\n {2}node: v\d+/m);
    expect(git(repo, 'diff', '--cached', '--name-only')).toContain('.dvs/runs/r1.yaml');
    expect((await dvs(repo, ['run', 'start', 'r1', '--model', 'tiny'])).code).toBe(5);

    const bad = await dvs(repo, ['run', 'finish', 'r1', '-m', 'acc=high']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--metric acc=high: a metric must be a number');
    const f = await dvs(repo, ['run', 'finish', 'r1', '-m', 'acc=0.91', '-m', 'loss=0.3']);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/^finished run r1 after [\d.]+ s\n {2}metrics {2}acc=0\.91 loss=0\.3\n/);
    expect(read(repo, '.dvs/runs/r1.yaml')).toMatch(/\nmetrics:\n {2}acc: 0\.91\n {2}loss: 0\.3\n$/);
    const again = await dvs(repo, ['run', 'finish', 'r1', '-m', 'acc=1']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('dvs: error: Run "r1" finished at ');

    const show = json(await dvs(repo, ['run', 'show', 'r1', '--json']));
    expect(show).toMatchObject({ action: 'show', file: '.dvs/runs/r1.yaml', commit: null, integrity: { status: 'ok', event: { type: 'run-finish' } } });
    expect(show.run).toMatchObject({ id: 'r1', status: 'finished', params: { lr: 0.001, seed: '007', amp: true }, metrics: { acc: 0.91, loss: 0.3 } });
    expect(show.run.hardware.cores).toBeGreaterThan(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'run r1');
    const list = await dvs(repo, ['run', 'list']);
    expect(list.stdout).toMatch(/^r1 {2}tiny {2}finished {2}[\d-]+ [\d:]+Z {2}Test User <test@example\.com> {2}code [0-9a-f]{10} {2}1 dataset {2}acc=0\.91 loss=0\.3\n$/);
    expect(json(await dvs(repo, ['run', 'list', '--rev', 'HEAD~1', '--json'])).runs).toEqual([]);

    // A second run whose record is edited before it finishes: finishing refuses to launder it.
    await dvs(repo, ['run', 'start', 'r2', '--model', 'tiny', '-d', 'data/train']);
    const file = join(repo, '.dvs/runs/r2.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('model: tiny', 'model: huge'));
    const refused = await dvs(repo, ['run', 'finish', 'r2', '-m', 'acc=0.99']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^dvs: error: \.dvs\/runs\/r2\.yaml: the record was changed after its run-start event/);
    expect(read(repo, '.dvs/runs/r2.yaml')).toContain('status: running');
    const listed = json(await dvs(repo, ['run', 'list', '--json']));
    expect(listed.runs.map((x: any) => [x.id, x.integrity])).toEqual([['r1', 'ok'], ['r2', 'mismatch']]);
  });
});

describe('dvs run compare', () => {
  it('compares runs of two branches from Git objects: data files, parameters, code and metrics', async () => {
    const repo = gitRepo({ 'train.py': 'v1\n' });
    writeTree(repo, { 'data/train/a.csv': 'x\n1\n', 'data/train/b.csv': 'x\n2\n' });
    await dvs(repo, ['track', 'data/train']);
    git(repo, 'commit', '-q', '-m', 'data');
    await dvs(repo, ['run', 'start', 'base', '--model', 'm', '-d', 'data/train', '-p', 'lr=0.1', '-p', 'epochs=3']);
    await dvs(repo, ['run', 'finish', 'base', '-m', 'acc=0.8']);
    git(repo, 'commit', '-q', '-m', 'base run');

    git(repo, 'checkout', '-q', '-b', 'feature');
    writeTree(repo, { 'data/train/b.csv': 'x\n2\n3\n', 'data/train/c.csv': 'x\n4\n', 'data/extra.bin': 'bytes', 'train.py': 'v2\n' });
    await dvs(repo, ['track', 'data/train', 'data/extra.bin']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'more data, new code');
    await dvs(repo, ['run', 'start', 'next', '--model', 'm', '-d', 'data/train', '-d', 'data/extra.bin', '-p', 'lr=0.05', '-p', 'epochs=3', '-p', 'warmup=100']);
    await dvs(repo, ['run', 'finish', 'next', '-m', 'acc=0.85', '-m', 'f1=0.7']);
    git(repo, 'commit', '-q', '-m', 'next run');
    git(repo, 'checkout', '-q', 'main');

    const r = await dvs(repo, ['run', 'compare', 'base@main', 'next@feature', '--json']);
    expect(r.code).toBe(0);
    const c = json(r);
    expect(c.datasets.map((d: any) => [d.path, d.change])).toEqual([
      ['data/extra.bin', 'added'],
      ['data/train', 'modified'],
    ]);
    const train = c.datasets[1];
    expect(train.files.fileCounts).toEqual({ added: 1, deleted: 0, modified: 1, renamed: 0 });
    expect(train.files.files.map((f: any) => [f.path, f.change])).toEqual([
      ['b.csv', 'modified'],
      ['c.csv', 'added'],
    ]);
    expect(train.rows).toEqual({ before: 2, after: 4, delta: 2, percent: 100 });
    expect(train.content.rows).toEqual({ before: 2, after: 4, delta: 2 });
    expect(c.params).toEqual([
      { key: 'lr', before: 0.1, after: 0.05 },
      { key: 'warmup', before: null, after: 100 },
    ]);
    expect(c.code).toMatchObject({ same: false, ahead: 2, behind: 0 });
    expect(c.metrics).toEqual([
      { key: 'acc', before: 0.8, after: 0.85, delta: 0.05, percent: 6.25 },
      { key: 'f1', before: null, after: 0.7, delta: null, percent: null },
    ]);
    const text = (await dvs(repo, ['run', 'compare', 'base', 'next@feature', '--no-content'])).stdout;
    expect(text).toContain('  A data/extra.bin  ');
    expect(text).toContain('      files: 1 added, 0 deleted, 1 modified, 0 renamed\n');
    expect(text).toContain('\nHyperparameters\n  lr  0.1 → 0.05\n  warmup  — → 100\n');
    expect(text).toContain('\nMetrics\n  acc  0.8 → 0.85  +0.05 (+6.25%)\n  f1   — → 0.7\n');
    const missing = await dvs(repo, ['run', 'compare', 'base', 'next']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('No run "next" in the workspace');
    expect(missing.stderr).toContain('hint: List runs with `dvs run list`; a run of another branch is named <id>@<branch>.');
  });
});
