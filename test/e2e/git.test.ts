import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

async function installed(tree = {}) {
  const repo = gitRepo(tree);
  const r = await dvs(repo, ['install']);
  expect(r.code).toBe(0);
  git(repo, 'commit', '-q', '-m', 'dvs install');
  return repo;
}

async function trackAndCommit(repo: string, paths: string[], message: string) {
  const r = await dvs(repo, ['track', ...paths]);
  expect(r.code, r.stderr).toBe(0);
  git(repo, 'commit', '-q', '-m', message);
}

describe('dvs install / uninstall', () => {
  it('writes the hooks, chains an existing hook, upgrades its own, and restores on uninstall', async () => {
    const repo = gitRepo();
    const hooks = join(repo, '.git/hooks');
    mkdirSync(hooks, { recursive: true });
    writeFileSync(join(hooks, 'post-checkout'), '#!/bin/sh\necho "team hook $3" >> "$(git rev-parse --show-toplevel)/team-hook.log"\n');
    chmodSync(join(hooks, 'post-checkout'), 0o755);
    const r = json(await dvs(repo, ['install', '--json']));
    expect(r.hooks).toEqual([
      { name: 'post-checkout', action: 'chained' },
      { name: 'post-merge', action: 'installed' },
      { name: 'post-rewrite', action: 'installed' },
      { name: 'pre-push', action: 'installed' },
    ]);
    expect(read(repo, '.gitattributes')).toBe('*.dvs merge=dvs\n');
    expect(git(repo, 'config', 'merge.dvs.driver')).toContain('merge-driver %O %A %B %P');
    // Twice: nothing changes, the chained hook is not chained again.
    const again = json(await dvs(repo, ['install', '--json']));
    expect(again.hooks.map((h: { action: string }) => h.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    // An older dvs hook is upgraded.
    const pm = join(hooks, 'post-merge');
    writeFileSync(pm, readFileSync(pm, 'utf8').replace('dvs-hook v1', 'dvs-hook v0'));
    expect(json(await dvs(repo, ['install', '--json'])).hooks[1].action).toBe('upgraded');
    // The chained hook still runs.
    git(repo, 'checkout', '-q', '-b', 'other');
    expect(read(repo, 'team-hook.log')).toBe('team hook 1\n');
    const u = json(await dvs(repo, ['uninstall', '--json']));
    expect(u.hooks.map((h: { action: string }) => h.action)).toEqual(['restored', 'removed', 'removed', 'removed']);
    expect(read(repo, '.git/hooks/post-checkout')).toContain('team hook');
    expect(existsSync(join(hooks, 'post-checkout.pre-dvs'))).toBe(false);
  });

  it('honours core.hooksPath', async () => {
    const repo = gitRepo();
    git(repo, 'config', 'core.hooksPath', '.githooks');
    const r = json(await dvs(repo, ['install', '--json']));
    expect(r.hooksDir).toBe(join(repo, '.githooks'));
    expect(existsSync(join(repo, '.githooks/post-checkout'))).toBe(true);
  });

  it('respects the exit status of a chained pre-push hook', async () => {
    const repo = await installed();
    const bare = tempDir();
    git(bare, 'init', '-q', '--bare');
    git(repo, 'remote', 'add', 'origin', bare);
    writeFileSync(join(repo, '.git/hooks/pre-push.pre-dvs'), '#!/bin/sh\necho "blocked by team policy" >&2\nexit 3\n');
    chmodSync(join(repo, '.git/hooks/pre-push.pre-dvs'), 0o755);
    const { spawnSync } = await import('node:child_process');
    const push = spawnSync('git', ['push', '-q', 'origin', 'main'], { cwd: repo, encoding: 'utf8' });
    expect(push.status).not.toBe(0);
    expect(push.stderr).toContain('blocked by team policy');
    rmSync(join(repo, '.git/hooks/pre-push.pre-dvs'));
    const ok = spawnSync('git', ['push', '-q', 'origin', 'main'], { cwd: repo, encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
  });
});

describe('hooks keep the data in step with the ref', () => {
  it('switching branches restores each branch’s data, and leaves dirty data alone', async () => {
    const repo = await installed();
    writeTree(repo, { 'data/a.csv': 'a1\n', 'model.bin': 'm1' });
    await trackAndCommit(repo, ['data', 'model.bin'], 'v1');
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeTree(repo, { 'data/b.csv': 'b2\n', 'data/a.csv': 'a2\n', 'model.bin': 'm2' });
    await trackAndCommit(repo, ['data', 'model.bin'], 'v2');

    git(repo, 'checkout', '-q', 'main');
    expect(read(repo, 'data/a.csv')).toBe('a1\n');
    expect(existsSync(join(repo, 'data/b.csv'))).toBe(false);
    expect(read(repo, 'model.bin')).toBe('m1');
    git(repo, 'checkout', '-q', 'feature');
    expect(read(repo, 'data/b.csv')).toBe('b2\n');
    expect(read(repo, 'model.bin')).toBe('m2');

    // A dirty, unsaved data file survives a checkout; the rest follows.
    writeFileSync(join(repo, 'model.bin'), 'my experiment');
    const { spawnSync } = await import('node:child_process');
    const sw = spawnSync('git', ['checkout', 'main'], { cwd: repo, encoding: 'utf8' });
    expect(sw.status).toBe(0);
    expect(sw.stderr).toContain('model.bin: modified in the workspace and not saved in the cache; left as it is');
    expect(read(repo, 'model.bin')).toBe('my experiment');
    expect(read(repo, 'data/a.csv')).toBe('a1\n');
  });

  it('the hook script starts no git process to find the repository at the top of the work tree, where Git runs it', async () => {
    const repo = await installed();
    writeTree(repo, { 'model.bin': 'm1', 'sub/readme.txt': 'x' });
    await trackAndCommit(repo, ['model.bin'], 'v1');
    const v1 = git(repo, 'rev-parse', 'HEAD').trim();
    writeTree(repo, { 'model.bin': 'm2' });
    await trackAndCommit(repo, ['model.bin'], 'v2');
    const v2 = git(repo, 'rev-parse', 'HEAD').trim();
    const { spawnSync } = await import('node:child_process');
    const hook = join(repo, '.git/hooks/post-checkout');
    // Git itself is out of reach (the hook calls Node by its full path, and dvs reads Git's files).
    git(repo, 'reset', '-q', '--hard', v1); // runs no hook: the pointer is v1's, the data still v2's
    const noGit = { ...process.env, PATH: '/nonexistent' };
    const atTop = spawnSync('/bin/sh', [hook, v2, v1, '1'], { cwd: repo, env: noGit, encoding: 'utf8' });
    expect(atTop.status, atTop.stderr).toBe(0);
    expect(read(repo, 'model.bin')).toBe('m1');
    // Started elsewhere (not by Git), it asks Git for the top of the work tree, as before.
    git(repo, 'reset', '-q', '--hard', v2);
    const below = spawnSync('/bin/sh', [hook, v1, v2, '1'], { cwd: join(repo, 'sub'), encoding: 'utf8' });
    expect(below.status, below.stderr).toBe(0);
    expect(read(repo, 'model.bin')).toBe('m2');
  });

  it('a branch checkout on the same commit restores deleted data, as DVC does, and leaves modified data alone', async () => {
    const repo = await installed();
    writeTree(repo, { 'd/a.csv': 'a\n', 'd/sub/b.csv': 'b\n', 'm.bin': 'model' });
    await trackAndCommit(repo, ['d', 'm.bin'], 'data');
    rmSync(join(repo, 'm.bin'));
    rmSync(join(repo, 'd/sub/b.csv'));
    writeFileSync(join(repo, 'd/a.csv'), 'edited, not saved\n');
    const { spawnSync } = await import('node:child_process');
    const sw = spawnSync('git', ['checkout', '-b', 'new'], { cwd: repo, encoding: 'utf8' });
    expect(sw.status).toBe(0);
    expect(read(repo, 'm.bin')).toBe('model');
    expect(read(repo, 'd/sub/b.csv')).toBe('b\n');
    expect(read(repo, 'd/a.csv')).toBe('edited, not saved\n');
    // Nothing missing: the hook reads no pointer's data.
    const again = spawnSync('git', ['checkout', '-b', 'newer'], { cwd: repo, encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(again.stderr).not.toContain('dvs:');
  });

  it('reports objects missing from the cache in one line with the command to fetch them', async () => {
    const repo = await installed();
    writeTree(repo, { 'model.bin': 'm1' });
    await trackAndCommit(repo, ['model.bin'], 'v1');
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeTree(repo, { 'model.bin': 'm2' });
    await trackAndCommit(repo, ['model.bin'], 'v2');
    git(repo, 'checkout', '-q', 'main');
    rmSync(join(repo, '.dvs/cache'), { recursive: true });
    const { spawnSync } = await import('node:child_process');
    const sw = spawnSync('git', ['checkout', 'feature'], { cwd: repo, encoding: 'utf8' });
    expect(sw.status).toBe(0);
    expect(sw.stderr).toContain('dvs: warning: 1 file not checked out: objects missing from the cache; run `dvs pull` to fetch them');
  });

  it('the data follows checkouts in a linked worktree (its .git is a file naming the gitdir)', async () => {
    const repo = await installed();
    writeTree(repo, { 'data/a.csv': 'a1\n', 'model.bin': 'm1' });
    await trackAndCommit(repo, ['data', 'model.bin'], 'v1');
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeTree(repo, { 'data/a.csv': 'a2\n', 'model.bin': 'm2' });
    await trackAndCommit(repo, ['data', 'model.bin'], 'v2');
    git(repo, 'checkout', '-q', 'main');
    const wt = join(tempDir('dvs-wt-'), 'wt');
    git(repo, 'worktree', 'add', '-q', '--detach', wt, 'main');
    // The worktree shares the main checkout's cache (ignored by Git, so set in the worktree's own config).
    writeFileSync(join(wt, '.dvs/config.local'), `cache:\n  dir: ${JSON.stringify(join(repo, '.dvs/cache'))}\n`);
    git(wt, 'checkout', '-q', '--detach', 'feature');
    expect(read(wt, 'model.bin')).toBe('m2');
    expect(read(wt, 'data/a.csv')).toBe('a2\n');
    git(wt, 'checkout', '-q', '--detach', 'main');
    expect(read(wt, 'model.bin')).toBe('m1');
    expect(read(wt, 'data/a.csv')).toBe('a1\n');
  });

  it('git pull of a commit that changed a pointer updates the data', async () => {
    const upstream = await installed();
    writeTree(upstream, { 'data/a.csv': 'a1\n' });
    await trackAndCommit(upstream, ['data'], 'v1');
    const clone = tempDir();
    git(clone, 'clone', '-q', upstream, '.');
    // Share the cache, standing in for a remote (remotes have their own tests).
    for (const args of [['cache', 'dir', '--local', join(upstream, '.dvs/cache')], ['install'], ['checkout']]) {
      const r = await dvs(clone, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(read(clone, 'data/a.csv')).toBe('a1\n');

    writeTree(upstream, { 'data/a.csv': 'a2\n', 'data/new.csv': 'n\n' });
    await trackAndCommit(upstream, ['data'], 'v2');
    git(clone, 'checkout', '-q', '--', '.');
    git(clone, 'pull', '-q', '--no-rebase', 'origin', 'main');
    expect(read(clone, 'data/a.csv')).toBe('a2\n');
    expect(read(clone, 'data/new.csv')).toBe('n\n');
  });

  it('the data follows a rebase', async () => {
    const repo = await installed();
    writeTree(repo, { 'd/a': '1' });
    await trackAndCommit(repo, ['d'], 'v1');
    git(repo, 'checkout', '-q', '-b', 'topic');
    writeTree(repo, { 'd/t': 'topic' });
    await trackAndCommit(repo, ['d'], 'topic');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'code.txt': 'x' });
    git(repo, 'add', 'code.txt');
    git(repo, 'commit', '-q', '-m', 'code');
    git(repo, 'checkout', '-q', 'topic');
    git(repo, 'checkout', '-q', 'main');
    expect(existsSync(join(repo, 'd/t'))).toBe(false);
    git(repo, 'rebase', '-q', 'main', 'topic');
    expect(read(repo, 'd/t')).toBe('topic');
  });
});

describe('merge driver', () => {
  it('merges two branches that appended different files to one tracked directory', async () => {
    const repo = await installed();
    writeTree(repo, { 'parts/p0.csv': 'p0\n' });
    await trackAndCommit(repo, ['parts'], 'p0');
    git(repo, 'checkout', '-q', '-b', 'alice');
    writeTree(repo, { 'parts/p1.csv': 'alice\n' });
    await trackAndCommit(repo, ['parts'], 'alice appends p1');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'parts/p2.csv': 'bob\n' });
    await trackAndCommit(repo, ['parts'], 'bob appends p2');
    git(repo, 'merge', '-q', '--no-edit', 'alice');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    // The merged pointer checks out: all three partitions.
    expect(read(repo, 'parts/p1.csv')).toBe('alice\n');
    expect(read(repo, 'parts/p2.csv')).toBe('bob\n');
    const s = json(await dvs(repo, ['status', '--json']));
    expect(s.clean).toBe(true);
    expect(read(repo, 'parts.dvs')).toContain('files: 3');
  });

  it('a file changed differently on both sides is a conflict that names it', async () => {
    const repo = await installed();
    writeTree(repo, { 'parts/p0.csv': 'p0\n', 'parts/keep.csv': 'k\n' });
    await trackAndCommit(repo, ['parts'], 'p0');
    git(repo, 'checkout', '-q', '-b', 'alice');
    writeTree(repo, { 'parts/p0.csv': 'alice edit\n' });
    await trackAndCommit(repo, ['parts'], 'alice');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'parts/p0.csv': 'bob edit\n' });
    await trackAndCommit(repo, ['parts'], 'bob');
    const { spawnSync } = await import('node:child_process');
    const m = spawnSync('git', ['merge', '--no-edit', 'alice'], { cwd: repo, encoding: 'utf8' });
    expect(m.status).not.toBe(0);
    expect(m.stdout + m.stderr).toContain('dvs: conflict in parts.dvs: changed differently on both sides: p0.csv');
    const text = read(repo, 'parts.dvs');
    expect(text).toMatch(/^<<<<<<< ours\n/);
    expect(text).toContain('\n=======\n');
    expect(text).toContain('>>>>>>> theirs\n');
    expect(git(repo, 'status', '--porcelain')).toContain('UU parts.dvs');
  });

  it('file pointers changed on both sides are a plain conflict', async () => {
    const repo = await installed();
    writeTree(repo, { 'm.bin': 'base' });
    await trackAndCommit(repo, ['m.bin'], 'base');
    git(repo, 'checkout', '-q', '-b', 'alice');
    writeTree(repo, { 'm.bin': 'alice' });
    await trackAndCommit(repo, ['m.bin'], 'alice');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'm.bin': 'bob' });
    await trackAndCommit(repo, ['m.bin'], 'bob');
    const { spawnSync } = await import('node:child_process');
    const m = spawnSync('git', ['merge', '--no-edit', 'alice'], { cwd: repo, encoding: 'utf8' });
    expect(m.status).not.toBe(0);
    expect(m.stdout + m.stderr).toContain('a file pointer changed differently on both sides');
  });
});

describe('dvs diff', () => {
  // One history for every test: they only read it, but the last, which changes the workspace and cache.
  let shared: Promise<string> | undefined;
  const history = () => (shared ??= makeHistory());
  async function makeHistory() {
    const repo = gitRepo();
    writeTree(repo, { 'd/a.csv': 'a\n', 'd/b.csv': 'b\n', 'd/c.csv': 'c\n', 'm.bin': 'model-1' });
    await trackAndCommit(repo, ['d', 'm.bin'], 'v1');
    writeTree(repo, { 'd/a.csv': 'a changed\n', 'd/new.csv': 'new\n', 'extra.bin': 'e' });
    rmSync(join(repo, 'd/b.csv'));
    git(repo, 'mv', '-k', 'm.bin.dvs', 'model.bin.dvs');
    writeFileSync(join(repo, 'model.bin'), 'model-1');
    rmSync(join(repo, 'm.bin'));
    writeFileSync(join(repo, 'd/c2.csv'), 'c\n');
    rmSync(join(repo, 'd/c.csv'));
    await trackAndCommit(repo, ['d', 'extra.bin', 'model.bin'], 'v2');
    return repo;
  }

  it('human output: data paths and files added, deleted, modified and renamed, with sizes', async () => {
    const repo = await history();
    const r = await dvs(repo, ['diff', 'HEAD~1', 'HEAD']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Comparing HEAD~1 \([0-9a-f]{7}\) → HEAD \([0-9a-f]{7}\)$/);
    expect(r.stdout).toContain('modified  d/  6 B → 16 B (+10 B)');
    expect(r.stdout).toContain('    modified  a.csv  2 B → 10 B (+8 B)');
    expect(r.stdout).toContain('    deleted   b.csv  2 B');
    expect(r.stdout).toContain('    renamed   c.csv → c2.csv  2 B');
    expect(r.stdout).toContain('    added     new.csv  4 B');
    expect(r.stdout).toContain('added     extra.bin  1 B');
    expect(r.stdout).toContain('renamed   m.bin → model.bin  7 B');
    expect(lines.at(-2)).toBe('3 data paths changed (1 added, 1 modified, 1 renamed); files: 2 added, 1 deleted, 1 modified, 2 renamed; size +11 B');
    expect((await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--exit-code'])).code).toBe(1);
    expect((await dvs(repo, ['diff', 'HEAD', 'HEAD', '--exit-code'])).code).toBe(0);
  });

  it('--json: one document with stable keys', async () => {
    const repo = await history();
    const r = json(await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--json']));
    expect(Object.keys(r)).toEqual(['a', 'b', 'changes', 'summary', 'warnings']);
    expect(r.summary).toEqual({
      data: { added: 1, deleted: 0, modified: 1, renamed: 1 },
      files: { added: 2, deleted: 1, modified: 1, renamed: 2 },
      sizeDelta: 11,
      incomplete: 0,
    });
    const d = r.changes.find((c: { path: string }) => c.path === 'd');
    expect(d.fileCounts).toEqual({ added: 1, deleted: 1, modified: 1, renamed: 1 });
    expect(d.files.map((f: { path: string; change: string }) => `${f.change}:${f.path}`)).toEqual(['modified:a.csv', 'deleted:b.csv', 'renamed:c2.csv', 'added:new.csv']);
  });

  it('--md: a summary and a table for a pull request', async () => {
    const repo = await history();
    const r = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--md']);
    expect(r.stdout).toMatch(/^### dvs diff: `HEAD~1 \([0-9a-f]{7}\)` → `HEAD \([0-9a-f]{7}\)`\n\n\*\*3 data paths changed/);
    expect(r.stdout).toContain('| change | path | before | after | Δ size |');
    expect(r.stdout).toContain('| modified | `d/a.csv` | 2 B | 10 B | +8 B |');
    expect(r.stdout).toContain('| renamed | `d/c.csv → d/c2.csv` | 2 B | 2 B | ±0 B |');
  });

  it('compares HEAD with the workspace, narrows with --targets, and reports missing manifests', async () => {
    const repo = await history();
    writeFileSync(join(repo, 'd/a.csv'), 'uncommitted\n');
    const r = await dvs(repo, ['diff']);
    expect(r.stdout).toContain('Comparing HEAD (');
    expect(r.stdout).toContain('→ workspace');
    expect(r.stdout).toContain('    modified  a.csv  10 B → 12 B (+2 B)');
    const narrowed = json(await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--targets', 'd/new.csv', '--json']));
    expect(narrowed.changes).toHaveLength(1);
    expect(narrowed.changes[0].files.map((f: { path: string }) => f.path)).toEqual(['new.csv']);
    rmSync(join(repo, '.dvs/cache'), { recursive: true });
    const missing = await dvs(repo, ['diff', 'HEAD~1', 'HEAD']);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain('not in the cache: files not listed');
    expect(missing.stderr).toContain('no default remote is set');
    const bad = await dvs(repo, ['diff', 'nope']);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('Unknown revision "nope"');
  });
});

describe('dvs diff: revisions, targets and the workspace as DVC users expect', () => {
  it('resolves anything Git resolves, reports data deleted from the workspace, and narrows to several targets', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/a.csv': 'a\n', 'd/b.csv': 'b\n', 'm.bin': 'm1' });
    await trackAndCommit(repo, ['d', 'm.bin'], 'first data');
    writeTree(repo, { 'd/a.csv': 'a2\n', 'd/b.csv': 'b2\n', 'm.bin': 'm2' });
    await trackAndCommit(repo, ['d', 'm.bin'], 'second data');
    const paths = (r: { changes: Array<{ path: string }> }) => r.changes.map((c) => c.path);
    for (const [revA, revB] of [[':/first data', ':/second data'], ['HEAD@{1}', 'HEAD'], ['HEAD~1^{tree}', 'HEAD^{tree}'], ['main~1', 'main']]) {
      const r = await dvs(repo, ['diff', revA, revB, '--json']);
      expect(r.code, `${revA} ${revB}: ${r.stderr}`).toBe(0);
      expect(paths(json(r)), `${revA} ${revB}`).toEqual(['d', 'm.bin']);
    }
    const blob = await dvs(repo, ['diff', 'HEAD:m.bin.dvs']);
    expect(blob.code).toBe(4);
    expect(blob.stderr).toContain('names a Git object that is not a commit or a tree');

    // Several targets, one inside a directory: the directory is reported with just that file.
    const t = json(await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--targets', 'd/a.csv', '--targets', 'm.bin', '--json']));
    expect(paths(t)).toEqual(['d', 'm.bin']);
    expect(t.changes[0].files.map((f: { path: string }) => f.path)).toEqual(['a.csv']);
    expect(t.changes[0].fileCounts).toEqual({ added: 0, deleted: 0, modified: 1, renamed: 0 });
    const unknown = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--targets', 'nothing-here']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('nothing-here: not tracked data');

    // Data deleted from the workspace, pointer still there: deleted.
    rmSync(join(repo, 'm.bin'));
    const w = json(await dvs(repo, ['diff', '--json']));
    expect(w.changes.map((c: { path: string; change: string }) => `${c.change}:${c.path}`)).toEqual(['deleted:m.bin']);
    expect(w.warnings.map((x: { code: string }) => x.code)).toContain('NOT_IN_WORKSPACE');
  });
});

describe('dvs diff --content', () => {
  /** A dataset of 3 partitions; version B drops 5% of the math rows of every partition. */
  function dataset(dropMath: boolean): Record<string, string> {
    const tree: Record<string, string> = {};
    for (let p = 0; p < 3; p++) {
      const lines = ['id,domain,text,score'];
      let mathSeen = 0;
      for (let i = 0; i < 400; i++) {
        const id = p * 400 + i;
        const domain = i % 3 === 0 ? 'math' : i % 3 === 1 ? 'code' : 'web';
        if (domain === 'math' && dropMath && mathSeen++ % 20 === 0) continue;
        lines.push(`${id},${domain},"sample, text ${id}",${(id % 100) / 100}`);
      }
      tree[`corpus/part-${p}.csv`] = lines.join('\n') + '\n';
    }
    return tree;
  }

  it('shows that version B drops 5% of the math rows, in the statistics and in the removed rows', async () => {
    const repo = gitRepo();
    writeTree(repo, dataset(false));
    await trackAndCommit(repo, ['corpus'], 'A');
    writeTree(repo, dataset(true));
    await trackAndCommit(repo, ['corpus'], 'B');
    const r = json(await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content', '--json']));
    const content = r.changes[0].content;
    expect(content.format).toBe('csv');
    // 134 math rows per partition, every 20th dropped: 7 per partition.
    expect(content.rows).toEqual({ before: 1200, after: 1179, delta: -21 });
    const domain = content.columns.find((c: { name: string }) => c.name === 'domain');
    const math = (s: { top: Array<{ value: string; count: number }> }) => s.top.find((t) => t.value === 'math')!.count;
    expect([math(domain.before), math(domain.after)]).toEqual([402, 381]);
    expect(content.rowDiff.removed).toBe(21);
    expect(content.rowDiff.added).toBe(0);
    expect(content.rowDiff.samples.removed.length).toBe(5);
    for (const row of content.rowDiff.samples.removed) expect(row.values.domain).toBe('math');

    const text = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content']);
    expect(text.stdout).toContain('rows: 1,200 → 1,179 (-21)');
    expect(text.stdout).toContain('top math 402 → 381');
    const md = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content', '--md']);
    expect(md.stdout).toContain('<details><summary><code>corpus/part-*.csv</code>');
    expect(md.stdout).toContain('| domain | string |');
  });

  it('--key matches rows and shows changed cells; an unparseable file says why and the rest goes on', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'users.csv': 'id,name,age\n1,ann,30\n2,bob,40\n3,cy,50\n', 'events.jsonl': '{"a":1}\n{"a":2}\n', 'table.parquet': 'PAR1 not really' });
    await trackAndCommit(repo, ['users.csv', 'events.jsonl', 'table.parquet'], 'v1');
    writeTree(repo, { 'users.csv': 'id,name,age\n1,ann,31\n2,bob,40\n4,dee,20\n', 'events.jsonl': '{"a":1}\n{not json\n', 'table.parquet': 'still not parquet' });
    await trackAndCommit(repo, ['users.csv', 'events.jsonl', 'table.parquet'], 'v2');
    const r = json(await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--key', 'id', '--json']));
    const users = r.changes.find((c: { path: string }) => c.path === 'users.csv').content;
    expect(users.rowDiff).toMatchObject({ mode: 'key', key: 'id', added: 1, removed: 1, changed: 1 });
    expect(users.rowDiff.samples.changed[0].cells).toEqual([{ column: 'age', before: '30', after: '31' }]);
    // A line that is not JSON is skipped with a note; a file that cannot be parsed at all is an error entry.
    const events = r.changes.find((c: { path: string }) => c.path === 'events.jsonl').content;
    expect(events.notes.join(' ')).toMatch(/line 2/);
    const table = r.changes.find((c: { path: string }) => c.path === 'table.parquet').content;
    expect(table.errors.length).toBeGreaterThan(0);
    expect(table.errors[0].path).toBe('table.parquet');
  });
});

describe('hooks with a remote', () => {
  it('git push sends the data first (pre-push); a clone with hooks.autofetch gets it on checkout', async () => {
    const repo = await installed();
    const store = join(tempDir(), 'store');
    const bare = tempDir();
    git(bare, 'init', '-q', '--bare');
    git(repo, 'remote', 'add', 'origin', bare);
    for (const args of [['remote', 'add', 'storage', store, '--default']]) {
      const r = await dvs(repo, args);
      expect(r.code, r.stderr).toBe(0);
    }
    git(repo, 'commit', '-q', '-am', 'remote');
    writeTree(repo, { 'data/a.csv': 'a\n' });
    await trackAndCommit(repo, ['data'], 'v1');
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeTree(repo, { 'data/b.csv': 'b\n' });
    await trackAndCommit(repo, ['data'], 'v2');
    const { spawnSync } = await import('node:child_process');
    // Both branches: the pre-push hook pushes the objects of every commit being pushed.
    const push = spawnSync('git', ['push', '-q', 'origin', 'main', 'feature'], { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    expect(push.status, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/dvs: pushed \d+ objects?, /);

    const clone = tempDir();
    git(clone, 'clone', '-q', '-b', 'main', bare, '.');
    // A committed remote that is a directory on this machine is used once the clone confirms it.
    expect((await dvs(clone, ['pull'])).stderr).toContain('dvs uses such a path only after you confirm it on this machine');
    for (const args of [['install'], ['config', '--local', 'hooks.autofetch', 'true'], ['config', '--local', 'remote.storage.url', store], ['pull']]) {
      const r = await dvs(clone, args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect(read(clone, 'data/a.csv')).toBe('a\n');
    // The feature branch's objects are only on the remote: the hook fetches them.
    const sw = spawnSync('git', ['checkout', 'feature'], { cwd: clone, encoding: 'utf8' });
    expect(sw.status).toBe(0);
    expect(sw.stderr).not.toContain('not checked out');
    expect(read(clone, 'data/b.csv')).toBe('b\n');

    // A diff of revisions whose manifests and files this clone never had: fetched lazily, only those.
    const fresh = tempDir();
    git(fresh, 'clone', '-q', '-b', 'feature', bare, '.');
    expect((await dvs(fresh, ['config', '--local', 'remote.storage.url', store])).code).toBe(0);
    const d = json(await dvs(fresh, ['diff', 'origin/main', 'origin/feature', '--content', '--json']));
    expect(d.warnings).toEqual([]);
    expect(d.changes[0].files.map((f: { path: string; change: string }) => `${f.change}:${f.path}`)).toEqual(['added:b.csv']);
    expect(d.changes[0].content).toMatchObject({ format: 'csv', files: { before: 0, after: 1 } });
    expect(existsSync(join(fresh, 'data/a.csv'))).toBe(false); // nothing was checked out
  });
});
