import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const DATA = {
  'data/train/a.csv': 'id,x\n1,2\n',
  'data/train/b.csv': 'id,x\n3,4\n',
  'data/train/sub/c.csv': 'id,x\n5,6\n',
  'data/train/.DS_Store': 'junk',
  'model.bin': 'weights-v1',
};

describe('dvs --version and --help', () => {
  it('prints the package version, anywhere, and the command list', async () => {
    const dir = tempDir();
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    const v = await dvs(dir, ['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`${pkg.version}\n`);
    const h = await dvs(dir, ['--help']);
    expect(h.code).toBe(0);
    for (const verb of ['init', 'track', 'status', 'checkout', 'push', 'diff', 'transform', 'audit']) expect(h.stdout).toContain(`dvs ${verb}`);
  });
});

describe('dvs init', () => {
  it('creates .dvs/ and its ignore rules, and is harmless twice', async () => {
    const repo = gitRepo({}, { init: false });
    const first = await dvs(repo, ['init']);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Initialised dvs');
    for (const f of ['.dvs/config', '.dvs/.gitignore', '.dvsignore']) expect(existsSync(join(repo, f))).toBe(true);
    expect(read(repo, '.dvs/.gitignore')).toContain('/config.local');
    expect(git(repo, 'status', '--porcelain')).toContain('A  .dvs/config');
    const config = read(repo, '.dvs/config');
    const second = await dvs(repo, ['init']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('already set up');
    expect(read(repo, '.dvs/config')).toBe(config);
  });

  it('refuses outside a Git repository', async () => {
    const dir = tempDir();
    const r = await dvs(dir, ['init']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('is not inside a Git repository');
    expect(r.stderr).toContain('hint: dvs versions data next to code in Git');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('commands outside a dvs repository say so', async () => {
    const repo = gitRepo({}, { init: false });
    const r = await dvs(repo, ['status']);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('Not inside a dvs repository');
  });
});

describe('dvs track', () => {
  it('tracks a directory and a file: pointers, .gitignore, staging, cache', async () => {
    const repo = gitRepo(DATA);
    git(repo, 'rm', '-q', '-r', '--cached', 'data', 'model.bin');
    git(repo, 'commit', '-q', '-m', 'untrack');
    const r = await dvs(repo, ['track', 'data/train', 'model.bin', '--json']);
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.items).toHaveLength(2);
    const dir = out.items[0];
    expect(dir).toMatchObject({ path: 'data/train', pointerPath: 'data/train.dvs', kind: 'dir', files: 3, changed: true, hashedFiles: 3 });
    const pointer = read(repo, 'data/train.dvs');
    expect(pointer).toMatch(/^version: 1\nkind: dir\noid: sha256:[0-9a-f]{64}\nsize: 27\nfiles: 3\n$/m);
    expect(read(repo, 'data/.gitignore')).toBe('/train\n');
    expect(read(repo, '.gitignore')).toContain('/model.bin');
    const staged = git(repo, 'diff', '--cached', '--name-only').split('\n');
    expect(staged).toEqual(expect.arrayContaining(['data/train.dvs', 'data/.gitignore', 'model.bin.dvs', '.gitignore']));
    // .DS_Store is in the default .dvsignore
    const manifestOid = dir.oid as string;
    const manifest = readFileSync(join(repo, '.dvs/cache', manifestOid.slice(0, 2), manifestOid.slice(2)), 'utf8');
    expect(manifest).toContain(' a.csv\n');
    expect(manifest).toContain(' sub/c.csv\n');
    expect(manifest).not.toContain('.DS_Store');
    const fileOid = out.items[1].oid as string;
    const obj = join(repo, '.dvs/cache', fileOid.slice(0, 2), fileOid.slice(2));
    expect(readFileSync(obj, 'utf8')).toBe('weights-v1');
    expect(statSync(obj).mode & 0o222).toBe(0);
  });

  it('re-tracking unchanged data reads nothing', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/x.bin': 'x'.repeat(1000), 'd/y.bin': 'y'.repeat(1000) });
    // Back-date the files past the racy window so the stat cache may vouch for them.
    await new Promise((r) => setTimeout(r, 150));
    expect((await dvs(repo, ['track', 'd'])).code).toBe(0);
    const again = json(await dvs(repo, ['track', 'd', '--json']));
    expect(again.items[0]).toMatchObject({ changed: false, hashedFiles: 0, hashedBytes: 0 });
    writeFileSync(join(repo, 'd/y.bin'), 'z'.repeat(1000));
    await new Promise((r) => setTimeout(r, 150));
    const changed = json(await dvs(repo, ['track', 'd', '--json']));
    expect(changed.items[0]).toMatchObject({ changed: true, hashedFiles: 1, hashedBytes: 1000 });
  });

  it('prints the git add line when autostage is off', async () => {
    const repo = gitRepo({ 'f.txt.in': '' });
    expect((await dvs(repo, ['config', 'core.autostage', 'false'])).code).toBe(0);
    writeFileSync(join(repo, 'f.bin'), 'abc');
    const r = await dvs(repo, ['track', 'f.bin']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('To record this in Git: git add f.bin.dvs .gitignore');
    expect(git(repo, 'diff', '--cached', '--name-only')).toBe('');
  });

  it('refuses what it must not track, with exit codes and hints', async () => {
    const repo = gitRepo({ 'code.py': 'print(1)\n' });
    writeTree(repo, { 'd/a.txt': 'a' });
    expect((await dvs(repo, ['track', 'd'])).code).toBe(0);

    const cases: Array<[string[], number, RegExp]> = [
      [['track', 'missing.csv'], 4, /No such file or directory: missing\.csv/],
      [['track', '.git/config'], 3, /inside \.git\//],
      [['track', '.dvs/config'], 3, /inside \.dvs\//],
      [['track', '../outside'], 3, /outside the repository/],
      [['track', 'd/none.txt'], 4, /d's manifest has no entry there/],
      [['track', 'code.py'], 5, /already tracked by Git/],
      [['track', 'd.dvs'], 2, /is a dvs pointer, not data/],
      [['track'], 2, /Not enough non-option arguments|Nothing to track/],
    ];
    for (const [args, code, message] of cases) {
      const r = await dvs(repo, args);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(join(repo, 'code.py.dvs'))).toBe(false);
  });

  it('tracks a symbolic link to a file by its target\'s content, as DVC does; links to folders or to nothing are refused', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'dir/bar': 'bar bytes\n', 'real/x': 'x' });
    symlinkSync('./bar', join(repo, 'dir/foo'));
    await dvs(repo, ['config', 'cache.type', 'hardlink,copy']);
    const t = json(await dvs(repo, ['track', 'dir/foo', '--json']));
    expect(t.items[0]).toMatchObject({ path: 'dir/foo', kind: 'file', oid: createHash('sha256').update('bar bytes\n').digest('hex'), size: 10 });
    expect(lstatSync(join(repo, 'dir/foo')).isSymbolicLink()).toBe(true);
    // The target was copied into the cache, not linked: it is still the user's writable file.
    expect(statSync(join(repo, 'dir/bar')).nlink).toBe(1);
    expect(statSync(join(repo, 'dir/bar')).mode & 0o200).toBe(0o200);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
    symlinkSync('real', join(repo, 'linkdir'));
    symlinkSync('nowhere', join(repo, 'broken'));
    const dirLink = await dvs(repo, ['track', 'linkdir']);
    expect(dirLink.code).toBe(3);
    expect(dirLink.stderr).toContain('linkdir: a symbolic link to a directory');
    const broken = await dvs(repo, ['track', 'broken']);
    expect(broken.code).toBe(4);
    expect(broken.stderr).toContain('broken: a symbolic link to nothing (nowhere)');
  });

  it('refuses a path reached through a symbolic link that leaves the repository', async () => {
    const repo = gitRepo();
    const outside = tempDir();
    writeFileSync(join(outside, 'secret.csv'), 'x');
    symlinkSync(outside, join(repo, 'linked'));
    const r = await dvs(repo, ['track', 'linked/secret.csv']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('resolves through a symbolic link');
    expect(existsSync(join(outside, 'secret.csv.dvs'))).toBe(false);
  });
});

describe('dvs status', () => {
  it('reports unchanged, modified, missing and not-in-cache data', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    expect((await dvs(repo, ['track', 'data/train', 'model.bin'])).code).toBe(0);
    let r = await dvs(repo, ['status', '--exit-code']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Everything matches its pointer.');

    writeFileSync(join(repo, 'data/train/a.csv'), 'id,x\n1,999\n');
    rmSync(join(repo, 'data/train/b.csv'));
    writeFileSync(join(repo, 'data/train/new.csv'), 'id\n');
    rmSync(join(repo, 'model.bin'));
    r = await dvs(repo, ['status', '--granular']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('changed  data/train/: 1 added, 1 deleted, 1 modified');
    expect(r.stdout).toContain('added:    new.csv');
    expect(r.stdout).toContain('deleted:  b.csv');
    expect(r.stdout).toContain('modified: a.csv');
    expect(r.stdout).toContain('changed  model.bin: missing from the workspace (dvs checkout)');
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(1);

    const s = json(await dvs(repo, ['status', '--json', 'model.bin']));
    expect(s.entries).toEqual([expect.objectContaining({ path: 'model.bin', workspace: 'missing', cache: 'present' })]);

    // Remove the object from the cache: "not in cache".
    const oid = s.entries[0].oid as string;
    rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)), { force: true });
    const s2 = json(await dvs(repo, ['status', '--json', 'model.bin.dvs']));
    expect(s2.entries[0]).toMatchObject({ cache: 'missing' });
  });

  it('narrows to a file inside a tracked directory', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    await dvs(repo, ['track', 'data/train']);
    writeFileSync(join(repo, 'data/train/a.csv'), 'changed');
    const a = json(await dvs(repo, ['status', '--json', 'data/train/a.csv']));
    expect(a.entries[0]).toMatchObject({ path: 'data/train/a.csv', workspace: 'modified', changes: { modified: ['a.csv'] } });
    const b = json(await dvs(repo, ['status', '--json', 'data/train/b.csv']));
    expect(b.entries[0]).toMatchObject({ workspace: 'unchanged' });
  });
});

describe('dvs checkout', () => {
  it('restores deleted and modified data from the cache, touching only what differs', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    await dvs(repo, ['track', 'data/train', 'model.bin']);
    git(repo, 'commit', '-q', '-m', 'v1');
    // v2 of the directory: a.csv changed, c.csv removed, d.csv added.
    writeFileSync(join(repo, 'data/train/a.csv'), 'id,x\n1,20\n');
    rmSync(join(repo, 'data/train/sub'), { recursive: true });
    writeFileSync(join(repo, 'data/train/d.csv'), 'id,x\n7,8\n');
    await dvs(repo, ['track', 'data/train']);
    git(repo, 'commit', '-q', '-m', 'v2');
    const bStat = statSync(join(repo, 'data/train/b.csv'));

    git(repo, 'checkout', '-q', 'HEAD~1', '--', 'data/train.dvs');
    const r = await dvs(repo, ['checkout', '--json']);
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.added).toEqual(['data/train/sub/c.csv']);
    expect(out.modified).toEqual(['data/train/a.csv']);
    expect(out.deleted).toEqual(['data/train/d.csv']);
    expect(read(repo, 'data/train/a.csv')).toBe('id,x\n1,2\n');
    expect(existsSync(join(repo, 'data/train/d.csv'))).toBe(false);
    // untouched file keeps its inode and mtime
    const bAfter = statSync(join(repo, 'data/train/b.csv'));
    expect([bAfter.ino, bAfter.mtimeMs]).toEqual([bStat.ino, bStat.mtimeMs]);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
  });

  it('never overwrites data that is not in the cache without --force', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    await dvs(repo, ['track', 'data/train', 'model.bin']);
    writeFileSync(join(repo, 'model.bin'), 'precious unsaved weights');
    writeFileSync(join(repo, 'data/train/extra.csv'), 'unsaved');
    rmSync(join(repo, 'data/train/b.csv'));
    const r = await dvs(repo, ['checkout']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('model.bin: modified in the workspace and not saved in the cache; left as it is');
    expect(r.stderr).toContain('data/train/extra.csv: not in the pointer and not saved in the cache; not deleted');
    expect(r.stderr).toContain('hint: Keep the change with `dvs track model.bin`');
    expect(read(repo, 'model.bin')).toBe('precious unsaved weights');
    expect(read(repo, 'data/train/extra.csv')).toBe('unsaved');
    // the rest still checked out
    expect(read(repo, 'data/train/b.csv')).toBe('id,x\n3,4\n');
    const forced = await dvs(repo, ['checkout', '--force']);
    expect(forced.code).toBe(0);
    expect(read(repo, 'model.bin')).toBe('weights-v1');
    expect(existsSync(join(repo, 'data/train/extra.csv'))).toBe(false);
  });

  it('reports a missing object per file and checks out the rest', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    const t = json(await dvs(repo, ['track', 'model.bin', 'data/train', '--json']));
    rmSync(join(repo, 'data/train'), { recursive: true });
    rmSync(join(repo, 'model.bin'));
    const oid = t.items[0].oid as string;
    rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)));
    const r = await dvs(repo, ['checkout']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`model.bin: object ${oid.slice(0, 10)} is not in the cache`);
    expect(r.stderr).toContain('hint: Fetch it from a remote');
    expect(read(repo, 'data/train/sub/c.csv')).toBe('id,x\n5,6\n');
  });

  it('links by hardlink or symlink when configured, read-only until unprotected', async () => {
    for (const type of ['hardlink', 'symlink']) {
      const repo = gitRepo();
      writeTree(repo, { 'd/a.txt': 'aaa', 'd/b.txt': 'bbb' });
      await dvs(repo, ['config', 'cache.type', `${type},copy`]);
      await dvs(repo, ['track', 'd']);
      rmSync(join(repo, 'd'), { recursive: true });
      const r = json(await dvs(repo, ['checkout', '--json']));
      expect(r.links).toEqual({ [type]: 2 });
      const a = join(repo, 'd/a.txt');
      if (type === 'hardlink') expect(statSync(a).nlink).toBe(2);
      else expect(lstatSync(a).isSymbolicLink()).toBe(true);
      expect(statSync(a).mode & 0o222).toBe(0);
      expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
      const u = await dvs(repo, ['unprotect', 'd/a.txt']);
      expect(u.stdout).toContain('unprotected d/a.txt');
      expect(lstatSync(a).isSymbolicLink()).toBe(false);
      expect(statSync(a).nlink).toBe(1);
      expect(statSync(a).mode & 0o200).toBe(0o200);
      writeFileSync(a, 'edited');
      // the cache object is untouched
      expect((await dvs(repo, ['verify'])).code).toBe(0);
      if (type === 'hardlink') {
        // Unprotect, then re-track unchanged: the file is the cache's object again, not a read-only copy.
        writeFileSync(a, 'aaa');
        expect((await dvs(repo, ['track', 'd'])).code).toBe(0);
        expect(statSync(a).nlink).toBe(2);
        const oid = createHash('sha256').update('aaa').digest('hex');
        expect(statSync(a).ino).toBe(statSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2))).ino);
        expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
      }
    }
  });

  it('refuses to write through a symbolic link planted inside a tracked directory', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/sub/a.txt': 'aaa' });
    await dvs(repo, ['track', 'd']);
    rmSync(join(repo, 'd/sub'), { recursive: true });
    const outside = tempDir();
    symlinkSync(outside, join(repo, 'd/sub'));
    const r = await dvs(repo, ['checkout']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('refusing to write through it');
    expect(existsSync(join(outside, 'a.txt'))).toBe(false);
  });
});

describe('dvs verify and corrupted objects', () => {
  it('finds a corrupted object, quarantines it, and checkout refuses it', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/a.txt': 'good content', 'd/b.txt': 'other' });
    const t = json(await dvs(repo, ['track', 'd', '--json']));
    expect((await dvs(repo, ['verify'])).code).toBe(0);
    const manifest = readFileSync(join(repo, '.dvs/cache', t.items[0].oid.slice(0, 2), t.items[0].oid.slice(2)), 'utf8');
    const aOid = manifest.split('\n').find((l: string) => l.endsWith(' a.txt'))!.slice(0, 64);
    const obj = join(repo, '.dvs/cache', aOid.slice(0, 2), aOid.slice(2));
    chmodSync(obj, 0o644);
    writeFileSync(obj, 'evil content');
    const v = await dvs(repo, ['verify', '--json']);
    expect(v.code).toBe(1);
    expect(json(v).problems).toEqual([{ path: 'd/a.txt', oid: aOid, problem: 'corrupted', quarantined: true }]);
    expect(existsSync(obj)).toBe(false);

    rmSync(join(repo, 'd/a.txt'));
    const c = await dvs(repo, ['checkout']);
    expect(c.code).toBe(8);
    expect(c.stderr).toContain('d/a.txt');
    expect(existsSync(join(repo, 'd/a.txt'))).toBe(false);
  });

  it('checkout re-hashes an object it cannot vouch for and refuses a corrupted one', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'f.bin': 'original bytes' });
    const t = json(await dvs(repo, ['track', 'f.bin', '--json']));
    const oid = t.items[0].oid as string;
    const obj = join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2));
    chmodSync(obj, 0o644);
    writeFileSync(obj, 'tampered bytes');
    rmSync(join(repo, 'f.bin'));
    const r = await dvs(repo, ['checkout']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('is corrupted; it was moved to quarantine and not checked out');
    expect(existsSync(join(repo, 'f.bin'))).toBe(false);
  });
});

describe('dvs gc', () => {
  it('keeps what the workspace (and, when asked, branches) need', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'm.bin': 'v1' });
    await dvs(repo, ['track', 'm.bin']);
    git(repo, 'commit', '-q', '-m', 'v1');
    git(repo, 'branch', 'keep-v1');
    writeFileSync(join(repo, 'm.bin'), 'v2');
    await dvs(repo, ['track', 'm.bin']);
    git(repo, 'commit', '-q', '-m', 'v2');

    const dry = await dvs(repo, ['gc', '--dry-run', '--json']);
    expect(json(dry)).toMatchObject({ dryRun: true, removed: [{ size: 2 }], kept: 1 });
    const withBranches = json(await dvs(repo, ['gc', '--all-branches', '--json']));
    expect(withBranches.removed).toEqual([]);
    const r = await dvs(repo, ['gc']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Removed 1 object (2 B); kept 1 object.');
    expect(read(repo, 'm.bin')).toBe('v2');
    expect((await dvs(repo, ['verify'])).code).toBe(0);
  });
});

describe('dvs remove, config and cache dir', () => {
  it('remove stops tracking and keeps the data', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'm.bin': 'v1' });
    await dvs(repo, ['track', 'm.bin']);
    git(repo, 'commit', '-q', '-m', 'v1');
    const r = await dvs(repo, ['remove', 'm.bin.dvs']);
    expect(r.code).toBe(0);
    expect(existsSync(join(repo, 'm.bin.dvs'))).toBe(false);
    expect(read(repo, 'm.bin')).toBe('v1');
    expect(read(repo, '.gitignore')).not.toContain('/m.bin');
    expect(git(repo, 'status', '--porcelain')).toContain('D  m.bin.dvs');
    expect((await dvs(repo, ['remove', 'nothing.dvs'])).code).toBe(4);
  });

  it('config validates keys and values and keeps secrets out of the committed file', async () => {
    const repo = gitRepo();
    expect((await dvs(repo, ['config', 'cache.type'])).stdout).toBe('reflink,copy\n');
    expect((await dvs(repo, ['config', 'cache.type', 'hardlink,copy'])).code).toBe(0);
    expect(read(repo, '.dvs/config')).toContain('type:');
    expect((await dvs(repo, ['config', 'cache.type'])).stdout).toBe('hardlink,copy\n');
    const unknown = await dvs(repo, ['config', 'cache.tpye', 'copy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown config key "cache.tpye"');
    expect(unknown.stderr).toContain('cache.type');
    expect((await dvs(repo, ['config', 'cache.type', 'teleport'])).code).toBe(2);
    const secret = await dvs(repo, ['config', 'remote.s3.secret_access_key', 'abc']);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('--local');
    expect((await dvs(repo, ['config', '--local', 'remote.s3.secret_access_key', 'abc'])).code).toBe(0);
    expect(read(repo, '.dvs/config')).not.toContain('abc');
    expect(git(repo, 'status', '--porcelain')).not.toContain('config.local');
  });

  it('reports an unknown key and malformed YAML in a config file', async () => {
    const repo = gitRepo();
    writeFileSync(join(repo, '.dvs/config'), 'core:\n  autostage: true\n  colour: blue\n');
    let r = await dvs(repo, ['status']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('.dvs/config: Unknown config key "core.colour"');
    writeFileSync(join(repo, '.dvs/config'), 'core:\n  autostage: [true\n');
    r = await dvs(repo, ['status']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\.dvs\/config:\d+:/);
  });

  it('a cache directory can be shared between repositories', async () => {
    const shared = tempDir();
    const a = gitRepo();
    const b = gitRepo();
    for (const repo of [a, b]) expect((await dvs(repo, ['cache', 'dir', shared])).code).toBe(0);
    expect((await dvs(a, ['cache', 'dir'])).stdout.trim()).toBe(shared);
    writeTree(a, { 'x.bin': 'shared bytes' });
    await dvs(a, ['track', 'x.bin']);
    // b gets only the pointer, the bytes come from the shared cache
    writeFileSync(join(b, 'x.bin.dvs'), read(a, 'x.bin.dvs'));
    const r = await dvs(b, ['checkout']);
    expect(r.code).toBe(0);
    expect(read(b, 'x.bin')).toBe('shared bytes');
  });
});

describe('the repository lock', () => {
  it('takes over a lock left by a dead process and waits for a live one', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    mkdirSync(join(repo, '.dvs/tmp'), { recursive: true });
    const { hostname } = await import('node:os');
    writeFileSync(join(repo, '.dvs/tmp/lock'), JSON.stringify({ pid: 999999, host: hostname(), since: 'then' }));
    expect((await dvs(repo, ['track', 'x.bin'])).code).toBe(0);

    // A live holder (this test process): fail fast without --wait-for-lock.
    writeFileSync(join(repo, '.dvs/tmp/lock'), JSON.stringify({ pid: process.pid, host: hostname(), command: 'dvs test', since: 'now' }));
    const locked = await dvs(repo, ['track', 'x.bin']);
    expect(locked.code).toBe(6);
    expect(locked.stderr).toContain(`locked by dvs test (pid ${process.pid}`);
    // Readers do not wait on the lock.
    expect((await dvs(repo, ['status'])).code).toBe(0);
    const waiting = dvs(repo, ['track', 'x.bin', '--wait-for-lock']);
    setTimeout(() => rmSync(join(repo, '.dvs/tmp/lock')), 500);
    expect((await waiting).code).toBe(0);
  });
});

describe('bad input', () => {
  it('a malformed or truncated pointer names file and line, with no stack trace unless -v', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'bad.bin': 'x' });
    writeFileSync(join(repo, 'bad.bin.dvs'), 'version: 1\nkind: file\noid: sha256:1234\nsize: 1\n');
    let r = await dvs(repo, ['status']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bad.bin.dvs:3: "1234" is not 64 lowercase hex digits');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    r = await dvs(repo, ['status', '-v']);
    expect(r.stderr).toMatch(/\n\s+at /);
    writeFileSync(join(repo, 'bad.bin.dvs'), 'version: 1\nkind: fi');
    r = await dvs(repo, ['checkout', 'bad.bin']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('bad.bin.dvs');
    const j = json(await dvs(repo, ['status', '--json']));
    expect(j.error).toMatchObject({ kind: 'input', code: 'POINTER_INVALID' });
  });

  it('a manifest naming a path outside the repository is refused', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/a.txt': 'a' });
    await dvs(repo, ['track', 'd']);
    // Forge a manifest that escapes, store it under its true hash, and point at it.
    const { createHash } = await import('node:crypto');
    const aOid = createHash('sha256').update('a').digest('hex');
    const evil = `dvs-manifest 1\n${aOid} 1 - ../../escaped.txt\n`;
    const evilOid = createHash('sha256').update(evil).digest('hex');
    mkdirSync(join(repo, '.dvs/cache', evilOid.slice(0, 2)), { recursive: true });
    writeFileSync(join(repo, '.dvs/cache', evilOid.slice(0, 2), evilOid.slice(2)), evil);
    writeFileSync(join(repo, 'd.dvs'), `version: 1\nkind: dir\noid: sha256:${evilOid}\nsize: 1\nfiles: 1\n`);
    rmSync(join(repo, 'd'), { recursive: true });
    const r = await dvs(repo, ['checkout']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('line 2: path "../../escaped.txt" climbs out with ".."');
    expect(existsSync(join(repo, '..', 'escaped.txt'))).toBe(false);
  });

  it('a pointer in a folder that links outside the repository is refused', async () => {
    const repo = gitRepo();
    const outside = tempDir();
    writeTree(repo, { 'x.bin': 'x' });
    const t = json(await dvs(repo, ['track', 'x.bin', '--json']));
    writeFileSync(join(outside, 'x.bin.dvs'), read(repo, 'x.bin.dvs'));
    symlinkSync(outside, join(repo, 'elsewhere'));
    const r = await dvs(repo, ['checkout', 'elsewhere/x.bin.dvs']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('symbolic link');
    expect(existsSync(join(outside, 'x.bin'))).toBe(false);
    expect(t.items[0].oid).toHaveLength(64);
  });

  it('permission denied is reported with the path and a hint', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'locked/a.txt': 'a' });
    chmodSync(join(repo, 'locked/a.txt'), 0o000);
    const asRoot = process.getuid?.() === 0;
    // root reads any file; run dvs as an unprivileged user then, on a copy it owns.
    let r;
    if (asRoot) {
      const { execSync } = await import('node:child_process');
      execSync(`chown -R 65534:65534 ${repo} && chmod 755 ${join(repo, '..')}`);
      r = await dvs(repo, ['track', 'locked'], { uid: 65534, gid: 65534, env: { HOME: repo } });
    } else {
      r = await dvs(repo, ['track', 'locked']);
    }
    expect(r.stderr).toContain('Permission denied');
    expect(r.stderr).toContain('locked/a.txt');
    expect(r.code).toBe(6);
    expect(existsSync(join(repo, 'locked.dvs'))).toBe(false);
  });
});

describe('disk full', () => {
  it('track on a full disk leaves no pointer and no partial object', async () => {
    const { spawnSync } = await import('node:child_process');
    const { readdirSync } = await import('node:fs');
    const mnt = tempDir('dvs-full-');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status === 0;
    if (!mounted) {
      console.warn('disk-full test skipped: cannot mount a small tmpfs here (needs root)');
      return;
    }
    try {
      const repo = gitRepo();
      expect((await dvs(repo, ['cache', 'dir', '--local', mnt])).code).toBe(0);
      writeTree(repo, { 'small.bin': 'fits', 'big.bin': Buffer.alloc(3 * 1024 * 1024, 7) });
      const r = await dvs(repo, ['track', 'small.bin', 'big.bin']);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain('No space left on the device while storing in the cache big.bin');
      expect(r.stderr).toContain('hint: Free some space');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(repo, 'big.bin.dvs'))).toBe(false);
      // Nothing half-written: the temp directory is empty and only whole objects are in the cache.
      expect(readdirSync(join(mnt, 'tmp'))).toEqual([]);
      const objects = readdirSync(mnt).filter((d) => d.length === 2).flatMap((d) => readdirSync(join(mnt, d)).map((f) => d + f));
      const { createHash } = await import('node:crypto');
      for (const oid of objects) {
        expect(createHash('sha256').update(readFileSync(join(mnt, oid.slice(0, 2), oid.slice(2)))).digest('hex')).toBe(oid);
      }
    } finally {
      spawnSync('umount', [mnt]);
    }
  });
});
