import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPathProblem, PathGuard, pathProblem } from '../../src/base/paths.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('pathProblem: the one lexical judge of repository paths', () => {
  it('accepts plain relative paths, including names that only look like reserved ones', () => {
    for (const ok of ['a', 'data/train', 'a/b/c.csv', '.gitignore', '.github/workflows/x', '.dvsignore', 'git', 'dvs', '.gitx', 'x.git', '..a', 'a..', '...x', 'g', 'd', 'gït', 'ü/ß']) {
      expect(pathProblem(ok), ok).toBeUndefined();
    }
  });

  it('refuses the root, absolute paths, empty, "." and ".." parts', () => {
    for (const bad of ['', '.', '/etc/passwd', 'C:\\x', 'c:/x', '..', '../a', 'a/..', 'a/../b', 'a//b', 'a/', './a', 'a/./b', 'a\0b']) {
      expect(pathProblem(bad)?.code, JSON.stringify(bad)).toMatch(/PATH_OUTSIDE_REPO|PATH_INVALID/);
    }
  });

  it('refuses .git and .dvs anywhere, as a case-insensitive file system would see them', () => {
    const names = ['.git', '.GIT', '.Git', '.git.', '.git ', '.git. .', 'GIT~1', 'git~1', '.dvs', '.DVS', '.dvs...', 'dvs~1', '.g\u200cit', '\ufeff.git', '.d\u200dvs'];
    for (const name of names) {
      for (const p of [name, `${name}/hooks/post-checkout`, `data/${name}`, `data/${name}/x`]) {
        expect(pathProblem(p)?.code, JSON.stringify(p)).toBe('PATH_RESERVED');
      }
    }
  });

  it('data paths of pointers also refuse control characters and names too long for a pointer', () => {
    expect(dataPathProblem('a\nb')?.code).toBe('PATH_INVALID');
    expect(dataPathProblem('a\tb')?.code).toBe('PATH_INVALID');
    expect(dataPathProblem('x'.repeat(251))).toBeUndefined();
    expect(dataPathProblem('x'.repeat(252))?.code).toBe('PATH_INVALID');
    // Bytes, not characters: 126 two-byte letters are 252 bytes.
    expect(dataPathProblem('é'.repeat(126))?.code).toBe('PATH_INVALID');
    expect(pathProblem('a\nb')).toBeUndefined(); // inside a directory a newline is a legal file name
  });
});

describe('PathGuard', () => {
  it('refuses data reached through a symbolic link or a non-folder, and a pointer that is a link', () => {
    const root = tempDir();
    mkdirSync(join(root, 'real/sub'), { recursive: true });
    symlinkSync('real', join(root, 'link'));
    writeFileSync(join(root, 'file'), 'x');
    writeFileSync(join(root, 'target.dvs'), 'x');
    symlinkSync('target.dvs', join(root, 'p.dvs'));
    const guard = new PathGuard(root);
    expect(guard.refusal('real/sub/data', 'real/sub/data.dvs')).toBeUndefined();
    expect(guard.refusal('not/yet/there')).toBeUndefined();
    expect(guard.refusal('link/sub/data')?.code).toBe('PATH_THROUGH_SYMLINK');
    expect(guard.refusal('link/sub/data')?.message).toContain('passes through a symbolic link (link)');
    expect(guard.refusal('file/data')?.code).toBe('PATH_THROUGH_SYMLINK');
    expect(guard.refusal('p', 'p.dvs')?.message).toContain('the pointer is a symbolic link');
    // The data path itself may be a link (to a file): reading follows it, writing replaces it.
    expect(guard.refusal('link')).toBeUndefined();
    const err = guard.refusal('.git', '.git.dvs')!;
    expect(err.code).toBe('PATH_RESERVED');
    expect(err.message).toBe('.git.dvs: refused: its data path ".git" is inside or is ".git", which dvs never touches');
    expect(err.hint).not.toMatch(/dvs (checkout|track)/);
  });
});
