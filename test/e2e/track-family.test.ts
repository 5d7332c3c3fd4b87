import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const DATA = {
  'data/a.csv': 'id,x\n1,2\n',
  'data/sub/b.csv': 'id,x\n3,4\n',
  'data/sub/deep/c.csv': 'id,x\n5,6\n',
};

/** A repository with data/ tracked and committed. */
async function trackedRepo(): Promise<string> {
  const repo = gitRepo();
  writeTree(repo, DATA);
  expect((await dvs(repo, ['track', 'data'])).code).toBe(0);
  git(repo, 'commit', '-q', '-m', 'track data');
  return repo;
}

/** The files a directory's manifest lists, read from the cache through `dvs status --json`-free means. */
function manifestOf(repo: string, pointerPath: string): Record<string, string> {
  const oid = /oid: sha256:([0-9a-f]{64})/.exec(read(repo, pointerPath))![1];
  const text = readFileSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n').slice(1, -1)) out[line.slice(line.indexOf(' ', 65) + 3)] = line.slice(0, 64);
  return out;
}

function staged(repo: string): string[] {
  return git(repo, 'diff', '--cached', '--name-only').split('\n').filter((f) => f && !f.startsWith('.dvs/audit/'));
}

describe('dvs track <path inside a tracked directory>', () => {
  it('updates only that file\'s entry: other changes in the directory stay unrecorded', async () => {
    const repo = await trackedRepo();
    const before = manifestOf(repo, 'data.dvs');
    writeTree(repo, { 'data/sub/b.csv': 'id,x\n3,40\n', 'data/a.csv': 'id,x\n1,20\n' });

    const r = await dvs(repo, ['track', 'data/sub/b.csv', '--json']);
    expect(r.code).toBe(0);
    const item = json(r).items[0];
    expect(item).toMatchObject({ path: 'data', pointerPath: 'data.dvs', kind: 'dir', files: 3, changed: true, hashedFiles: 1, inside: { path: 'data/sub/b.csv', added: 0, deleted: 0, modified: 1 } });
    const after = manifestOf(repo, 'data.dvs');
    expect(after['sub/b.csv']).not.toBe(before['sub/b.csv']);
    expect(after['a.csv']).toBe(before['a.csv']); // modified in the workspace, not named: still the old version
    expect(after['sub/deep/c.csv']).toBe(before['sub/deep/c.csv']);
    expect(staged(repo)).toEqual(['data.dvs']);
    expect(read(repo, '.gitignore')).not.toContain('b.csv');
    expect(existsSync(join(repo, 'data/sub/b.csv.dvs'))).toBe(false);

    const status = json(await dvs(repo, ['status', '--granular', '--json']));
    expect(JSON.stringify(status)).toContain('a.csv');
    expect(JSON.stringify(status)).not.toContain('b.csv');

    // Text output names the file, the directory and the pointer.
    writeTree(repo, { 'data/sub/new.csv': 'id\n9\n' });
    const text = await dvs(repo, ['track', 'data/sub/new.csv']);
    expect(text.stdout).toContain('tracked  data/sub/new.csv in data (1 file added; hashed 1 file) → data.dvs');
  });

  it('tracks a subfolder: its added, changed and deleted files, nothing outside it', async () => {
    const repo = await trackedRepo();
    const before = manifestOf(repo, 'data.dvs');
    writeTree(repo, { 'data/sub/new.csv': 'id\n7\n', 'data/sub/deep/c.csv': 'id,x\n5,60\n', 'data/other.csv': 'not named' });
    rmSync(join(repo, 'data/sub/b.csv'));

    const r = json(await dvs(repo, ['track', 'data/sub/', '--json']));
    expect(r.items[0].inside).toEqual({ path: 'data/sub', added: 1, deleted: 1, modified: 1 });
    const after = manifestOf(repo, 'data.dvs');
    expect(Object.keys(after).sort()).toEqual(['a.csv', 'sub/deep/c.csv', 'sub/new.csv']);
    expect(after['sub/deep/c.csv']).not.toBe(before['sub/deep/c.csv']);
    expect(read(repo, 'data.dvs')).toMatch(/files: 3\n/);
  });

  it('drops the entry of a deleted file, and refuses a path the manifest never had', async () => {
    const repo = await trackedRepo();
    rmSync(join(repo, 'data/sub/b.csv'));
    const r = await dvs(repo, ['track', 'data/sub/b.csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 file deleted');
    expect(Object.keys(manifestOf(repo, 'data.dvs'))).not.toContain('sub/b.csv');
    expect(read(repo, 'data.dvs')).toMatch(/files: 2\n/);

    const missing = await dvs(repo, ['track', 'data/sub/never.csv']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("data/sub/never.csv: not in the workspace, and data's manifest has no entry there");
  });

  it('is up to date when the file did not change, and leaves a file .dvsignore excludes alone', async () => {
    const repo = await trackedRepo();
    const pointer = read(repo, 'data.dvs');
    const same = json(await dvs(repo, ['track', 'data/a.csv', '--json']));
    expect(same.items[0]).toMatchObject({ changed: false, inside: { added: 0, deleted: 0, modified: 0 } });
    expect(read(repo, 'data.dvs')).toBe(pointer);

    writeFileSync(join(repo, '.dvsignore'), '*.tmp\n');
    writeTree(repo, { 'data/sub/x.tmp': 'scratch' });
    const ignored = await dvs(repo, ['track', 'data/sub/x.tmp']);
    expect(ignored.code).toBe(3);
    expect(ignored.stderr).toContain('ignored by .dvsignore');
    expect(read(repo, 'data.dvs')).toBe(pointer);
  });

  it('checks every target before writing anything', async () => {
    const repo = await trackedRepo();
    const pointer = read(repo, 'data.dvs');
    writeTree(repo, { 'data/a.csv': 'changed' });
    const r = await dvs(repo, ['track', 'data/a.csv', 'data/nope.csv']);
    expect(r.code).toBe(4);
    expect(read(repo, 'data.dvs')).toBe(pointer);
  });
});
