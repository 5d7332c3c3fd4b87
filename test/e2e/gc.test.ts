// dvs gc: dry runs that name what each object was, the data of run records kept, --date, and several
// repositories sharing one cache (--projects). Real Git repositories, the built CLI.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, GIT_ENV, gitRepo, json, read, tempDir, writeTree, type RunResult } from '../helpers.js';

afterAll(cleanupTempDirs);

/** Each test runs dozens of commands: room for a slow, busy machine. */
const SLOW = 300_000;

const sha = (content: string) => createHash('sha256').update(content).digest('hex');
const oidOf = (repo: string, pointer: string) => read(repo, pointer).match(/sha256:([0-9a-f]{64})/)![1];
const head = (repo: string) => git(repo, 'rev-parse', 'HEAD').trim();
const inCache = (cache: string, oid: string) => existsSync(join(cache, oid.slice(0, 2), oid.slice(2)));

/** Commit what is staged, with this committer (and author) date: ISO 8601 with its time zone. */
function commitAt(repo: string, date: string, message: string): string {
  const r = spawnSync('git', ['commit', '-q', '-m', message], { cwd: repo, env: { ...process.env, ...GIT_ENV, GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git commit failed: ${r.stderr}`);
  return head(repo);
}

async function ok(cwd: string, args: string[]): Promise<RunResult> {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} failed (exit ${r.code}): ${r.stderr}`);
  return r;
}

type Removed = { oid: string; size: number; manifest?: boolean; origins: Array<{ path: string; commit?: string; date?: string; run?: string; project?: string }> };
const removedOids = (r: { removed: Removed[] }) => r.removed.map((o) => o.oid).sort();
const byOid = (r: { removed: Removed[] }, oid: string) => r.removed.find((o) => o.oid === oid);

describe('dvs gc --dry-run names what it would remove', () => {
  it('lists data paths and commits for each object, in text and --json, and deletes nothing', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/train/a.csv': 'a1\n', 'data/train/b.csv': 'b1\n', 'm.bin': 'm1\n', 'extra.csv': 'a1\n' });
    await ok(repo, ['track', 'data/train', 'm.bin', 'extra.csv']);
    const manifestV1 = oidOf(repo, 'data/train.dvs');
    const c1 = commitAt(repo, '2024-01-10T12:00:00+00:00', 'v1');
    writeTree(repo, { 'data/train/a.csv': 'a2\n', 'm.bin': 'm2\n' });
    await ok(repo, ['track', 'data/train', 'm.bin']);
    await ok(repo, ['remove', 'extra.csv']);
    const c2 = commitAt(repo, '2024-03-10T12:00:00+00:00', 'v2');
    // m3 is tracked but never committed: nothing in the history names it.
    writeTree(repo, { 'm.bin': 'm3\n' });
    await ok(repo, ['track', 'm.bin']);
    writeTree(repo, { 'm.bin': 'm4\n' });
    await ok(repo, ['track', 'm.bin']);
    git(repo, 'commit', '-q', '-m', 'v4');

    const dry = json<{ removed: Removed[]; dryRun: boolean; kept: number }>(await ok(repo, ['gc', '-n', '--json']));
    expect(dry.dryRun).toBe(true);
    expect(removedOids(dry)).toEqual([manifestV1, sha('a1\n'), sha('m1\n'), sha('m2\n'), sha('m3\n')].sort());
    expect(byOid(dry, manifestV1)).toEqual({ oid: manifestV1, size: expect.any(Number), manifest: true, origins: [{ path: 'data/train', commit: c1, date: '2024-01-10T12:00:00+00:00' }] });
    // One object, two paths: a file of the directory and a file of its own.
    expect(byOid(dry, sha('a1\n'))!.origins).toEqual([
      { path: 'data/train/a.csv', commit: c1, date: '2024-01-10T12:00:00+00:00' },
      { path: 'extra.csv', commit: c1, date: '2024-01-10T12:00:00+00:00' },
    ]);
    expect(byOid(dry, sha('m2\n'))!.origins).toEqual([{ path: 'm.bin', commit: c2, date: '2024-03-10T12:00:00+00:00' }]);
    expect(byOid(dry, sha('m3\n'))!.origins).toEqual([]);

    const text = (await ok(repo, ['gc', '--dry-run'])).stdout;
    expect(text).toContain(`would remove data/train/ (directory listing, ${c1.slice(0, 10)}, 2024-01-10)  `);
    expect(text).toContain(`would remove data/train/a.csv (${c1.slice(0, 10)}, 2024-01-10)  3 B\n    also extra.csv (${c1.slice(0, 10)}, 2024-01-10)\n`);
    expect(text).toContain(`would remove m.bin (${c2.slice(0, 10)}, 2024-03-10)  3 B\n`);
    expect(text).toContain(`would remove unreferenced object ${sha('m3\n')}  3 B`);
    expect(text).toContain('Would remove 5 objects');
    // A dry run deletes nothing.
    const cache = join(repo, '.dvs/cache');
    for (const oid of removedOids(dry)) expect(inCache(cache, oid)).toBe(true);

    const real = json<{ removed: Removed[] }>(await ok(repo, ['gc', '--json']));
    expect(removedOids(real)).toEqual(removedOids(dry));
    for (const oid of removedOids(dry)) expect(inCache(cache, oid)).toBe(false);
    expect((await dvs(repo, ['verify'])).code).toBe(0);
  }, SLOW);
});

describe('dvs gc --date', () => {
  it('keeps what commits made on or after the day need, the day as git log shows it', async () => {
    const repo = gitRepo();
    const version = async (content: string, date: string) => {
      writeTree(repo, { 'm.bin': content });
      await ok(repo, ['track', 'm.bin']);
      return commitAt(repo, date, content.trim());
    };
    await version('m1\n', '2024-01-10T12:00:00+00:00');
    // 2024-03-10 where it was committed, still 2024-03-09 in UTC.
    const c2 = await version('m2\n', '2024-03-10T01:00:00+05:00');
    git(repo, 'branch', 'exp');
    await version('m3\n', '2024-05-10T12:00:00+00:00');
    git(repo, 'checkout', '-q', 'exp');
    await version('mx\n', '2024-04-01T12:00:00+00:00');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'm.bin': 'm3\n' });
    const [m1, m2, m3, mx] = ['m1\n', 'm2\n', 'm3\n', 'mx\n'].map(sha);
    const dry = async (...args: string[]) => removedOids(json(await ok(repo, ['gc', '-n', '--json', ...args])));

    expect(await dry()).toEqual([m1, m2, mx].sort());
    expect(await dry('--date', '2024-03-10')).toEqual([m1]);
    expect(await dry('--date', '2024-03-11')).toEqual([m1, m2].sort());
    // Branch tips whatever their age, and the commits since the day; with -A only those commits.
    expect(await dry('-a', '--date', '2024-04-15')).toEqual([m1, m2].sort());
    expect(await dry('-A', '--date', '2024-03-01')).toEqual([m1]);
    expect(await dry('--rev', c2, '--date', '2024-05-01')).toEqual([m1, mx].sort());

    for (const bad of ['2024-02-30', 'yesterday', '2024-3-1']) {
      const r = await dvs(repo, ['gc', '--date', bad, '--json']);
      expect(r.code).toBe(2);
      expect(json(r).error).toMatchObject({ code: 'INVALID_DATE', kind: 'usage' });
      expect((await dvs(repo, ['gc', '--date', bad])).stderr).toContain(`dvs: error: --date ${bad}: not a calendar date (use YYYY-MM-DD`);
    }

    await ok(repo, ['gc', '--date', '2024-03-10']);
    const cache = join(repo, '.dvs/cache');
    expect([m1, m2, m3, mx].map((oid) => inCache(cache, oid))).toEqual([false, true, true, true]);
  }, SLOW);
});

describe('dvs gc keeps the data of run records', () => {
  it('keeps a dataset version only a run record names, unless --no-runs', async () => {
    const repo = gitRepo();
    const store = tempDir();
    await ok(repo, ['remote', 'add', '-d', 'store', store]);
    writeTree(repo, { 'd.csv': 'd1\n', 'data/imgs/x.txt': 'x1\n', 'data/imgs/y.txt': 'y1\n' });
    await ok(repo, ['track', 'd.csv', 'data/imgs']);
    const imgsV1 = oidOf(repo, 'data/imgs.dvs');
    await ok(repo, ['push']);
    await ok(repo, ['run', 'start', 'r1', '--model', 'm', '-d', 'd.csv', '-d', 'data/imgs']);
    await ok(repo, ['run', 'finish', 'r1', '-m', 'acc=0.5']);
    // The run's versions are never committed in a pointer: only .dvs/runs/r1.yaml names them.
    writeTree(repo, { 'd.csv': 'd2\n', 'data/imgs/x.txt': 'x2\n' });
    await ok(repo, ['track', 'd.csv', 'data/imgs']);
    await ok(repo, ['push']);
    git(repo, 'commit', '-q', '-m', 'run r1, then new data');
    const runOnly = [sha('d1\n'), imgsV1, sha('x1\n')].sort();

    const kept = json<{ removed: Removed[]; runs: boolean; projects: Array<{ runs: number }> }>(await ok(repo, ['gc', '-n', '--json']));
    expect(kept).toMatchObject({ runs: true, projects: [{ runs: 1 }] });
    expect(removedOids(kept)).toEqual([]);

    const notKept = json<{ removed: Removed[]; runs: boolean }>(await ok(repo, ['gc', '-n', '--no-runs', '--json']));
    expect(notKept.runs).toBe(false);
    expect(removedOids(notKept)).toEqual(runOnly);
    expect(byOid(notKept, sha('d1\n'))!.origins).toEqual([{ path: 'd.csv', run: '.dvs/runs/r1.yaml' }]);
    expect(byOid(notKept, sha('x1\n'))!.origins).toEqual([{ path: 'data/imgs/x.txt', run: '.dvs/runs/r1.yaml' }]);
    expect((await ok(repo, ['gc', '-n', '--no-runs'])).stdout).toContain('would remove d.csv (dataset of run record .dvs/runs/r1.yaml, workspace)  3 B\n');

    // The same on the remote.
    expect(removedOids(json(await ok(repo, ['gc', '-r', 'store', '-n', '--json'])))).toEqual([]);
    const remoteDry = json<{ removed: Removed[] }>(await ok(repo, ['gc', '-r', 'store', '-n', '--no-runs', '--json']));
    expect(removedOids(remoteDry)).toEqual(runOnly);
    expect(byOid(remoteDry, sha('d1\n'))!.origins).toEqual([{ path: 'd.csv', run: '.dvs/runs/r1.yaml' }]);

    // A record only the history has still keeps its data with -A (read from Git's objects).
    git(repo, 'rm', '-q', '.dvs/runs/r1.yaml');
    git(repo, 'commit', '-q', '-m', 'drop the record');
    const c = git(repo, 'rev-parse', 'HEAD~1').trim();
    expect(removedOids(json(await ok(repo, ['gc', '-n', '--json'])))).toEqual(runOnly);
    expect(removedOids(json(await ok(repo, ['gc', '-n', '-A', '--json'])))).toEqual([]);
    expect(byOid(json(await ok(repo, ['gc', '-n', '-A', '--no-runs', '--json'])), sha('d1\n'))!.origins).toEqual([{ path: 'd.csv', run: '.dvs/runs/r1.yaml', commit: c }]);

    // A record gc cannot read stops it: it cannot tell what that run needs.
    writeTree(repo, { '.dvs/runs/bad.yaml': 'version: 1\nid: [\n' });
    const bad = await dvs(repo, ['gc', '-A']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('dvs: error: gc cannot tell which data the run record .dvs/runs/bad.yaml needs');
    expect(bad.stderr).toContain('--no-runs');
    const forced = await ok(repo, ['gc', '-A', '--force', '-n']);
    expect(forced.stderr).toContain('dvs: warning: run record .dvs/runs/bad.yaml skipped');
    expect((await ok(repo, ['gc', '-A', '--no-runs', '-n'])).stderr).toBe('');
    rmSync(join(repo, '.dvs/runs/bad.yaml'));

    const cache = join(repo, '.dvs/cache');
    await ok(repo, ['gc', '-A']);
    expect(runOnly.map((oid) => inCache(cache, oid))).toEqual([true, true, true]);
    await ok(repo, ['gc', '-A', '--no-runs']);
    expect(runOnly.map((oid) => inCache(cache, oid))).toEqual([false, false, false]);
  }, SLOW);
});

describe('dvs gc --projects', () => {
  it('keeps what every listed repository sharing the cache needs, and refuses others', async () => {
    const base = tempDir();
    const shared = join(base, 'shared');
    const project = async (content: string[]) => {
      const repo = gitRepo();
      await ok(repo, ['cache', 'dir', shared]);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'shared cache');
      for (const c of content) {
        writeTree(repo, { 'own.bin': c });
        await ok(repo, ['track', 'own.bin']);
        git(repo, 'commit', '-q', '-m', c.trim());
      }
      return repo;
    };
    const a = await project(['a1\n']);
    const b = await project(['b1\n', 'b2\n']);
    const bArg = relative(a, b);
    const bHead1 = git(b, 'rev-parse', 'HEAD~1').trim();

    // Alone, a sees b's data as garbage: gc warns that the cache may be shared.
    expect(removedOids(json(await ok(a, ['gc', '-n', '--json'])))).toEqual([sha('b1\n'), sha('b2\n')].sort());
    expect((await ok(a, ['gc', '-n'])).stderr).toContain(`dvs: warning: the cache (${shared}) is outside this repository\n  hint: if other repositories share it, name them with --projects <path>`);
    const both = json<{ removed: Removed[]; kept: number; projects: Array<{ root: string; pointers: number }> }>(await ok(a, ['gc', '-n', '--json', '--projects', bArg]));
    expect(removedOids(both)).toEqual([sha('b1\n')]);
    expect(both.kept).toBe(2);
    expect(both.projects).toEqual([expect.objectContaining({ pointers: 1 }), expect.objectContaining({ pointers: 1 })]);
    expect(byOid(both, sha('b1\n'))!.origins).toEqual([expect.objectContaining({ path: 'own.bin', commit: bHead1, project: expect.stringMatching(/dvs-test-/) })]);
    const named = await ok(a, ['gc', '-n', '--projects', bArg]);
    expect(named.stderr).toBe('');
    expect(named.stdout).toContain(`Kept what 2 projects sharing the cache need: . (1 pointer, 0 run records), ${bArg} (1 pointer, 0 run records).`);
    // b's whole history is kept with -A, in both.
    expect(removedOids(json(await ok(a, ['gc', '-n', '-A', '--json', '--projects', bArg])))).toEqual([]);

    // The other project is locked while gc reads it: held by a live process (this test), gc stops.
    mkdirSync(join(b, '.dvs/tmp'), { recursive: true });
    writeFileSync(join(b, '.dvs/tmp/lock'), JSON.stringify({ pid: process.pid, host: hostname(), command: 'dvs test', since: 'now' }));
    const locked = await dvs(a, ['gc', '--projects', bArg]);
    expect(locked.code).toBe(6);
    expect(locked.stderr).toContain(`dvs: error: --projects: ${b}: The repository is locked by dvs test (pid ${process.pid}`);
    rmSync(join(b, '.dvs/tmp/lock'));

    // Refused before anything is deleted: a folder outside any dvs repository, one with its own cache, none.
    const plain = tempDir();
    const other = gitRepo();
    for (const [arg, exit, code, message] of [
      [plain, 2, 'PROJECT_NOT_DVS_REPO', `--projects ${plain}: ${plain} is not inside a dvs repository`],
      [other, 2, 'PROJECT_OTHER_CACHE', `--projects ${other}: the repository at ${other} uses the cache ${join(other, '.dvs/cache')}, not this repository's ${shared}`],
      [join(base, 'none'), 4, 'PATH_NOT_FOUND', `--projects ${join(base, 'none')}: no such directory`],
    ] as const) {
      const r = await dvs(a, ['gc', '--projects', bArg, '--projects', arg]);
      expect(r.code).toBe(exit);
      expect(r.stderr).toContain(`dvs: error: ${message}`);
      expect(json(await dvs(a, ['gc', '--json', '--projects', arg])).error.code).toBe(code);
    }
    expect([sha('a1\n'), sha('b1\n'), sha('b2\n')].map((oid) => inCache(shared, oid))).toEqual([true, true, true]);

    await ok(a, ['gc', '--projects', bArg]);
    expect([sha('a1\n'), sha('b1\n'), sha('b2\n')].map((oid) => inCache(shared, oid))).toEqual([true, false, true]);
    expect((await dvs(b, ['verify'])).code).toBe(0);
    expect((await dvs(a, ['verify'])).code).toBe(0);
  }, SLOW);
});
