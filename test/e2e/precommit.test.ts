// `dvs remote rename` and the pre-commit hook (`dvs install --pre-commit`), on real Git repositories.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, GIT_ENV, gitRepo, json, PROJECT, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

async function ok(cwd: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(cwd, args, { env });
  expect(r.code, `dvs ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** `git commit` as a user runs it, hooks and all. */
function gitCommit(repo: string, ...args: string[]) {
  const r = spawnSync('git', ['commit', '-q', ...args], { cwd: repo, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

const head = (repo: string) => git(repo, 'rev-parse', 'HEAD').trim();

describe('dvs remote rename', () => {
  it('renames the default remote in both config files, stages .dvs/config, and keeps what the clone knows of the remote', async () => {
    const repo = gitRepo();
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '-d', 'storage', store]);
    await ok(repo, ['remote', 'modify', '--local', 'storage', 'jobs', '3']);
    writeTree(repo, { 'data/a.csv': 'a\n1\n', 'data/b.csv': 'b\n2\n' });
    await ok(repo, ['track', 'data']);
    git(repo, 'commit', '-q', '-m', 'data and remote');
    expect(json(await ok(repo, ['push', '--json'])).uploaded).toBe(3);
    const known = readdirSync(join(repo, '.dvs/tmp/remotes'));

    const r = json(await ok(repo, ['remote', 'rename', 'storage', 'team', '--json']));
    expect(r).toMatchObject({ action: 'rename', name: 'storage', newName: 'team', files: ['.dvs/config', '.dvs/config.local'], isDefault: true, staged: ['.dvs/config'], toStage: [] });
    // The committed config is staged with the new name and the default following it.
    expect(git(repo, 'diff', '--cached', '--name-only').split('\n')).toContain('.dvs/config');
    const stagedConfig = git(repo, 'show', ':.dvs/config');
    expect(stagedConfig).toMatch(/remote: team/);
    expect(stagedConfig).toMatch(/^ {2}team:\n {4}url: /m);
    expect(stagedConfig).not.toContain('storage');
    // This clone's options (and its confirmation of the path outside the repository) moved too.
    expect(read(repo, '.dvs/config.local')).not.toContain('storage');
    const list = json(await ok(repo, ['remote', 'list', '--json']));
    expect(list.remotes).toEqual([{ name: 'team', url: expect.any(String), isDefault: true, options: { jobs: 3 } }]);
    expect((await ok(repo, ['config', 'core.remote'])).stdout.trim()).toBe('team');

    // What the clone knows of the remote is keyed by its URL: still trusted after the rename. An object
    // deleted behind dvs's back is not looked for, which only a kept record explains.
    expect(readdirSync(join(repo, '.dvs/tmp/remotes'))).toEqual(known);
    const oid = read(repo, 'data.dvs').match(/oid: sha256:([0-9a-f]{64})/)![1];
    rmSync(join(store, oid.slice(0, 2), oid.slice(2)));
    const push = json(await ok(repo, ['push', '--json']));
    expect(push.remote.name).toBe('team');
    expect(push.uploaded).toBe(0);
  });

  it('refuses an unknown remote (4), a name in use (5) and an invalid name (2), changing nothing', async () => {
    const repo = gitRepo();
    await ok(repo, ['remote', 'add', 'one', 'store-1']);
    await ok(repo, ['remote', 'add', 'two', 'store-2']);
    git(repo, 'commit', '-q', '-am', 'remotes');
    const before = read(repo, '.dvs/config');
    const unknown = await dvs(repo, ['remote', 'rename', 'nope', 'three', '--json']);
    expect(unknown.code).toBe(4);
    expect(json(unknown).error.code).toBe('REMOTE_NOT_FOUND');
    const taken = await dvs(repo, ['remote', 'rename', 'one', 'two']);
    expect(taken.code).toBe(5);
    expect(taken.stderr).toContain('dvs: error: A remote named "two" already exists');
    expect((await dvs(repo, ['remote', 'rename', 'one', 'one'])).code).toBe(5);
    expect((await dvs(repo, ['remote', 'rename', 'one', 'bad/name'])).code).toBe(2);
    expect((await dvs(repo, ['remote', 'rename', 'one'])).code).toBe(2);
    expect(read(repo, '.dvs/config')).toBe(before);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('renames a remote of the user config there, and stages nothing', async () => {
    const repo = gitRepo();
    const configDir = tempDir();
    const env = { DVS_CONFIG_DIR: configDir };
    writeFileSync(join(configDir, 'config'), 'core:\n  remote: mine\nremote:\n  mine:\n    url: /srv/dvs-store # the team share\n');
    const r = json(await ok(repo, ['remote', 'rename', 'mine', 'share', '--json'], env));
    expect(r).toMatchObject({ files: [join(configDir, 'config')], isDefault: true, staged: [], toStage: [] });
    expect(readFileSync(join(configDir, 'config'), 'utf8')).toBe('core:\n  remote: share\nremote:\n  share:\n    url: /srv/dvs-store # the team share\n');
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('leaves the user config alone for a remote the repository defines, keeping this clone\'s default on it', async () => {
    const repo = gitRepo();
    const configDir = tempDir();
    const env = { DVS_CONFIG_DIR: configDir };
    const userConfig = 'core:\n  remote: storage\n';
    writeFileSync(join(configDir, 'config'), userConfig);
    await ok(repo, ['remote', 'add', 'storage', 'store'], env);
    const r = json(await ok(repo, ['remote', 'rename', 'storage', 'team', '--json'], env));
    expect(r).toMatchObject({ files: ['.dvs/config', '.dvs/config.local'], isDefault: true, staged: ['.dvs/config'] });
    expect(readFileSync(join(configDir, 'config'), 'utf8')).toBe(userConfig);
    expect((await ok(repo, ['config', 'core.remote'], env)).stdout.trim()).toBe('team');
  });
});

/** A repository with the hooks (pre-commit too) and committed data: a directory and a file. */
async function withPreCommit() {
  const repo = gitRepo();
  await ok(repo, ['install', '--pre-commit']);
  writeTree(repo, { 'data/train/a.csv': 'a\n1\n', 'data/train/b.csv': 'b\n2\n', 'model.bin': 'weights v1' });
  await ok(repo, ['track', 'data/train', 'model.bin']);
  const first = gitCommit(repo, '-m', 'data');
  expect(first.code, first.stderr).toBe(0);
  expect(first.stderr).toBe('');
  return repo;
}

describe('the pre-commit hook', () => {
  it('is installed only when asked, kept up to date by later installs, and removed by uninstall', async () => {
    const plain = gitRepo();
    const r = json(await ok(plain, ['install', '--json']));
    expect(r.hooks.map((h: { name: string }) => h.name)).not.toContain('pre-commit');
    expect(existsSync(join(plain, '.git/hooks/pre-commit'))).toBe(false);

    const repo = gitRepo();
    const installed = json(await ok(repo, ['install', '--pre-commit', '--json']));
    expect(installed.hooks).toContainEqual({ name: 'pre-commit', action: 'installed' });
    const hook = read(repo, '.git/hooks/pre-commit');
    expect(hook).toMatch(/^# dvs-hook v\d+:/m);
    expect(hook).toContain('dvs hook pre-commit');
    expect(json(await ok(repo, ['install', '--json'])).hooks).toContainEqual({ name: 'pre-commit', action: 'unchanged' });
    const u = json(await ok(repo, ['uninstall', '--json']));
    expect(u.hooks).toContainEqual({ name: 'pre-commit', action: 'removed' });
    expect(existsSync(join(repo, '.git/hooks/pre-commit'))).toBe(false);
  });

  it('warns about data changed since it was tracked, yet lets the commit through; silent when clean', async () => {
    const repo = await withPreCommit();
    writeTree(repo, { 'data/train/a.csv': 'a\n1\n3\n', 'data/train/c.csv': 'c\n', 'model.bin': 'weights v2' });
    writeFileSync(join(repo, 'notes.txt'), 'unrelated change\n');
    git(repo, 'add', 'notes.txt');
    const before = head(repo);
    const commit = gitCommit(repo, '-m', 'notes');
    expect(commit.code, commit.stderr).toBe(0);
    expect(head(repo)).not.toBe(before);
    expect(commit.stderr).toContain('dvs: warning: data/train/ changed since it was tracked (1 added, 1 modified); run `dvs track data/train` before committing');
    expect(commit.stderr).toContain('dvs: warning: model.bin changed since it was tracked; run `dvs track model.bin` before committing');

    // Tracked and committed: nothing to say.
    await ok(repo, ['track', 'data/train', 'model.bin']);
    const clean = gitCommit(repo, '-m', 'data v2');
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe('');
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('compares with the staged pointer, not the committed one nor the workspace one', async () => {
    const repo = await withPreCommit();
    // Tracked (and so staged) but not committed yet: the commit records exactly the workspace's data.
    writeTree(repo, { 'model.bin': 'weights v2' });
    await ok(repo, ['track', 'model.bin']);
    const direct = await dvs(repo, ['hook', 'pre-commit']);
    expect(direct.code).toBe(0);
    expect(direct.stderr).toBe('');

    // The pointer is rewritten in the workspace but taken out of the index: the commit would record v1.
    git(repo, 'restore', '--staged', 'model.bin.dvs');
    writeFileSync(join(repo, 'notes.txt'), 'x\n');
    git(repo, 'add', 'notes.txt');
    const unstaged = gitCommit(repo, '-m', 'notes');
    expect(unstaged.code).toBe(0);
    expect(unstaged.stderr).toContain('dvs: warning: model.bin.dvs is not staged: this commit would record an older version of model.bin; run `git add model.bin.dvs` before committing');
    expect(unstaged.stderr).not.toContain('data/train');

    // `git commit -a` stages the pointer on the way (a temporary index): the check sees it.
    const all = gitCommit(repo, '-a', '-m', 'model v2');
    expect(all.code).toBe(0);
    expect(all.stderr).toBe('');
    expect(git(repo, 'show', 'HEAD:model.bin.dvs')).toBe(read(repo, 'model.bin.dvs'));
  });

  it('stops the commit with hooks.require_tracked, until the data is tracked', async () => {
    const repo = await withPreCommit();
    await ok(repo, ['config', 'hooks.require_tracked', 'true']);
    writeTree(repo, { 'data/train/b.csv': 'b\n2\n4\n' });
    const before = head(repo);
    const stopped = gitCommit(repo, '-a', '-m', 'config');
    expect(stopped.code).not.toBe(0);
    expect(head(repo)).toBe(before);
    expect(stopped.stderr).toContain('dvs: error: git commit stopped: data/train differs from its staged pointer (hooks.require_tracked is on)');
    await ok(repo, ['track', 'data/train']);
    const committed = gitCommit(repo, '-a', '-m', 'data v2 and config');
    expect(committed.code, committed.stderr).toBe(0);
    expect(head(repo)).not.toBe(before);
  });

  it('skips staged pointers it refuses (unsafe data path, aliases) with a warning, and never fails the commit for them', async () => {
    const repo = await withPreCommit();
    const good = read(repo, 'model.bin.dvs');
    // A data path in .git, a pointer built of YAML aliases, one of 2 MiB: none is read or acted on.
    writeTree(repo, { '.GIT.dvs': good, 'bomb.dvs': 'a: &a [x, x]\nb: [*a, *a]\nversion: 1\n', 'huge.dvs': `# ${'x'.repeat(2 << 20)}\n` });
    git(repo, 'add', '.GIT.dvs', 'bomb.dvs', 'huge.dvs');
    const r = await dvs(repo, ['hook', 'pre-commit']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.find((l) => l.endsWith('(huge.dvs)'))).toBe('dvs: warning: skipped refused: the staged pointer is larger than 1 MiB, the most a pointer may be (huge.dvs)');
    expect(lines.find((l) => l.endsWith('(.GIT.dvs)'))).toMatch(/^dvs: warning: skipped refused: its data path ".GIT"/);
    expect(lines.find((l) => l.endsWith('(bomb.dvs)'))).toMatch(/^dvs: warning: skipped refused: bomb\.dvs:\d+: YAML anchors are not allowed/);
    const commit = gitCommit(repo, '-m', 'hostile pointers');
    expect(commit.code).toBe(0);
    expect(commit.stderr).toContain('dvs: warning: skipped');
  });

  it('is offered to the pre-commit framework as dvs-status', () => {
    const manifest = readFileSync(join(PROJECT, '.pre-commit-hooks.yaml'), 'utf8');
    expect(manifest).toContain('id: dvs-status');
    expect(manifest).toContain('entry: dvs hook pre-commit');
    expect(manifest).toMatch(/language: system/);
    expect(manifest).toMatch(/pass_filenames: false/);
    expect(manifest).toMatch(/always_run: true/);
  });
});
