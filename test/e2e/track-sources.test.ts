// `dvs track` from other sources than a path in the workspace: glob patterns (--glob), data outside the
// repository (-o/--out), and data sent straight to a remote (--to-remote).
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, writeTree, type Tree } from '../helpers.js';

/** A dvs repository with `data` in its workspace, not yet tracked by anything. */
function repoWith(data: Tree): string {
  const repo = gitRepo();
  writeTree(repo, data);
  return repo;
}

afterAll(cleanupTempDirs);

describe('dvs track --glob', () => {
  it('tracks what the patterns match, relative to the current folder, each with its own pointer', async () => {
    const repo = repoWith({
      'data/a.csv': 'a\n',
      'data/b.csv': 'b\n',
      'data/notes.txt': 'n\n',
      'data/.hidden.csv': 'h\n',
      'data/deep/c.csv': 'c\n',
      'data/deep/more/d.csv': 'd\n',
    });
    const r = await dvs(repo, ['track', '--glob', 'data/*.csv', '--json']);
    expect(r.code).toBe(0);
    expect(json(r).items.map((i: { path: string }) => i.path)).toEqual(['data/a.csv', 'data/b.csv']);
    expect(existsSync(join(repo, 'data/a.csv.dvs'))).toBe(true);
    expect(existsSync(join(repo, 'data/.hidden.csv.dvs'))).toBe(false); // `*` skips dot files, as a shell does
    expect(read(repo, 'data/.gitignore')).toContain('/a.csv');

    // `**` from a subfolder; pointers matched by a pattern are never data.
    const deep = await dvs(join(repo, 'data'), ['track', '--glob', 'deep/**/*.csv', '*.csv', '--json']);
    expect(deep.code).toBe(0);
    const paths = json(deep).items.map((i: { path: string }) => i.path);
    expect(paths).toEqual(['data/deep/c.csv', 'data/deep/more/d.csv', 'data/a.csv', 'data/b.csv']);
    expect(json(deep).items.filter((i: { changed: boolean }) => i.changed).length).toBe(2);
  });

  it('keeps only the outer match when one match holds another, and never walks into .git or .dvs', async () => {
    const repo = repoWith({ 'raw/x/1.bin': '1', 'raw/x/2.bin': '2', 'raw/y.bin': 'y' });
    const r = await dvs(repo, ['track', '--glob', 'raw/**', '--json']);
    expect(r.code).toBe(0);
    expect(json(r).items.map((i: { path: string; kind: string }) => `${i.path}:${i.kind}`)).toEqual(['raw/x:dir', 'raw/y.bin:file']);
    const all = await dvs(repo, ['track', '--glob', '.*/**']);
    expect(all.code).toBe(4);
    expect(all.stderr).toContain('dvs: error: .*/**: matches no file or folder');
  });

  it('a pattern that matches nothing fails with exit 4 and tracks nothing, even when another pattern matches', async () => {
    const repo = repoWith({ 'data/a.csv': 'a\n' });
    const r = await dvs(repo, ['track', '--glob', 'data/*.csv', 'data/*.parquet']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("dvs: error: data/*.parquet: matches no file or folder");
    expect(r.stderr).toContain('hint:');
    expect(existsSync(join(repo, 'data/a.csv.dvs'))).toBe(false);
    const plain = await dvs(repo, ['track', 'data/*.csv']); // without --glob, a name like any other
    expect(plain.code).toBe(4);
  });

  it('refuses patterns that reach outside the repository or through a linked folder', async () => {
    const repo = repoWith({ 'data/a.csv': 'a\n' });
    const outside = await dvs(repo, ['track', '--glob', '../*']);
    expect(outside.code).toBe(3);
    expect(outside.stderr).toContain('outside the repository');
    mkdirSync(join(repo, 'real'));
    symlinkSync(join(repo, 'data'), join(repo, 'linked'));
    const through = await dvs(repo, ['track', '--glob', 'linked/*.csv']);
    expect(through.code).not.toBe(0);
    expect(through.code).not.toBe(70);
    expect(existsSync(join(repo, 'data/a.csv.dvs'))).toBe(false);
    const negated = await dvs(repo, ['track', '--glob', '!data/*.csv']);
    expect(negated.code).toBe(2);
  });

  it('stages the pointers it writes', async () => {
    const repo = repoWith({ 'm/a.bin': 'a', 'm/b.bin': 'b' });
    const r = await dvs(repo, ['track', '--glob', 'm/?.bin']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('tracked  m/a.bin');
    expect(git(repo, 'diff', '--cached', '--name-only').split('\n')).toEqual(expect.arrayContaining(['m/a.bin.dvs', 'm/b.bin.dvs', 'm/.gitignore']));
    expect(readFileSync(join(repo, 'm/.gitignore'), 'utf8')).toContain('/b.bin');
  });
});
