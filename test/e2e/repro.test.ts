import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const NODE = process.execPath;

/** Each script appends its name to $RUNLOG (outside the repository), so a test can tell whether it ran. */
const LOG = `require('fs').appendFileSync(process.env.RUNLOG, NAME + '\\n');`;
const SCRIPTS = {
  // Keeps rows with score >= filter.min from params.yaml (read by the script itself, as DVC stages do).
  'scripts/filter.js': `const NAME='filter';${LOG}const fs=require('fs');const min=Number(/min: *(\\S+)/.exec(fs.readFileSync('params.yaml','utf8'))[1]);const [h,...r]=fs.readFileSync(process.argv[2],'utf8').trim().split('\\n');fs.writeFileSync(process.argv[3],[h,...r.filter(l=>Number(l.split(',')[1])>=min)].join('\\n')+'\\n');`,
  'scripts/dedup.js': `const NAME='dedup';${LOG}if(process.env.FAIL_DEDUP){console.error('dedup: out of memory');process.exit(3)}const fs=require('fs');const [h,...r]=fs.readFileSync(process.argv[2],'utf8').trim().split('\\n');fs.writeFileSync(process.argv[3],[h,...new Set(r)].join('\\n')+'\\n');`,
  'scripts/split.js': `const NAME='split';${LOG}const fs=require('fs');const [h,...r]=fs.readFileSync(process.argv[2],'utf8').trim().split('\\n');fs.writeFileSync(process.argv[3],[h,...r.filter(l=>Number(l.split(',')[0])%3!==0)].join('\\n')+'\\n');`,
  // An unseeded sampler: a different half of the rows each time.
  'scripts/sample.js': `const NAME='sample';${LOG}const fs=require('fs');const [h,...r]=fs.readFileSync(process.argv[2],'utf8').trim().split('\\n');const s=r.map(l=>[Math.random(),l]).sort((a,b)=>a[0]-b[0]).slice(0,Math.ceil(r.length/2)).map(x=>x[1]);fs.writeFileSync(process.argv[3],[h,...s].join('\\n')+'\\n');`,
};

const rows = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => `${i + 1 + offset},${((i * 37) % 100) / 100}`);
const RAW = ['id,score', ...rows(30), ...rows(5)].join('\n') + '\n'; // the last 5 rows repeat the first 5

/** What the pipeline makes of a raw file with threshold `min` (the test's own copy of the three steps). */
function expectedTrain(raw: string, min: number): string {
  const [h, ...r] = raw.trim().split('\n');
  const kept = [...new Set(r.filter((l) => Number(l.split(',')[1]) >= min))].filter((l) => Number(l.split(',')[0]) % 3 !== 0);
  return [h, ...kept].join('\n') + '\n';
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const oidOf = (repo: string, path: string) => read(repo, `${path}.dvs`).match(/^oid: sha256:([0-9a-f]{64})/m)![1];

async function ok(repo: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(repo, args, { env });
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** raw → filter (params.yaml:filter) → dedup → split, each made with dvs transform and committed. */
async function pipeline(): Promise<{ repo: string; env: Record<string, string>; runs: () => string[] }> {
  const repo = gitRepo({ ...SCRIPTS, 'params.yaml': 'filter:\n  min: 0.5\n' });
  const log = join(tempDir('dvs-runlog-'), 'runs.log');
  writeFileSync(log, '');
  const env = { RUNLOG: log };
  writeTree(repo, { 'data/raw.csv': RAW });
  await ok(repo, ['track', 'data/raw.csv']);
  await ok(repo, ['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/filtered.csv', '--params', 'params.yaml:filter', '--', NODE, 'scripts/filter.js', 'data/raw.csv', 'data/filtered.csv'], env);
  await ok(repo, ['transform', '--name', 'dedup', '-i', 'data/filtered.csv', '-o', 'data/dedup.csv', '--', NODE, 'scripts/dedup.js', 'data/filtered.csv', 'data/dedup.csv'], env);
  await ok(repo, ['transform', '--name', 'split', '-i', 'data/dedup.csv', '-o', 'data/train.csv', '-p', 'mod=3', '--', NODE, 'scripts/split.js', 'data/dedup.csv', 'data/train.csv'], env);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'pipeline');
  writeFileSync(log, '');
  return { repo, env, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('dvs repro', () => {
  it('rebuilds the stale steps in order, and restores results it has seen instead of running them', async () => {
    const { repo, env, runs } = await pipeline();
    expect(read(repo, 'data/filtered.csv.dvs')).toContain('  params_from:\n    - params.yaml:filter\n');
    expect(read(repo, 'data/train.csv')).toBe(expectedTrain(RAW, 0.5));

    const fresh = await ok(repo, ['repro', 'data/train.csv', '--dry-run'], env);
    expect(fresh.stdout).toBe('  up to date  filter (filter.min=0.5) → data/filtered.csv\n  up to date  dedup → data/dedup.csv\n  up to date  split (mod=3) → data/train.csv\nEverything is up to date.\n');
    // No dataset named: every dataset that records its lineage.
    expect((await ok(repo, ['repro', '--dry-run', '--json'], env)).stdout).toContain('"transform": "split"');

    // The raw dump changes: all three steps are stale, each for its own reason.
    const raw2 = RAW + ['40,0.9', '41,0.95', '42,0.1'].join('\n') + '\n';
    writeFileSync(join(repo, 'data/raw.csv'), raw2);
    await ok(repo, ['track', 'data/raw.csv']);
    git(repo, 'commit', '-q', '-am', 'new raw dump');
    // status says so, one line per dataset whose own inputs changed, from the pointers alone.
    const st = await ok(repo, ['status']);
    expect(st.stdout).toContain('  stale    data/filtered.csv: lineage: data/raw.csv changed since filter made it (dvs repro data/filtered.csv)\n');
    expect(st.stdout.match(/stale {4}/g)).toHaveLength(1);
    expect(json(await ok(repo, ['status', '--json'])).entries.find((e: any) => e.path === 'data/filtered.csv').staleLineage).toMatchObject({ transform: 'filter', inputs: [{ path: 'data/raw.csv' }] });
    const shown = await ok(repo, ['lineage', 'show', 'data/train.csv']);
    expect(shown.stdout).toMatch(/└── filter \(filter\.min=0\.5\).*\[stale: data\/raw\.csv changed since; dvs repro rebuilds it\]\n/);
    expect(shown.stdout).not.toMatch(/└── (dedup|split).*stale/);
    const plan = await ok(repo, ['repro', 'data/train.csv', '--dry-run'], env);
    expect(plan.stdout).toMatch(/^ {2}stale {7}filter \(filter\.min=0\.5\) → data\/filtered\.csv: data\/raw\.csv modified \([0-9a-f]{10} → [0-9a-f]{10}\)\n {14}would run\n/);
    expect(plan.stdout).toContain('  stale       dedup → data/dedup.csv: data/filtered.csv is rebuilt by filter\n');
    expect(plan.stdout).toContain('  stale       split (mod=3) → data/train.csv: data/dedup.csv is rebuilt by dedup\n');
    expect(plan.stdout).toContain('3 stale steps of 3;');
    const planned = json(await ok(repo, ['repro', 'data/train.csv', '--dry-run', '--json'], env));
    expect(planned.steps.map((s: any) => [s.transform, s.status])).toEqual([['filter', 'stale'], ['dedup', 'stale'], ['split', 'stale']]);
    expect(runs()).toEqual([]);
    const before = oidOf(repo, 'data/train.csv');

    const rebuilt = await ok(repo, ['repro', 'data/train.csv'], env);
    expect(runs()).toEqual(['filter', 'dedup', 'split']);
    expect(rebuilt.stdout).toContain('3 steps ran, 0 restored from earlier results.\n');
    expect(read(repo, 'data/train.csv')).toBe(expectedTrain(raw2, 0.5));
    expect(oidOf(repo, 'data/train.csv')).toBe(sha(expectedTrain(raw2, 0.5)));
    expect(oidOf(repo, 'data/train.csv')).not.toBe(before);
    expect(read(repo, 'data/train.csv.dvs')).toContain(`oid: sha256:${oidOf(repo, 'data/dedup.csv')}`);
    git(repo, 'commit', '-q', '-am', 'rebuilt');
    const v1 = git(repo, 'rev-parse', 'HEAD').trim();
    const trainV1 = oidOf(repo, 'data/train.csv');
    expect((await ok(repo, ['repro', 'data/train.csv'], env)).stdout).toContain('Everything is up to date.\n');
    expect(runs()).toHaveLength(3);

    // A threshold in the params file changes: only that step is stale (the later ones follow its output).
    writeFileSync(join(repo, 'params.yaml'), 'filter:\n  min: 0.8\n');
    const paramPlan = await ok(repo, ['repro', 'data/train.csv', '--dry-run'], env);
    expect(paramPlan.stdout).toContain('  stale       filter (filter.min=0.8) → data/filtered.csv: filter.min 0.5 → 0.8 (params.yaml)\n');
    await ok(repo, ['repro', 'data/train.csv'], env);
    expect(runs()).toEqual(['filter', 'dedup', 'split', 'filter', 'dedup', 'split']);
    expect(read(repo, 'data/train.csv')).toBe(expectedTrain(raw2, 0.8));
    git(repo, 'commit', '-q', '-am', 'stricter filter');

    // Back to 0.5: every step's result is known, so nothing runs and the old versions come back.
    writeFileSync(join(repo, 'params.yaml'), 'filter:\n  min: 0.5\n');
    const back = await ok(repo, ['repro', 'data/train.csv', '--dry-run'], env);
    expect(back.stdout.match(/\n {14}would restore from the run cache\n/g)).toHaveLength(3);
    expect(back.stdout).toContain('  stale       dedup → data/dedup.csv: data/filtered.csv modified (');
    const restored = await ok(repo, ['repro', 'data/train.csv'], env);
    expect(runs()).toHaveLength(6); // did not run
    expect(restored.stdout).toMatch(/^ {2}restored {4}filter \(filter\.min=0\.5\) from the run cache \(not run\)\n/);
    expect(restored.stdout).toContain('0 steps ran, 3 restored from earlier results.\n');
    expect(oidOf(repo, 'data/train.csv')).toBe(trainV1);
    expect(read(repo, 'data/train.csv')).toBe(expectedTrain(raw2, 0.5));
    expect((await ok(repo, ['status'])).stdout).toContain('Everything matches its pointer.');
    expect(git(repo, 'diff', '--cached', '--name-only').split('\n')).toEqual(expect.arrayContaining(['data/filtered.csv.dvs', 'data/dedup.csv.dvs', 'data/train.csv.dvs']));
    git(repo, 'commit', '-q', '-am', 'back to 0.5');

    // From history alone (the run cache gone): --rev plans from the lineage at v1; stricter outputs restored.
    writeFileSync(join(repo, 'params.yaml'), 'filter:\n  min: 0.8\n');
    await ok(repo, ['repro', 'data/train.csv'], env);
    git(repo, 'commit', '-q', '-am', 'stricter again');
    expect(runs()).toHaveLength(6);
    rmSync(join(repo, '.dvs/tmp/runs'), { recursive: true, force: true });
    const atRev = await ok(repo, ['repro', 'data/train.csv', '--rev', v1], env);
    expect(runs()).toHaveLength(6);
    expect(atRev.stdout).toContain(`from the lineage at commit ${v1.slice(0, 10)} (not run)`);
    expect(oidOf(repo, 'data/train.csv')).toBe(trainV1);
  }, 180_000);

  it('restores a known result from the remote when the cache no longer has it', async () => {
    const { repo, env, runs } = await pipeline();
    await ok(repo, ['remote', 'add', '-d', 'store', join(tempDir('dvs-store-'), 'store')]);
    await ok(repo, ['push']);
    const paths = ['data/filtered.csv', 'data/dedup.csv', 'data/train.csv'];
    const old = paths.map((p) => oidOf(repo, p));
    writeFileSync(join(repo, 'params.yaml'), 'filter:\n  min: 0.8\n');
    await ok(repo, ['repro', 'data/train.csv'], env);
    expect(runs()).toEqual(['filter', 'dedup', 'split']);
    // The earlier versions are gone from this machine's cache (as after dvs gc), but the remote has them.
    for (const oid of old) rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)));
    writeFileSync(join(repo, 'params.yaml'), 'filter:\n  min: 0.5\n');
    const r = await ok(repo, ['repro', 'data/train.csv'], env);
    expect(r.stdout).toContain('0 steps ran, 3 restored from earlier results.\n');
    expect(runs()).toHaveLength(3);
    expect(paths.map((p) => oidOf(repo, p))).toEqual(old);
    expect(read(repo, 'data/train.csv')).toBe(expectedTrain(RAW, 0.5));
  }, 120_000);

  it('stops at a failing step and leaves the pointers downstream of it as they were', async () => {
    const { repo, env, runs } = await pipeline();
    writeFileSync(join(repo, 'data/raw.csv'), RAW + '50,0.99\n');
    await ok(repo, ['track', 'data/raw.csv']);
    const dedupPointer = read(repo, 'data/dedup.csv.dvs');
    const trainPointer = read(repo, 'data/train.csv.dvs');
    const filteredPointer = read(repo, 'data/filtered.csv.dvs');
    const r = await dvs(repo, ['repro', 'data/train.csv'], { env: { ...env, FAIL_DEDUP: '1' } });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('dvs: error: step dedup failed: The dedup command failed with exit status 3; its outputs were not tracked and no lineage was recorded; not run: split. data/dedup.csv and everything downstream keep their pointers\n');
    expect(r.stderr).toContain('dedup: out of memory\n');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(runs()).toEqual(['filter', 'dedup']);
    expect(read(repo, 'data/filtered.csv.dvs')).not.toBe(filteredPointer); // the step before it is done
    expect(read(repo, 'data/dedup.csv.dvs')).toBe(dedupPointer);
    expect(read(repo, 'data/train.csv.dvs')).toBe(trainPointer);

    const j = await dvs(repo, ['repro', 'data/train.csv', '--json'], { env: { ...env, FAIL_DEDUP: '1' } });
    expect(j.code).toBe(6);
    expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'STEP_FAILED', data: { step: 'dedup', exitCode: 3, notRun: ['split'] } });

    // Fixed: the next repro finishes the job (filter is up to date now, so it does not run again).
    await ok(repo, ['repro', 'data/train.csv'], env);
    expect(runs()).toEqual(['filter', 'dedup', 'dedup', 'dedup', 'split']);
    expect(read(repo, 'data/train.csv')).toBe(expectedTrain(RAW + '50,0.99\n', 0.5));

    // Unsaved changes to an output are never overwritten.
    writeFileSync(join(repo, 'data/raw.csv'), RAW);
    await ok(repo, ['track', 'data/raw.csv']);
    writeFileSync(join(repo, 'data/filtered.csv'), 'hand edited\n');
    const refused = await dvs(repo, ['repro', 'data/train.csv'], { env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('dvs: error: output data/filtered.csv: the workspace data differs from its pointer, and dvs repro would replace it\n');
    expect(read(repo, 'data/filtered.csv')).toBe('hand edited\n');

    const none = await dvs(repo, ['repro', 'data/raw.csv']);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('dvs: error: data/raw.csv: no recorded transform to re-run');
  }, 120_000);

  it('--check names the step that does not reproduce, without touching the workspace', async () => {
    const { repo, env } = await pipeline();
    await ok(repo, ['transform', '--name', 'sample', '-i', 'data/dedup.csv', '-o', 'data/sample.csv', '--', NODE, 'scripts/sample.js', 'data/dedup.csv', 'data/sample.csv'], env);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'sample');
    const status = git(repo, 'status', '--porcelain');
    const sample = read(repo, 'data/sample.csv');

    const good = await dvs(repo, ['repro', '--check', 'data/train.csv'], { env });
    expect(good.code).toBe(0);
    expect(good.stdout).toBe(
      '  reproduced  filter (filter.min=0.5): data/filtered.csv byte-identical\n' +
        '  reproduced  dedup: data/dedup.csv byte-identical\n' +
        '  reproduced  split (mod=3): data/train.csv byte-identical\n' +
        'Reproduced byte-identical.\n',
    );

    const bad = await dvs(repo, ['repro', '--check', 'data/sample.csv'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/ {2}differs {5}sample\n {14}data\/sample\.csv: differs: \d+ rows? changed \(\d+ added, \d+ removed\)\n/);
    expect(bad.stdout).toContain('Not reproduced: sample\n');
    expect(bad.stdout).toContain('  reproduced  dedup: data/dedup.csv byte-identical\n');
    const checked = json(await dvs(repo, ['repro', '--check', 'data/sample.csv', '--json'], { env }));
    expect(checked.reproduced).toBe(false);
    expect(checked.steps.find((s: any) => s.transform === 'sample')).toMatchObject({ status: 'differs', outputs: [{ path: 'data/sample.csv', rows: { estimated: false } }] });

    expect(read(repo, 'data/sample.csv')).toBe(sample);
    expect(git(repo, 'status', '--porcelain')).toBe(status);
    expect(readdirSync(join(repo, '.dvs/tmp')).filter((n) => n.startsWith('repro-check-'))).toEqual([]);

    // The scratch copy has today's params file: a step whose values changed is not checked, and says why.
    writeFileSync(join(repo, 'params.yaml'), 'filter:\n  min: 0.8\n');
    const changed = await dvs(repo, ['repro', '--check', 'data/train.csv'], { env });
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('  skipped     filter (filter.min=0.5): its parameters changed since it ran (filter.min in params.yaml): run dvs repro first\n');
    expect((await dvs(repo, ['repro', '--check', '--dry-run', 'data/train.csv'])).code).toBe(2);
  }, 120_000);
});
