// `dvs diff A B` resolves its revisions from Git's refs and objects itself (a Git process was a tenth of
// the command). These tests hold readCommitOf against `git rev-parse --verify <rev>^{commit}` on real
// repositories (loose and packed refs, tags, merges, worktrees, shallow clones), and check that what it
// does not handle is left to Git (undefined) rather than answered differently.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readableGitDirs } from '../../src/scm/git-object-dir.js';
import { GitObjectReader } from '../../src/scm/git-objects.js';
import { readCommitOf } from '../../src/scm/git-revisions.js';
import { RevisionReader } from '../../src/scm/revision-reader.js';
import { cleanupTempDirs, git, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

function commit(dir: string, message: string): void {
  writeFileSync(join(dir, 'f.txt'), `${message}\n`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', message);
}

/** main: c1..c4 with a merge of `side` as c4; tags light (c2) and annotated (c3, and a tag of that tag). */
function history(): string {
  const dir = tempDir('dvs-gitrev-');
  git(dir, 'init', '-q', '-b', 'main');
  commit(dir, 'c1');
  commit(dir, 'c2');
  git(dir, 'tag', 'light');
  git(dir, 'checkout', '-q', '-b', 'side');
  writeFileSync(join(dir, 'side.txt'), 'side\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'side');
  git(dir, 'checkout', '-q', 'main');
  commit(dir, 'c3');
  git(dir, 'tag', '-a', '-m', 'annotated', 'v1');
  git(dir, 'tag', '-a', '-m', 'tag of a tag', 'v1-outer', 'v1');
  git(dir, 'merge', '-q', '--no-ff', '-m', 'c4', 'side');
  git(dir, 'update-ref', 'refs/remotes/origin/main', 'HEAD~1');
  git(dir, 'symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main');
  return dir;
}

/** What Git says, or undefined where it names no commit. */
function gitSays(dir: string, rev: string): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd: dir, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function ours(dir: string, rev: string): string | undefined {
  const dirs = readableGitDirs(dir)!;
  const reader = new GitObjectReader(dirs.objects);
  try {
    return readCommitOf(dirs, reader, rev);
  } finally {
    reader.close();
  }
}

const ANSWERED = ['HEAD', '@', 'HEAD~1', 'HEAD~', 'HEAD~~', 'HEAD^', 'HEAD^1', 'HEAD^2', 'HEAD^2~1', 'HEAD~1^', 'HEAD^0', 'HEAD~0', 'HEAD~3',
  'main', 'main~2', 'side', 'heads/main', 'refs/heads/main', 'light', 'light~1', 'v1', 'v1~1', 'v1-outer', 'tags/v1', 'refs/tags/v1-outer',
  'origin/main', 'origin', 'refs/remotes/origin/main~1'];

describe('resolving revisions without Git', () => {
  it('agrees with git rev-parse on names and steps, loose refs and packed', () => {
    const dir = history();
    for (const rev of ANSWERED) expect(ours(dir, rev), rev).toBe(gitSays(dir, rev));
    git(dir, 'pack-refs', '--all');
    for (const rev of ANSWERED) expect(ours(dir, rev), `${rev} (packed)`).toBe(gitSays(dir, rev));
    const full = gitSays(dir, 'HEAD~2')!;
    expect(ours(dir, full)).toBe(full);
    expect(ours(dir, `${full}^`)).toBe(gitSays(dir, `${full}^`));
  });

  it('a loose ref wins over its packed copy, and a detached HEAD is read from the work tree', () => {
    const dir = history();
    git(dir, 'pack-refs', '--all');
    git(dir, 'update-ref', 'refs/heads/side', 'HEAD~2'); // loose again, newer than packed-refs says
    expect(ours(dir, 'side')).toBe(gitSays(dir, 'side'));
    git(dir, 'checkout', '-q', '--detach', 'HEAD~1');
    expect(ours(dir, 'HEAD')).toBe(gitSays(dir, 'HEAD'));
    expect(ours(dir, 'HEAD')).not.toBe(gitSays(dir, 'main'));
  });

  it('leaves to Git what it does not answer, never answering differently', () => {
    const dir = history();
    git(dir, 'branch', 'v1'); // a branch with a tag's name: Git warns that v1 is ambiguous
    git(dir, 'checkout', '-q', 'HEAD~1');
    git(dir, 'checkout', '-q', 'main');
    const head = gitSays(dir, 'HEAD')!;
    for (const rev of ['v1', head.slice(0, 12), 'HEAD@{1}', '@{-1}', 'ORIG_HEAD', ':/c2', 'HEAD^{tree}', 'main..side', 'HEAD~4', 'HEAD^3', 'nosuch', 'refs/heads/../x', '-x', '']) {
      expect(ours(dir, rev), rev).toBeUndefined();
    }
  });

  it('stops at a shallow clone\'s boundary as Git does, and reads a linked worktree\'s own HEAD', () => {
    const origin = history();
    const shallow = join(tempDir('dvs-gitrev-shallow-'), 'clone');
    git(origin, 'clone', '-q', '--depth', '1', `file://${origin}`, shallow);
    expect(ours(shallow, 'HEAD')).toBe(gitSays(shallow, 'HEAD'));
    // The commit names its parents, which the clone does not have: Git sees a root.
    for (const rev of ['HEAD~1', 'HEAD^2']) {
      expect(gitSays(shallow, rev), rev).toBeUndefined();
      expect(ours(shallow, rev), rev).toBeUndefined();
    }

    const wt = join(tempDir('dvs-gitrev-wt-'), 'wt');
    git(origin, 'worktree', 'add', '-q', '--detach', wt, 'HEAD~2');
    expect(ours(wt, 'HEAD')).toBe(gitSays(wt, 'HEAD'));
    expect(ours(wt, 'HEAD')).not.toBe(gitSays(origin, 'HEAD'));
    expect(ours(wt, 'main')).toBe(gitSays(origin, 'main'));
  });

  it('reads blobs itself, and still answers through Git where it cannot', async () => {
    const dir = history();
    const blob = git(dir, 'rev-parse', 'HEAD:f.txt').trim();
    const reader = new RevisionReader(dir);
    try {
      expect((await reader.read(blob))?.toString()).toBe('c3\n');
      expect((await reader.read('HEAD~1:f.txt'))?.toString()).toBe('c3\n'); // not an object id: git cat-file
      expect(await reader.commitOf('HEAD@{0}')).toBe(gitSays(dir, 'HEAD'));
      expect(await reader.commitOf('nosuch')).toBeUndefined();
    } finally {
      reader.close();
    }
  });
});
