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
  return git(repo, 'diff', '--cached', '--name-only', '--no-renames').split('\n').filter((f) => f && !f.startsWith('.dvs/audit/'));
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

describe('dvs remove', () => {
  it('drops a path inside a tracked directory from its manifest and keeps the file', async () => {
    const repo = await trackedRepo();
    const r = await dvs(repo, ['remove', 'data/sub/b.csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed  data/sub/b.csv from data (1 file deleted from its manifest; the data is still there) → data.dvs');
    expect(Object.keys(manifestOf(repo, 'data.dvs')).sort()).toEqual(['a.csv', 'sub/deep/c.csv']);
    expect(existsSync(join(repo, 'data/sub/b.csv'))).toBe(true);
    expect(staged(repo)).toEqual(['data.dvs']);
    expect(existsSync(join(repo, 'data.dvs'))).toBe(true);

    // A folder inside: every entry below it goes.
    const folder = json(await dvs(repo, ['remove', 'data/sub', '--json']));
    expect(folder.removed[0]).toMatchObject({ path: 'data/sub', pointerPath: 'data.dvs', inside: { owner: 'data', deleted: 1 }, deletedData: false });
    expect(Object.keys(manifestOf(repo, 'data.dvs'))).toEqual(['a.csv']);

    const none = await dvs(repo, ['remove', 'data/sub/b.csv']);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain("data's manifest has no entry there");

    // Named whole, by data and pointer, and by a path inside it: removed once, the rest has nothing to do.
    const all = json(await dvs(repo, ['remove', 'data/a.csv', 'data', 'data.dvs', '--json']));
    expect(all.removed.map((x: { path: string }) => x.path)).toEqual(['data']);
    expect(existsSync(join(repo, 'data.dvs'))).toBe(false);
  });

  it('--outs deletes data whose content is in the cache, refuses unsaved data without --force', async () => {
    const repo = await trackedRepo();
    writeTree(repo, { 'model.bin': 'weights' });
    expect((await dvs(repo, ['track', 'model.bin'])).code).toBe(0);

    // Unchanged file: the pointer and the data go, the .gitignore line too.
    const r = await dvs(repo, ['remove', '--outs', 'model.bin.dvs']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stopped tracking model.bin (deleted model.bin.dvs; deleted from the workspace)');
    expect(existsSync(join(repo, 'model.bin'))).toBe(false);
    expect(read(repo, '.gitignore')).not.toContain('/model.bin');

    // Inside a directory, a changed file is not in the cache: refused, nothing changed.
    writeTree(repo, { 'data/sub/b.csv': 'edited, not tracked' });
    const pointer = read(repo, 'data.dvs');
    const refused = await dvs(repo, ['remove', '--outs', 'data/sub/b.csv']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('dvs: error: data/sub/b.csv: data/sub/b.csv differs from the version recorded; not deleted, nothing was changed');
    expect(refused.stderr).toContain('--force');
    expect(read(repo, 'data.dvs')).toBe(pointer);
    expect(read(repo, 'data/sub/b.csv')).toBe('edited, not tracked');

    const forced = json(await dvs(repo, ['remove', '--outs', '--force', 'data/sub/b.csv', '--json']));
    expect(forced.removed[0]).toMatchObject({ deletedData: true, forced: true });
    expect(existsSync(join(repo, 'data/sub/b.csv'))).toBe(false);
    expect(existsSync(join(repo, 'data/sub/deep/c.csv'))).toBe(true);

    // A whole directory with a file added since it was tracked: refused (the new file is in no cache).
    writeTree(repo, { 'data/extra.csv': 'new' });
    expect((await dvs(repo, ['remove', '--outs', 'data'])).code).toBe(5);
    rmSync(join(repo, 'data/extra.csv'));
    // Unchanged: the files go, and a file .dvsignore keeps out of the directory (never dvs's) stays.
    writeFileSync(join(repo, '.dvsignore'), '*.tmp\n');
    writeTree(repo, { 'data/notes.tmp': 'mine' });
    const whole = await dvs(repo, ['remove', '--outs', 'data']);
    expect(whole.code).toBe(0);
    expect(existsSync(join(repo, 'data/a.csv'))).toBe(false);
    expect(existsSync(join(repo, 'data/sub'))).toBe(false);
    expect(read(repo, 'data/notes.tmp')).toBe('mine');
    expect(existsSync(join(repo, 'data.dvs'))).toBe(false);
  });
});

describe('dvs move', () => {
  it('renames a directory and its pointer, moves the .gitignore line, stages the rename', async () => {
    const repo = await trackedRepo();
    const pointer = read(repo, 'data.dvs');
    const r = await dvs(repo, ['move', 'data', 'datasets/train']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('renamed  data → datasets/train (data.dvs → datasets/train.dvs)');
    expect(read(repo, 'datasets/train/sub/b.csv')).toBe(DATA['data/sub/b.csv']);
    expect(existsSync(join(repo, 'data'))).toBe(false);
    expect(read(repo, 'datasets/train.dvs')).toBe(pointer);
    expect(read(repo, '.gitignore')).not.toMatch(/^\/data$/m);
    expect(read(repo, 'datasets/.gitignore')).toBe('/train\n');
    const status = git(repo, 'status', '--porcelain').split('\n').filter((l) => l && !l.includes('.dvs/audit/'));
    expect(status.sort()).toEqual(['A  datasets/.gitignore', 'M  .gitignore', 'R  data.dvs -> datasets/train.dvs']);
    // The data is what the pointer says: nothing to re-hash or record.
    const st = json(await dvs(repo, ['status', '--json']));
    expect(st.entries.map((e: { path: string; workspace: string }) => [e.path, e.workspace])).toEqual([['datasets/train', 'unchanged']]);
  });

  it('moves a file into an existing folder (alias mv), and a pointer whose data is not checked out', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'model.bin': 'weights', 'models/README': 'models here' });
    expect((await dvs(repo, ['track', 'model.bin'])).code).toBe(0);
    const r = json(await dvs(repo, ['mv', 'model.bin.dvs', 'models', '--json']));
    expect(r).toMatchObject({ from: { path: 'model.bin', pointerPath: 'model.bin.dvs' }, to: { path: 'models/model.bin', pointerPath: 'models/model.bin.dvs' }, kind: 'file', movedData: true, lineage: [] });
    expect(read(repo, 'models/model.bin')).toBe('weights');

    rmSync(join(repo, 'models/model.bin'));
    const gone = await dvs(repo, ['mv', 'models/model.bin', 'archive/']);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain('only the pointer moved');
    expect(existsSync(join(repo, 'archive/model.bin.dvs'))).toBe(true);
  });

  it('refuses an existing destination (5), one outside the repository (3), into itself (2), untracked data (4)', async () => {
    const repo = await trackedRepo();
    writeTree(repo, { 'taken.csv': 'x', 'other/data': 'a file named like the data' });
    const cases: Array<[string[], number, RegExp]> = [
      [['move', 'data', 'taken.csv'], 5, /taken\.csv already exists; nothing was moved/],
      [['move', 'data', 'other'], 5, /other\/data already exists/],
      [['move', 'data', '../elsewhere'], 3, /outside the repository/],
      [['move', 'data', 'data/inner'], 2, /inside data, the data being moved/],
      [['move', 'data', '.git/x'], 3, /inside \.git\//],
      [['move', 'taken.csv', 'moved.csv'], 4, /not tracked by dvs/],
      [['move', 'data/a.csv', 'a.csv'], 5, /inside the tracked directory data/],
    ];
    for (const [args, code, message] of cases) {
      const r = await dvs(repo, args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
    }
    expect(existsSync(join(repo, 'data.dvs'))).toBe(true);
    expect(existsSync(join(repo, 'data/a.csv'))).toBe(true);
  });

  it('rewrites lineage records naming the old path; the audit trail still verifies', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'raw/parts/p1.csv': 'id\n1\n', 'out.csv': 'id\n1\n' });
    expect((await dvs(repo, ['track', 'raw/parts'])).code).toBe(0);
    const rec = await dvs(repo, ['lineage', 'record', '--name', 'export', '-i', 'raw/parts', '-o', 'out.csv', '--command', 'export.py']);
    expect(rec.code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'data and lineage');

    const r = json(await dvs(repo, ['move', 'raw/parts', 'raw/parts-2024', '--json']));
    expect(r.lineage).toEqual(['out.csv.dvs']);
    expect(read(repo, 'out.csv.dvs')).toContain('path: raw/parts-2024');
    expect(read(repo, 'out.csv.dvs')).not.toMatch(/path: raw\/parts\n/);
    expect(staged(repo)).toEqual(expect.arrayContaining(['out.csv.dvs', 'raw/parts-2024.dvs', 'raw/parts.dvs']));

    const show = json(await dvs(repo, ['lineage', 'show', 'out.csv', '--json']));
    expect(JSON.stringify(show.sources)).toContain('raw/parts-2024');
    const verify = await dvs(repo, ['audit', 'verify']);
    expect(verify.stdout).toContain('The audit trail verifies.');
    expect(verify.code).toBe(0);
  });
});
