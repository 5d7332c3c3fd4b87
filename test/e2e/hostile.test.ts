// A cloned repository is untrusted input. These tests clone repositories built by an attacker
// (hostile-repo.ts), run what a new user runs, with the Git hooks installed, and hash the whole world
// around the clone before and after: nothing outside the honest tracked data may change, no code of
// the repository's may run, and every refusal names the pointer.
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';
import { BAD_POINTERS, buildHostileWorld, cloneVictim, digestTree, victimMayChange, type World } from './hostile-repo.js';

afterAll(cleanupTempDirs);

describe('a hostile clone', () => {
  let world: World;
  beforeAll(async () => {
    world = await buildHostileWorld();
    await cloneVictim(world);
  }, 300_000);

  it('cannot make pull, checkout, status, diff or a branch switch touch anything outside its honest data', async () => {
    // `linked` is tracked data whose path the clone made a link: --force may replace the link itself.
    const mayChange = (rel: string) => victimMayChange(rel) || rel === 'victim/linked' || rel.startsWith('victim/linked/');
    const before = digestTree(world.dir, mayChange);
    const v = world.victim;

    const pull = await dvs(v, ['pull']);
    expect(pull.code, pull.stderr).toBe(8);
    for (const p of ['.git.dvs', '...dvs', 'sub/...dvs', '.dvs.dvs']) expect(pull.stderr).toContain(`${p}: refused`);
    expect(pull.stderr).not.toMatch(/checkout --force (\.git|\.dvs|\.\.)/);
    expect(read(v, 'honest/a.csv')).toBe('id\n1\n');
    expect(read(v, 'honest.bin')).toBe('honest bytes\n');

    // Branch switches run the hooks (autofetch on): the refused pointers are skipped with a warning.
    git(v, 'checkout', '-q', 'HEAD~1');
    const back = await import('node:child_process').then(({ spawnSync }) => spawnSync('git', ['checkout', 'main'], { cwd: v, encoding: 'utf8' }));
    expect(back.status).toBe(0);
    expect(back.stderr).toContain('dvs: warning: skipped');

    const status = json(await dvs(v, ['status', '--json']));
    expect(status.clean).toBe(false);
    expect(status.refused.map((r: { pointerPath: string }) => r.pointerPath).sort()).toEqual([...BAD_POINTERS].sort());
    expect(status.entries.map((e: { path: string }) => e.path).sort()).toEqual(['honest', 'honest.bin', 'linked']);
    const human = await dvs(v, ['status']);
    expect(human.stdout).toContain('refused  .git.dvs: its data path ".git" is inside or is ".git"');

    for (const args of [['checkout'], ['checkout', '--force'], ['fetch'], ['verify'], ['diff', 'HEAD~1', 'HEAD'], ['diff']]) {
      const r = await dvs(v, args);
      expect(r.stderr, args.join(' ')).not.toMatch(/internal error|\n\s+at /);
      expect([0, 1, 8], `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
    }
    const named = await dvs(v, ['checkout', '--force', '.git.dvs']);
    expect(named.code).toBe(3);
    expect(named.stderr).toContain('.git.dvs: refused: its data path ".git"');

    expect(existsSync(join(world.dir, 'PWNED'))).toBe(false);
    expect(readFileSync(join(v, '.git/hooks/post-checkout'), 'utf8')).toContain('dvs-hook');
    expect(existsSync(join(v, '.git/keep.txt'))).toBe(false);
    expect(digestTree(world.dir, mayChange)).toEqual(before);
  }, 300_000);
});

describe('parts of .dvs/ from Git', () => {
  it('a committed symbolic link for .dvs/cache is refused by every command, and nothing is written through it', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd.bin': 'data\n' });
    const outside = tempDir();
    writeFileSync(join(outside, 'keep.txt'), 'keep\n');
    expect((await dvs(repo, ['track', 'd.bin'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'data');
    const clone = tempDir();
    git(clone, 'clone', '-q', repo, '.');
    // The attacker's commit: .dvs/cache is a link to a folder of the victim's.
    const evil = tempDir();
    git(evil, 'clone', '-q', repo, '.');
    symlinkSync(outside, join(evil, '.dvs/cache'));
    git(evil, 'add', '-f', '.dvs/cache');
    git(evil, 'commit', '-q', '-m', 'link the cache');
    const victim = tempDir();
    git(victim, 'clone', '-q', evil, '.');
    for (const args of [['pull'], ['status'], ['checkout'], ['track', 'd.bin']]) {
      const r = await dvs(victim, args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain('.dvs/cache is a symbolic link committed to Git');
    }
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('keep\n');
    expect(readdirSync(outside)).toEqual(['keep.txt']);
  });

  it('a committed cache.dir outside the repository is used only once this machine confirms it', async () => {
    const shared = tempDir();
    const repo = gitRepo();
    writeTree(repo, { 'd.bin': 'data\n' });
    // The team's shared cache, set by a teammate: they typed the path, so their clone has confirmed it.
    let r = await dvs(repo, ['cache', 'dir', shared]);
    expect(r.code, r.stderr).toBe(0);
    expect((await dvs(repo, ['track', 'd.bin'])).code).toBe(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'shared cache');
    const clone = tempDir();
    git(clone, 'clone', '-q', repo, '.');
    for (const args of [['status'], ['checkout']]) {
      r = await dvs(clone, args);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr).toContain(`sets cache.dir to ${shared}, outside this repository`);
      expect(r.stderr).toContain(`dvs config --local cache.dir ${shared}`);
    }
    expect(existsSync(join(clone, 'd.bin'))).toBe(false);
    expect((await dvs(clone, ['config', '--local', 'cache.dir', shared])).code).toBe(0);
    r = await dvs(clone, ['checkout']);
    expect(r.code, r.stderr).toBe(0);
    expect(read(clone, 'd.bin')).toBe('data\n');
    // The user config confirms it as well (DVS_CONFIG_DIR points at this user's config folder).
    const other = tempDir();
    git(other, 'clone', '-q', repo, '.');
    const home = tempDir();
    writeFileSync(join(home, 'config'), `cache:\n  dir: ${shared}\n`);
    r = await dvs(other, ['checkout'], { env: { DVS_CONFIG_DIR: home } });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('paths given on the command line', () => {
  it('refuses a folder reached through a link inside the repository, names with control characters, and names too long for a pointer', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/foo': 'x\n', [`${'n'.repeat(252)}`]: 'long\n', 'ok\ttab': 't\n' });
    symlinkSync('data', join(repo, 'dir'));
    const gitignoreBefore = existsSync(join(repo, 'data/.gitignore'));
    const cases: Array<[string, RegExp]> = [
      ['dir/foo', /dir\/foo: passes through a symbolic link \(dir\)/],
      ['n'.repeat(252), /too long for its pointer/],
      ['ok\ttab', /control character/],
    ];
    for (const [arg, message] of cases) {
      const r = await dvs(repo, ['track', arg]);
      expect(r.code, `${arg}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    expect(existsSync(join(repo, 'data/foo.dvs'))).toBe(false);
    expect(existsSync(join(repo, 'dir/foo.dvs'))).toBe(false);
    expect(existsSync(join(repo, 'data/.gitignore'))).toBe(gitignoreBefore);
    expect(git(repo, 'status', '--porcelain')).not.toContain('.dvs');
  });
});
