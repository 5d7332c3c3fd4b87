// The command line as a new user meets it: options that never swallow paths, help with the command's own
// options and examples, one vocabulary and number format, errors and warnings that say they come from dvs.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, DVS, dvs, git, GIT_ENV, gitRepo, json, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const csvRows = (n: number, from = 0) => ['id,text', ...Array.from({ length: n }, (_, i) => `${from + i},row ${from + i}`)].join('\n') + '\n';

/** data/train/ in two commits (v1: a.csv; v2: a.csv changed, b.csv added), and a directory remote. */
async function twoVersions(): Promise<string> {
  const repo = gitRepo();
  writeTree(repo, { 'data/train/a.csv': csvRows(3) });
  expect((await dvs(repo, ['track', 'data/train'])).code).toBe(0);
  git(repo, 'commit', '-q', '-m', 'v1');
  writeTree(repo, { 'data/train/a.csv': csvRows(4), 'data/train/b.csv': csvRows(2, 10) });
  expect((await dvs(repo, ['track', 'data/train'])).code).toBe(0);
  git(repo, 'commit', '-q', '-m', 'v2');
  expect((await dvs(repo, ['remote', 'add', '-d', 'store', join(tempDir(), 'store')])).code).toBe(0);
  return repo;
}

describe('options that take values', () => {
  it('take one value per occurrence: --rev, -t, --dataset never swallow the paths or revisions after them', async () => {
    const repo = await twoVersions();
    // Before: `Unknown revision "data/train"`.
    const push = await dvs(repo, ['push', '--rev', 'HEAD~1', 'data/train', '--json']);
    expect(push.code, push.stderr).toBe(0);
    // v2: manifest, a.csv, b.csv; v1: its manifest and its a.csv.
    expect(json(push).uploaded).toBe(5);
    const twice = json(await dvs(repo, ['fetch', '--rev', 'HEAD~1', '--rev', 'HEAD', 'data/train', '--json']));
    expect(twice).toMatchObject({ fetched: 0, failures: [] });

    const diff = json(await dvs(repo, ['diff', '-t', 'data/train/b.csv', 'HEAD~1', 'HEAD', '--json']));
    expect(diff.a.rev).toBe('HEAD~1');
    expect(diff.changes[0].files.map((f: { path: string }) => f.path)).toEqual(['b.csv']);
    const both = json(await dvs(repo, ['diff', '-t', 'data/train/a.csv', '-t', 'data/train/b.csv', 'HEAD~1', '--json']));
    expect(both.changes[0].files.map((f: { path: string }) => f.path)).toEqual(['a.csv', 'b.csv']);

    const run = await dvs(repo, ['run', 'start', '--dataset', 'data/train', 'r1', '--model', 'm', '-p', 'lr=1', '-p', 'seed=2']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('params   lr=1 seed=2');
  });

  it('a flag without its value is a usage error (exit 2), and a single-value flag given twice keeps the last', async () => {
    const repo = await twoVersions();
    const bare = await dvs(repo, ['push', '--rev']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^dvs: error: Not enough arguments following: rev\n {2}hint: /);
    expect(bare.stderr).not.toContain('internal');
    const jobs = await dvs(repo, ['push', '-j', '1', '-j', '2', '--json']);
    expect(jobs.code, jobs.stderr).toBe(0);
    expect((await dvs(repo, ['diff', 'HEAD~1', '--key', 'a', '--key', 'id', '--json'])).code).toBe(0);
  });
});

describe('help', () => {
  it('each verb lists its own options before the global ones, documents its arguments and shows examples', async () => {
    const dir = tempDir();
    const top = await dvs(dir, ['--help']);
    expect(top.stdout).toMatch(/\nGlobal options:\n[\s\S]*\nExamples:\n {2}dvs track data\//);
    const verbs = [...top.stdout.matchAll(/^ {2}dvs (\S+) /gm)].map((m) => m[1]);
    expect(verbs).toEqual(expect.arrayContaining(['init', 'track', 'status', 'unprotect', 'run', 'remote', 'uninstall']));
    for (const verb of new Set(verbs)) {
      const h = await dvs(dir, [verb, '--help']);
      const where = `dvs ${verb} --help`;
      expect(h.code, where).toBe(0);
      expect(h.stdout, where).not.toContain('[default: []]');
      expect(h.stdout, where).toMatch(/\nExamples:\n {2}\S/);
      const own = h.stdout.indexOf('\nOptions:\n');
      const global = h.stdout.indexOf('\nGlobal options:\n');
      expect(global, where).toBeGreaterThan(0);
      if (own >= 0) expect(own, where).toBeLessThan(global);
      // Every argument says what it is: no name followed straight by its type.
      const positionals = /\nPositionals:\n([\s\S]*?)\n\n/.exec(h.stdout)?.[1] ?? '';
      for (const line of positionals.split('\n').filter((l) => /^ {2}\S/.test(l))) expect(line, where).not.toMatch(/^ {2}\S+ +\[/);
    }
    const run = await dvs(dir, ['run', '--help']);
    expect(run.stdout).toContain('A run record (.dvs/runs/<id>.yaml, committed) names the exact dataset versions');
  });
});

describe('one vocabulary, one number format', () => {
  it('status says deleted (text and --json), and tells data not pulled yet from data missing from the workspace', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/train/a.csv': 'a\n', 'data/train/b.csv': 'b\n', 'model.bin': 'm' });
    await dvs(repo, ['track', 'data/train', 'model.bin']);
    git(repo, 'commit', '-q', '-m', 'data');
    rmSync(join(repo, 'data/train/b.csv'));
    rmSync(join(repo, 'model.bin'));
    const text = await dvs(repo, ['status', '--granular']);
    expect(text.stdout).toBe(
      [
        '  changed  data/train/: 1 deleted',
        '      deleted:  b.csv',
        '  changed  model.bin: missing from the workspace (dvs checkout)',
        '(dvs track <path> to record changes; dvs checkout <path> to restore)',
        '',
      ].join('\n'),
    );
    expect(text.stdout).not.toContain('removed');
    expect(json(await dvs(repo, ['status', '--json', 'data/train'])).entries[0].changes).toEqual({ added: [], deleted: ['b.csv'], modified: [] });

    // A fresh clone: nothing pulled yet.
    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    const fresh = await dvs(clone, ['status']);
    expect(fresh.stdout).toBe('  missing  data/train/: not pulled yet (dvs pull)\n  missing  model.bin: not pulled yet (dvs pull)\n(dvs pull to fetch missing objects)\n');
  });

  it('counts are grouped, deltas signed, arrows one kind; a partly failed checkout prints dvs: error: lines', async () => {
    const repo = gitRepo();
    const many: Record<string, string> = {};
    for (let i = 0; i < 1001; i++) many[`data/many/f${i}.txt`] = `${i}\n`;
    writeTree(repo, { ...many, 'data/rows.csv': csvRows(2000), 'model.bin': 'weights' });
    const track = await dvs(repo, ['track', 'data/many', 'data/rows.csv', 'model.bin']);
    expect(track.stdout).toContain('tracked  data/many (1,001 files, ');
    expect(track.stdout).toContain(' → data/many.dvs\n');
    rmSync(join(repo, 'data/many'), { recursive: true });
    expect((await dvs(repo, ['status'])).stdout).toContain('  changed  data/many/: missing from the workspace (dvs checkout)');
    const checkout = await dvs(repo, ['checkout', 'data/many']);
    expect(checkout.stdout).toContain('1,001 files added, 0 modified, 0 deleted, 0 unchanged');

    // Rows 2,000 → 767 between two runs: a signed, grouped delta.
    await dvs(repo, ['run', 'start', 'r1', '--model', 'm', '-d', 'data/rows.csv']);
    writeFileSync(join(repo, 'data/rows.csv'), csvRows(767));
    await dvs(repo, ['track', 'data/rows.csv']);
    await dvs(repo, ['run', 'start', 'r2', '--model', 'm', '-d', 'data/rows.csv']);
    const compare = await dvs(repo, ['run', 'compare', 'r1', 'r2', '--no-content']);
    expect(compare.stdout).toContain('rows 2,000 → 767 (-1,233, -61.65%)');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'v1');
    const diff = await dvs(repo, ['diff', 'HEAD']);
    expect(diff.stdout).toMatch(/^Comparing HEAD \([0-9a-f]{7}\) → workspace\n/);
    expect(diff.stdout).not.toContain('->');

    // A checkout that fails for one file (its object is gone) and does the rest.
    const pointer = readFileSync(join(repo, 'model.bin.dvs'), 'utf8');
    const oid = /oid: sha256:([0-9a-f]{64})/.exec(pointer)![1];
    rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)), { force: true });
    rmSync(join(repo, 'model.bin'));
    rmSync(join(repo, 'data/many/f7.txt'));
    const partial = await dvs(repo, ['checkout']);
    expect(partial.code).toBe(8);
    expect(partial.stdout).toContain('A  data/many/f7.txt');
    const errors = partial.stderr.split('\n').filter((l) => /error/.test(l));
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) expect(line).toMatch(/^dvs: error: /);
    expect(partial.stderr).toContain('dvs: error: model.bin: ');
    const quiet = await dvs(repo, ['checkout', '-q']);
    expect(quiet.stderr).toMatch(/^dvs: error: model.bin: /);
  });

  it('config prints nothing and exits 1 for a key that is not set; a path Git tracks is named once', async () => {
    const repo = gitRepo({ 'docs/a.md': 'a\n' });
    const unset = await dvs(repo, ['config', 'core.remote']);
    expect(unset).toMatchObject({ code: 1, stdout: '', stderr: '' });
    expect(await dvs(repo, ['config', 'core.autostage'])).toMatchObject({ code: 0, stdout: 'true\n' });
    expect(json(await dvs(repo, ['config', 'core.remote', '--json']))).toMatchObject({ action: 'get', key: 'core.remote' });

    const file = await dvs(repo, ['track', 'README.md']);
    expect(file.code).toBe(5);
    expect(file.stderr).toMatch(/^dvs: error: README\.md: already tracked by Git\n/);
    const dir = await dvs(repo, ['track', 'docs']);
    expect(dir.stderr).toMatch(/^dvs: error: docs: Git already tracks files in it \(docs\/a\.md\)\n/);
  });
});

describe('dvs remote and the committed config', () => {
  it('add, modify, default and remove stage .dvs/config; --local changes are never staged; list marks the default', async () => {
    const repo = gitRepo();
    const staged = () => git(repo, 'diff', '--cached', '--name-only').split('\n').filter(Boolean);
    const add = await dvs(repo, ['remote', 'add', '-d', 'store', '../store']);
    expect(add.stdout).toBe('Added remote store: ../store (in .dvs/config), the default\nStaged: .dvs/config\n');
    expect(staged()).toEqual(['.dvs/config']);
    git(repo, 'commit', '-q', '-m', 'remote');

    const local = await dvs(repo, ['remote', 'add', '--local', 'mine', '../mine']);
    expect(local.stdout).toBe('Added remote mine: ../mine (in .dvs/config.local)\n');
    expect(staged()).toEqual([]);
    expect(json(await dvs(repo, ['remote', 'modify', '--local', 'mine', 'jobs', '2', '--json']))).toMatchObject({ staged: [], toStage: [] });

    expect(json(await dvs(repo, ['remote', 'modify', 'store', 'jobs', '4', '--json']))).toMatchObject({ staged: ['.dvs/config'], toStage: [] });
    expect(staged()).toEqual(['.dvs/config']);
    git(repo, 'commit', '-q', '-m', 'jobs');
    expect((await dvs(repo, ['remote', 'list'])).stdout).toBe('  mine   ../mine  (jobs=2)\n* store  ../store  (jobs=4)\n');

    await dvs(repo, ['config', 'core.autostage', 'false']);
    git(repo, 'commit', '-q', '-am', 'no autostage');
    const manual = await dvs(repo, ['remote', 'default', '--unset']);
    expect(manual.stdout).toBe('No default remote now (in .dvs/config)\nTo record this in Git: git add .dvs/config\n');
    expect(staged()).toEqual([]);
    await dvs(repo, ['config', '--local', 'core.autostage', 'true']);
    const removed = await dvs(repo, ['remote', 'remove', 'store']);
    expect(removed.stdout).toContain('Staged: .dvs/config\n');
    expect(staged()).toEqual(['.dvs/config']);
  });
});

describe('a reader that stops early', () => {
  it('(`dvs … | head`) ends dvs quietly: exit 0, no EPIPE stack trace', async () => {
    const repo = gitRepo();
    const tree: Record<string, string> = {};
    for (let i = 0; i < 400; i++) tree[`data/f${i}.txt`] = `${i}\n`;
    writeTree(repo, tree);
    // The pipe is closed before dvs writes a byte: its first write meets EPIPE.
    const child = spawn(process.execPath, [DVS, 'status', '--json'], { cwd: repo, env: { ...process.env, ...GIT_ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|    at /);
    expect(code).toBe(0);
  });
});
