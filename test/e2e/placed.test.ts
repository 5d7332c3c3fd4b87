import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

/**
 * A repository whose main branch has no data, and a branch `with-data` that tracks `tree` (data paths
 * given in `track`). Returns with `with-data` checked out.
 */
async function branchWithData(tree: Record<string, string>, track: string[], options: { hooks?: boolean } = {}): Promise<string> {
  const repo = gitRepo();
  if (options.hooks) {
    expect((await dvs(repo, ['install'])).code).toBe(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'dvs install');
  }
  git(repo, 'checkout', '-q', '-b', 'with-data');
  writeTree(repo, tree);
  const r = await dvs(repo, ['track', ...track]);
  expect(r.code, r.stderr).toBe(0);
  git(repo, 'commit', '-q', '-m', 'data');
  return repo;
}

async function checkoutJson(repo: string) {
  const r = await dvs(repo, ['checkout', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return json(r);
}

describe('data whose pointer is gone', () => {
  it('dvs checkout removes a file dvs placed once git checkout drops its pointer, and says so', async () => {
    const repo = await branchWithData({ 'data/old.csv': 'a,b\n1,2\n', 'notes.txt': 'mine\n' }, ['data/old.csv']);
    git(repo, 'checkout', '-q', 'main');
    // Without hooks Git leaves the ignored data behind.
    expect(existsSync(join(repo, 'data/old.csv'))).toBe(true);
    const r = await dvs(repo, ['checkout']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('deleted data/old.csv (its pointer is gone)');
    expect(existsSync(join(repo, 'data/old.csv'))).toBe(false);
    // A file dvs never placed is not touched.
    expect(read(repo, 'notes.txt')).toBe('mine\n');
    // Back on the branch, the data comes back from the cache; leaving again removes it again (recorded by checkout).
    git(repo, 'checkout', '-q', 'with-data');
    expect((await checkoutJson(repo)).added).toEqual(['data/old.csv']);
    git(repo, 'checkout', '-q', 'main');
    expect((await checkoutJson(repo)).orphaned).toEqual([{ path: 'data/old.csv', kind: 'file', files: 1 }]);
    expect(existsSync(join(repo, 'data/old.csv'))).toBe(false);
  });

  it('removes the files of a directory dvs checked out, and the folders left empty', async () => {
    const repo = await branchWithData({ 'set/a.csv': '1\n', 'set/sub/b.csv': '2\n' }, ['set']);
    // Placed by checkout this time, not by track.
    rmSync(join(repo, 'set'), { recursive: true });
    expect((await checkoutJson(repo)).added.sort()).toEqual(['set/a.csv', 'set/sub/b.csv']);
    git(repo, 'checkout', '-q', 'main');
    const out = await checkoutJson(repo);
    expect(out.orphaned).toEqual([{ path: 'set', kind: 'dir', files: 2 }]);
    expect(out.warnings).toEqual([]);
    expect(existsSync(join(repo, 'set'))).toBe(false);
  });

  it('keeps modified data, with a warning saying why', async () => {
    const repo = await branchWithData({ 'data/old.csv': 'a\n1\n', 'set/a.csv': '1\n', 'set/b.csv': '2\n' }, ['data/old.csv', 'set']);
    git(repo, 'checkout', '-q', 'main');
    writeFileSync(join(repo, 'data/old.csv'), 'a\n1\n2\n');
    writeFileSync(join(repo, 'set/b.csv'), '22\n');
    writeFileSync(join(repo, 'set/c.csv'), 'added by hand\n');
    const r = await dvs(repo, ['checkout']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('dvs: warning: data/old.csv: its pointer is gone, but it was changed or replaced since dvs placed it; left as it is');
    expect(r.stderr).toContain('dvs: warning: set: its pointer is gone; removed 1 file dvs placed; kept 2 files');
    expect(read(repo, 'data/old.csv')).toBe('a\n1\n2\n');
    // Only the unchanged file of the directory went.
    expect(readdirSync(join(repo, 'set')).sort()).toEqual(['b.csv', 'c.csv']);
    expect(read(repo, 'set/b.csv')).toBe('22\n');
    // Told once: what is left is the user's now, and the next checkout is quiet.
    const again = await checkoutJson(repo);
    expect(again.warnings).toEqual([]);
    expect(again.orphaned).toEqual([]);
  });

  it('never deletes a file the user made at a path where dvs once placed something else', async () => {
    const repo = await branchWithData({ 'data/old.csv': 'dvs placed this\n' }, ['data/old.csv']);
    git(repo, 'checkout', '-q', 'main');
    rmSync(join(repo, 'data/old.csv'));
    // Same size as what dvs placed: only the stamp and the content tell them apart.
    writeFileSync(join(repo, 'data/old.csv'), 'the user made it\n');
    const out = await checkoutJson(repo);
    expect(out.orphaned).toEqual([]);
    expect(out.warnings.map((w: { code: string; path: string }) => [w.code, w.path])).toEqual([['POINTER_GONE_MODIFIED', 'data/old.csv']]);
    expect(read(repo, 'data/old.csv')).toBe('the user made it\n');
  });

  it('keeps data whose pointer was removed with dvs remove, and removes nothing with a corrupt record', async () => {
    const repo = await branchWithData({ 'kept.csv': '1\n', 'other.csv': '2\n' }, ['kept.csv', 'other.csv']);
    expect((await dvs(repo, ['remove', 'kept.csv.dvs'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'stop tracking kept.csv');
    expect((await checkoutJson(repo)).orphaned).toEqual([]);
    expect(read(repo, 'kept.csv')).toBe('1\n');

    const record = join(repo, '.dvs/tmp/placed.json');
    expect(JSON.parse(read(repo, '.dvs/tmp/placed.json')).entries).toHaveProperty('other.csv');
    writeFileSync(record, '{"version": 1, "entries": {"other.csv": {"kind": "file", "oid": "nope"}}');
    git(repo, 'checkout', '-q', 'main');
    expect((await checkoutJson(repo)).orphaned).toEqual([]);
    expect(read(repo, 'other.csv')).toBe('2\n');
  });

  it('data inside a directory tracked now is not taken for an orphan', async () => {
    const repo = await branchWithData({ 'data/x.csv': 'x\n' }, ['data/x.csv']);
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'checkout', '-q', '-b', 'whole-dir');
    writeTree(repo, { 'data/y.csv': 'y\n' });
    rmSync(join(repo, 'data/.gitignore'), { force: true });
    expect((await dvs(repo, ['track', 'data'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'data as a directory');
    const out = await checkoutJson(repo);
    expect(out.orphaned).toEqual([]);
    expect(out.warnings).toEqual([]);
    expect(read(repo, 'data/x.csv')).toBe('x\n');
  });

  it('dvs pull over the whole repository removes it too, and a pull of named paths does not', async () => {
    const repo = await branchWithData({ 'data/old.csv': 'x\n' }, ['data/old.csv']);
    expect((await dvs(repo, ['remote', 'add', '--local', 'origin', join(tempDir(), 'store')])).code).toBe(0);
    expect((await dvs(repo, ['push'])).code).toBe(0);
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'kept.csv': 'k\n' });
    expect((await dvs(repo, ['track', 'kept.csv'])).code).toBe(0);
    expect((await dvs(repo, ['pull', 'kept.csv'])).code).toBe(0);
    expect(existsSync(join(repo, 'data/old.csv'))).toBe(true);
    const r = await dvs(repo, ['pull', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r).checkout.orphaned).toEqual([{ path: 'data/old.csv', kind: 'file', files: 1 }]);
    expect(existsSync(join(repo, 'data/old.csv'))).toBe(false);
    expect(read(repo, 'kept.csv')).toBe('k\n');
  });

  it('the post-checkout hook removes data whose pointer is gone too', async () => {
    const repo = await branchWithData({ 'data/old.csv': 'x\n', 'set/a.csv': '1\n' }, ['data/old.csv', 'set'], { hooks: true });
    const r = git(repo, 'checkout', '-q', 'main');
    expect(r).toBe('');
    expect(existsSync(join(repo, 'data/old.csv'))).toBe(false);
    expect(existsSync(join(repo, 'set'))).toBe(false);
    // And back: the hook checks the data out again, from the cache.
    git(repo, 'checkout', '-q', 'with-data');
    expect(read(repo, 'data/old.csv')).toBe('x\n');
    expect(read(repo, 'set/a.csv')).toBe('1\n');
  });
});

describe('dvs pull --allow-missing', () => {
  it('pulls the rest and lists what the remote lacks as warnings; without the flag the pull fails as before', async () => {
    const repo = gitRepo();
    const store = join(tempDir(), 'store');
    expect((await dvs(repo, ['remote', 'add', '-d', 'origin', store])).code).toBe(0);
    writeTree(repo, { 'a.csv': 'present\n', 'b.csv': 'lost on the remote\n', 'set/x.csv': 'x\n', 'set/y.csv': 'y lost\n' });
    expect((await dvs(repo, ['track', 'a.csv', 'b.csv', 'set'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'data');
    expect((await dvs(repo, ['push'])).code).toBe(0);
    const oidOf = (pointer: string) => /sha256:([0-9a-f]{64})/.exec(read(repo, pointer))![1];
    const manifest = read(repo, 'set.dvs');
    expect(manifest).toContain('kind: dir');
    const b = oidOf('b.csv.dvs');
    rmSync(join(store, b.slice(0, 2), b.slice(2)));
    // y.csv's object: hashed the way dvs does (sha256 of the bytes).
    const { createHash } = await import('node:crypto');
    const y = createHash('sha256').update('y lost\n').digest('hex');
    rmSync(join(store, y.slice(0, 2), y.slice(2)));
    // (A pull that meets the 404 also withdraws set's manifest from the remote, which vouched for y.csv: the
    // first pull below is the one that can still place set/x.csv.)
    const fresh = () => {
      for (const p of ['a.csv', 'b.csv', 'set', '.dvs/cache']) rmSync(join(repo, p), { recursive: true, force: true });
    };

    fresh();
    const r = await dvs(repo, ['pull', '--allow-missing', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out.missing.sort()).toEqual(['b.csv', 'set/y.csv']);
    expect(out.fetch.failures).toEqual([]);
    expect(out.checkout.failures).toEqual([]);
    const warned = [...out.fetch.warnings, ...out.checkout.warnings].map((w: { path: string }) => w.path).sort();
    expect(warned).toEqual(['b.csv', 'set/y.csv']);
    expect(read(repo, 'a.csv')).toBe('present\n');
    expect(read(repo, 'set/x.csv')).toBe('x\n');
    expect(existsSync(join(repo, 'set/y.csv'))).toBe(false);

    // Without the flag, as before: exit 8, the rest still checked out.
    fresh();
    const failing = await dvs(repo, ['pull']);
    expect(failing.code).toBe(8);
    expect(failing.stderr).toContain('b.csv');
    expect(existsSync(join(repo, 'b.csv'))).toBe(false);
    expect(read(repo, 'a.csv')).toBe('present\n');

    fresh();
    const human = await dvs(repo, ['pull', '--allow-missing']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toMatch(/dvs: warning: b\.csv: object [0-9a-f]+ is not on remote "origin"; not pulled \(--allow-missing\)/);
  });
});
