// dvs reads Git's index itself to learn what Git tracks under `.dvs/` (a `git ls-files` process costs most
// of a post-checkout hook's budget, and every checkout rewrites the index). These tests hold the reader's
// answer against `git ls-files --stage` on real indexes of every version and object format, and check that
// what it does not handle (split index, sparse directory entries, damaged files) is left to Git.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexEntriesUnder } from '../../src/repo/git-index.js';
import { dvsDirTrust } from '../../src/repo/trust.js';
import { cleanupTempDirs, git, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

function write(dir: string, path: string, content = `${path}\n`): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), content);
}

/** A repository whose index has `.dvs` entries among neighbours that sort just before and after them. */
function repo(initArgs: string[] = []): string {
  const dir = tempDir('dvs-gitindex-');
  git(dir, 'init', '-q', '-b', 'main', ...initArgs);
  for (const p of ['.dvr', '.dvs-x', '.dvs.txt', '.dvs/config', '.dvs/config.local', '.dvs/runs/r1.yaml', '.dvs/tmp/placed.json', '.dvsa', 'a/.dvs/config', 'données/é.txt', 'z']) write(dir, p);
  symlinkSync('/etc', join(dir, '.dvs', 'cache'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

/** What Git says: the same question, asked of `git ls-files`. */
function askGit(dir: string, folder = '.dvs'): { path: string; mode: string }[] {
  return git(dir, 'ls-files', '--stage', '-z', '--', `:(literal)${folder}`)
    .split('\0')
    .filter(Boolean)
    .map((rec) => ({ mode: rec.slice(0, 6), path: rec.slice(rec.indexOf('\t') + 1) }));
}

const index = (dir: string) => readFileSync(join(dir, '.git', 'index'));
const version = (dir: string) => index(dir).readUInt32BE(4);

describe('reading Git index entries under a folder', () => {
  it('agrees with git ls-files on a version 2 index, neighbours and a nested .dvs excluded', () => {
    const dir = repo();
    expect(version(dir)).toBe(2);
    const found = indexEntriesUnder(index(dir), '.dvs');
    expect(found).toEqual(askGit(dir));
    expect(found?.map((e) => e.path)).toEqual(['.dvs/cache', '.dvs/config', '.dvs/config.local', '.dvs/runs/r1.yaml', '.dvs/tmp/placed.json']);
    expect(found?.[0].mode).toBe('120000');
    expect(indexEntriesUnder(index(dir), 'données')).toEqual(askGit(dir, 'données'));
  });

  it('agrees on version 3 (extended flags) and version 4 (prefix-compressed paths)', () => {
    const dir = repo();
    write(dir, '.dvs/intent');
    git(dir, 'add', '-N', '.dvs/intent');
    expect(version(dir)).toBe(3);
    expect(indexEntriesUnder(index(dir), '.dvs')).toEqual(askGit(dir));
    git(dir, 'update-index', '--index-version', '4');
    expect(version(dir)).toBe(4);
    expect(indexEntriesUnder(index(dir), '.dvs')).toEqual(askGit(dir));
    expect(askGit(dir).map((e) => e.path)).toContain('.dvs/intent');
  });

  it('reads paths longer than the 12-bit length field, in versions 2 and 4', () => {
    const dir = repo();
    const blob = git(dir, 'hash-object', '-w', '--stdin').trim();
    const long = `.dvs/${'d'.repeat(200)}/${'n'.repeat(4500)}`;
    git(dir, 'update-index', '--add', '--cacheinfo', `100755,${blob},${long}`);
    git(dir, 'update-index', '--add', '--cacheinfo', `100644,${blob},.dvs/${'d'.repeat(200)}/short`);
    expect(indexEntriesUnder(index(dir), '.dvs')).toEqual(askGit(dir));
    expect(indexEntriesUnder(index(dir), '.dvs')?.map((e) => e.path)).toContain(long);
    git(dir, 'update-index', '--index-version', '4');
    expect(indexEntriesUnder(index(dir), '.dvs')).toEqual(askGit(dir));
  });

  it('agrees on a SHA-256 repository', () => {
    const dir = repo(['--object-format=sha256']);
    expect(indexEntriesUnder(index(dir), '.dvs')).toEqual(askGit(dir));
    git(dir, 'update-index', '--index-version', '4');
    expect(indexEntriesUnder(index(dir), '.dvs')).toEqual(askGit(dir));
  });

  it('lists every stage of a conflicted entry, as Git does', () => {
    const dir = repo();
    git(dir, 'checkout', '-q', '-b', 'other');
    write(dir, '.dvs/config', 'theirs\n');
    git(dir, 'commit', '-q', '-am', 'theirs');
    git(dir, 'checkout', '-q', 'main');
    write(dir, '.dvs/config', 'ours\n');
    git(dir, 'commit', '-q', '-am', 'ours');
    expect(() => git(dir, 'merge', '-q', 'other')).toThrow();
    const found = indexEntriesUnder(index(dir), '.dvs');
    expect(found).toEqual(askGit(dir));
    expect(found?.filter((e) => e.path === '.dvs/config')).toHaveLength(3);
  });

  it('leaves a split index and a sparse directory entry over the folder to Git', () => {
    const split = repo();
    git(split, 'update-index', '--split-index');
    expect(indexEntriesUnder(index(split), '.dvs')).toBeUndefined();

    const sparse = repo();
    git(sparse, 'sparse-checkout', 'set', '--cone', '--sparse-index', 'a');
    const raw = index(sparse);
    expect(raw.includes(Buffer.from('.dvs/\0'))).toBe(true); // the folder is one sparse directory entry
    expect(indexEntriesUnder(raw, '.dvs')).toBeUndefined();
    // A sparse entry elsewhere does not hide the folder's own entries.
    expect(indexEntriesUnder(raw, 'a')).toEqual(askGit(sparse, 'a'));
  });

  it('gives no answer for a damaged index rather than a wrong one', () => {
    const raw = index(repo());
    expect(indexEntriesUnder(raw.subarray(0, raw.length - 30), '.dvs')).toBeUndefined();
    expect(indexEntriesUnder(Buffer.concat([raw, Buffer.alloc(3)]), '.dvs')).toBeUndefined();
    expect(indexEntriesUnder(Buffer.from('DIRX', 'latin1'), '.dvs')).toBeUndefined();
    const v9 = Buffer.from(raw);
    v9.writeUInt32BE(9, 4);
    expect(indexEntriesUnder(v9, '.dvs')).toBeUndefined();
  });

  it('lets dvs see foreign .dvs files without starting Git', () => {
    const dir = repo();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(dvsDirTrust(dir).foreign.map((e) => e.path)).toEqual(['.dvs/cache', '.dvs/config.local', '.dvs/tmp/placed.json']);
    } finally {
      process.env.PATH = path;
    }
  });
});
