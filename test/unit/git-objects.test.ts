// dvs reads the pointers that differ between two commits from Git's object database itself (a Git
// process costs more than a post-checkout hook with nothing to do may take). These tests hold its answer
// against `git diff --raw` on real repositories, loose and packed (deltas both ways, several packs, the
// large-offset table), and check that whatever it does not handle, or cannot trust, goes to Git.
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { changedPointersBetween, parseRawDiff, readChangedPointers } from '../../src/scm/changed-pointers.js';
import { applyDelta } from '../../src/scm/git-delta.js';
import { GitObjectError } from '../../src/scm/git-object-error.js';
import { configAllows, readableObjectDir } from '../../src/scm/git-object-dir.js';
import { GitObjectReader } from '../../src/scm/git-objects.js';
import { diffTrees } from '../../src/scm/tree-diff.js';
import { cleanupTempDirs, git, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const pointer = (n: number, salt = '') =>
  `outs:\n- md5: ${(n * 7919 + salt.length).toString(16).padStart(32, '0')}\n  size: ${1000 + n}\n  path: p${n}\n  hash: md5\n${salt}`;

function commit(dir: string, message: string): void {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
}

function write(dir: string, path: string | Buffer, content: string): void {
  const abs = typeof path === 'string' ? join(dir, path) : Buffer.concat([Buffer.from(`${dir}/`), path]);
  mkdirSync(join(abs.toString(), '..'), { recursive: true });
  writeFileSync(abs, content);
}

/** A history that exercises what a tree diff meets: every kind of change, in nested and oddly named places. */
function historyRepo(): string {
  const dir = tempDir('dvs-gitobj-');
  git(dir, 'init', '-q', '-b', 'main');
  for (let n = 0; n < 40; n++) write(dir, `data/p${n}.dvs`, pointer(n));
  for (const p of ['a/b/c/deep.dvs', 'données/é.dvs', 'odd name;$ (1).dvs', 'tab\there.dvs', 'x.dvs', 'sub/inner.dvs', 'foo.dvs', 'foo-bar.dvs', 'foo/x.dvs', 'foo.d/y.dvs']) {
    write(dir, p, pointer(p.length, p));
  }
  write(dir, '.dvs/config', '[core]\n');
  write(dir, 'a/.dvs', 'not a pointer\n');
  write(dir, 'code.py', 'print(1)\n');
  commit(dir, 'c0');
  write(dir, 'data/p1.dvs', pointer(1, 'v2'));
  write(dir, 'data/p2.dvs', pointer(2, 'v2'));
  write(dir, 'data/new.dvs', pointer(99));
  write(dir, 'a/b/c/deep.dvs', pointer(5, 'deeper'));
  rmSync(join(dir, 'data/p3.dvs'));
  commit(dir, 'c1 modify add remove');
  chmodSync(join(dir, 'data/p4.dvs'), 0o755);
  commit(dir, 'c2 mode only');
  rmSync(join(dir, 'x.dvs'));
  write(dir, 'x.dvs/inner.dvs', pointer(7, 'in'));
  write(dir, 'x.dvs/y.dvs', pointer(8, 'in'));
  rmSync(join(dir, 'sub'), { recursive: true });
  write(dir, 'sub', 'now a file\n');
  symlinkSync('data/p0.dvs', join(dir, 'link.dvs'));
  commit(dir, 'c3 file to directory, directory to file, a link');
  rmSync(join(dir, 'link.dvs'));
  write(dir, 'link.dvs', 'data/p0.dvs');
  commit(dir, 'c4 link becomes a file with the same bytes');
  renameSync(join(dir, 'data/p5.dvs'), join(dir, 'data/p5-renamed.dvs'));
  commit(dir, 'c5 rename');
  rmSync(join(dir, 'a'), { recursive: true });
  write(dir, 'b/c/d/e/f.dvs', pointer(11));
  commit(dir, 'c6 a directory goes, a deep one comes');
  rmSync(join(dir, 'x.dvs'), { recursive: true });
  write(dir, 'x.dvs', pointer(12, 'back'));
  commit(dir, 'c7 directory back to a file');
  for (let n = 0; n < 40; n += 2) if (n !== 2 && n !== 4) write(dir, `data/p${n}.dvs`, pointer(n, 'round 3'));
  commit(dir, 'c8 many similar edits');
  write(dir, 'new\nline.dvs', pointer(13));
  write(dir, Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x64, 0x76, 0x73]), pointer(14));
  write(dir, 'données/é.dvs', pointer(15, 'ü'));
  commit(dir, 'c9 names that are not plain ASCII');
  commit(dir, 'c10 empty');
  chmodSync(join(dir, 'data/p4.dvs'), 0o644);
  write(dir, 'data/p4.dvs', pointer(4, 'mode and content'));
  write(dir, 'code.py', 'print(2)\n');
  commit(dir, 'c11 mode and content, and code');
  return dir;
}

const commitsOf = (dir: string) => git(dir, 'rev-list', '--all').trim().split('\n');
const gitDiff = (dir: string, a: string, b: string) => parseRawDiff(git(dir, 'diff', '--raw', '-z', '--no-renames', '--no-abbrev', a, b, '--'));

/** Every ordered pair of commits (or the pairs given): the reader's diff is Git's, entry for entry. */
function expectSameAsGit(dir: string, pairs?: Array<[string, string]>): number {
  const commits = commitsOf(dir);
  const all = pairs ?? commits.flatMap((a) => commits.filter((b) => b !== a).map((b): [string, string] => [a, b]));
  const objects = readableObjectDir(dir);
  expect(objects).toBe(join(dir, '.git/objects'));
  const reader = new GitObjectReader(objects!);
  let entries = 0;
  try {
    for (const [a, b] of all) {
      const expected = gitDiff(dir, a, b);
      expect(diffTrees(reader, a, b), `${a}..${b}`).toEqual(expected);
      entries += expected.length;
    }
  } finally {
    reader.close();
  }
  return entries;
}

/** Trees stored as deltas in the packs, and the longest chain, from `git verify-pack -v`. */
function deltaTrees(dir: string): { trees: number; depth: number } {
  let trees = 0;
  let depth = 0;
  const packDir = join(dir, '.git/objects/pack');
  for (const idx of readdirSync(packDir).filter((n) => n.endsWith('.idx'))) {
    for (const line of git(dir, 'verify-pack', '-v', join(packDir, idx)).split('\n')) {
      const f = line.split(/\s+/);
      if (f[1] === 'tree' && f.length >= 7) {
        trees++;
        depth = Math.max(depth, Number(f[5]));
      }
    }
  }
  return { trees, depth };
}

describe('reading Git objects without Git', () => {
  const dir = historyRepo();

  it('diffs loose objects as git diff --raw --no-renames does', () => {
    expect(readdirSync(join(dir, '.git/objects/pack'))).toEqual([]);
    expect(expectSameAsGit(dir)).toBeGreaterThan(500);
  });

  it('diffs packed objects with offset deltas, reference deltas, several packs and loose objects', () => {
    git(dir, 'repack', '-adfq', '--depth=50', '--window=250');
    const { trees, depth } = deltaTrees(dir);
    expect(trees).toBeGreaterThan(5);
    expect(depth).toBeGreaterThanOrEqual(2);
    expectSameAsGit(dir);

    git(dir, '-c', 'repack.useDeltaBaseOffset=false', '-c', 'pack.useDeltaBaseOffset=false', 'repack', '-adfq', '--depth=50', '--window=250');
    expect(deltaTrees(dir).trees).toBeGreaterThan(5);
    expectSameAsGit(dir);

    // More commits: a second pack, then loose objects on top of both.
    write(dir, 'data/p6.dvs', pointer(6, 'later'));
    commit(dir, 'c12');
    git(dir, 'repack', '-dq');
    write(dir, 'data/p7.dvs', pointer(7, 'later still'));
    rmSync(join(dir, 'b'), { recursive: true });
    commit(dir, 'c13');
    expect(readdirSync(join(dir, '.git/objects/pack')).filter((n) => n.endsWith('.idx')).length).toBe(2);
    const commits = commitsOf(dir);
    expectSameAsGit(dir, commits.flatMap((a) => [[a, commits[0]], [commits[0], a]] as Array<[string, string]>).filter(([a, b]) => a !== b));
  });

  it('reads offsets from the large-offset table of a pack index', () => {
    const copy = tempDir('dvs-gitobj-large-');
    git(copy, 'clone', '-q', '--no-local', dir, '.');
    git(copy, 'repack', '-adfq');
    const packDir = join(copy, '.git/objects/pack');
    const pack = readdirSync(packDir).find((n) => n.endsWith('.pack'))!;
    rmSync(join(packDir, pack.replace(/\.pack$/, '.idx')));
    // Every object past offset 64 goes into the 8-byte table, as in a pack of more than 2 GiB.
    git(packDir, 'index-pack', '--index-version=2,64', pack);
    const commits = commitsOf(copy);
    expectSameAsGit(copy, commits.slice(1).map((c, i): [string, string] => [commits[i], c]));
  });

  it('gives the changed pointers, as the hook and dvs diff use them, without running Git', async () => {
    const commits = commitsOf(dir);
    for (const [a, b] of [[commits.at(-1)!, commits[0]], [commits[3], commits[7]]]) {
      const own = readChangedPointers(dir, a, b);
      expect(own).toBeDefined();
      expect(own!.length).toBeGreaterThan(3);
      expect(own!.some((c) => c.path.startsWith('.dvs/') || c.path.endsWith('/.dvs'))).toBe(false);
      const viaGit = gitDiff(dir, a, b).filter((c) => own!.some((o) => o.path === c.path));
      expect(viaGit.length).toBe(own!.length);
      expect(await changedPointersBetween(dir, a, b)).toEqual(own);
    }
  });

  it('works in a linked worktree, and with GIT_DIR naming the same repository', () => {
    const wt = join(tempDir('dvs-gitobj-wt-'), 'wt');
    git(dir, 'worktree', 'add', '-q', '--detach', wt);
    expect(readableObjectDir(wt)).toBe(join(dir, '.git/objects'));
    const commits = commitsOf(dir);
    const own = readChangedPointers(wt, commits[5], commits[1]);
    expect(own).toBeDefined();
    expect(own!.length).toBeGreaterThan(0);
    expect(readableObjectDir(dir, { GIT_DIR: '.git' })).toBe(join(dir, '.git/objects'));
    expect(readableObjectDir(dir, { GIT_DIR: join(dir, 'elsewhere') })).toBeUndefined();
    expect(readableObjectDir(wt, { GIT_DIR: join(dir, '.git') })).toBeUndefined();
    for (const name of ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_REPLACE_REF_BASE', 'GIT_GRAFT_FILE']) {
      expect(readableObjectDir(dir, { [name]: '/x' })).toBeUndefined();
    }
  });
});

describe('what the reader does not handle goes to Git', () => {
  /** A small repository with a pointer changed between its two commits. */
  function twoCommits(initArgs: string[] = []): { dir: string; a: string; b: string } {
    const dir = tempDir('dvs-gitobj-fb-');
    git(dir, 'init', '-q', '-b', 'main', ...initArgs);
    write(dir, 'd/one.dvs', pointer(1));
    write(dir, 'd/two.dvs', pointer(2));
    commit(dir, 'a');
    write(dir, 'd/two.dvs', pointer(2, 'v2'));
    write(dir, 'three.dvs', pointer(3));
    commit(dir, 'b');
    const [b, a] = commitsOf(dir);
    return { dir, a, b };
  }
  const expected = [{ path: 'd/two.dvs' }, { path: 'three.dvs' }];

  async function expectGitAnswers(dir: string, a: string, b: string): Promise<void> {
    expect(readChangedPointers(dir, a, b)).toBeUndefined();
    const viaGit = await changedPointersBetween(dir, a, b);
    expect(viaGit.map((c) => ({ path: c.path }))).toEqual(expected);
    expect(viaGit).toEqual(parseRawDiff(git(dir, 'diff', '--raw', '-z', '--no-renames', '--no-abbrev', a, b)).map((c) => ({ path: c.path, oldBlob: /^0+$/.test(c.oldOid) ? undefined : c.oldOid, newBlob: c.newOid })));
  }

  it('a damaged entry in a pack (the objects are also loose, so Git still answers)', async () => {
    const { dir, a, b } = twoCommits();
    expect(readChangedPointers(dir, a, b)).toBeDefined();
    git(dir, 'repack', '-aq'); // without -d: the loose copies stay
    const packDir = join(dir, '.git/objects/pack');
    const pack = join(packDir, readdirSync(packDir).find((n) => n.endsWith('.pack'))!);
    const bytes = readFileSync(pack);
    const fd = openSync(pack, 'r+');
    // Scramble everything between the header and the trailer: every entry is damaged.
    writeSync(fd, Buffer.alloc(bytes.length - 32, 0x5a), 0, bytes.length - 32, 12);
    closeSync(fd);
    await expectGitAnswers(dir, a, b);
  });

  it('a truncated pack', async () => {
    const { dir, a, b } = twoCommits();
    git(dir, 'repack', '-aq');
    const packDir = join(dir, '.git/objects/pack');
    const pack = join(packDir, readdirSync(packDir).find((n) => n.endsWith('.pack'))!);
    truncateSync(pack, Math.floor(readFileSync(pack).length / 2));
    await expectGitAnswers(dir, a, b);
  });

  it('a damaged loose object', () => {
    const { dir, a, b } = twoCommits();
    const tree = git(dir, 'rev-parse', `${b}^{tree}`).trim();
    const file = join(dir, '.git/objects', tree.slice(0, 2), tree.slice(2));
    chmodSync(file, 0o644);
    const bytes = readFileSync(file);
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 6), Buffer.alloc(bytes.length - 6, 0x11)]));
    // Git cannot read it either: the reader must not invent an answer.
    expect(readChangedPointers(dir, a, b)).toBeUndefined();
  });

  it('a version 1 pack index', async () => {
    const { dir, a, b } = twoCommits();
    git(dir, 'repack', '-adq');
    const packDir = join(dir, '.git/objects/pack');
    const pack = readdirSync(packDir).find((n) => n.endsWith('.pack'))!;
    rmSync(join(packDir, pack.replace(/\.pack$/, '.idx')));
    git(packDir, 'index-pack', '--index-version=1', pack);
    await expectGitAnswers(dir, a, b);
  });

  it('a missing object (alternates, as in a shared clone)', async () => {
    const { dir } = twoCommits();
    const clone = tempDir('dvs-gitobj-shared-');
    git(clone, 'clone', '-q', '--shared', dir, '.');
    const [b, a] = commitsOf(clone);
    await expectGitAnswers(clone, a, b);
  });

  it('a SHA-256 repository', async () => {
    const { dir, a, b } = twoCommits(['--object-format=sha256']);
    expect(readableObjectDir(dir)).toBeUndefined();
    await expectGitAnswers(dir, a, b);
  });

  it('replace refs, which change what a commit id means', async () => {
    const { dir, a, b } = twoCommits();
    const own = readChangedPointers(dir, a, b)!;
    write(dir, 'four.dvs', pointer(4));
    commit(dir, 'c');
    const c = commitsOf(dir)[0];
    git(dir, 'replace', b, c);
    expect(readChangedPointers(dir, a, b)).toBeUndefined();
    const viaGit = await changedPointersBetween(dir, a, b);
    expect(viaGit.map((x) => x.path)).toEqual(['d/two.dvs', 'four.dvs', 'three.dvs']);
    expect(viaGit).not.toEqual(own);
    git(dir, 'pack-refs', '--all');
    rmSync(join(dir, '.git/refs/replace'), { recursive: true, force: true });
    expect(readChangedPointers(dir, a, b)).toBeUndefined();
  });

  it('a submodule named like a pointer', () => {
    const { dir, a } = twoCommits();
    git(dir, 'update-index', '--add', '--cacheinfo', `160000,${a},sub.dvs`);
    git(dir, 'commit', '-q', '-m', 'gitlink');
    const c = commitsOf(dir)[0];
    expect(readChangedPointers(dir, a, c)).toBeUndefined();
  });

  it('config it cannot vouch for', () => {
    expect(configAllows('[core]\n\trepositoryformatversion = 0\n')).toBe(true);
    expect(configAllows('[core]\n\trepositoryformatversion = 1\n[extensions]\n\tworktreeConfig = true\n')).toBe(true);
    expect(configAllows('[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectformat = sha256\n')).toBe(false);
    expect(configAllows('[core]\n\trepositoryformatversion = 1\n[Extensions]\n\tpartialClone = origin\n')).toBe(false);
    expect(configAllows('[extensions] refStorage = reftable\n')).toBe(false);
    expect(configAllows('[include]\n\tpath = other\n')).toBe(false);
    expect(configAllows('[includeIf "gitdir:/x/"]\n\tpath = other\n')).toBe(false);
    expect(configAllows('[core]\n\trepositoryformatversion = 2\n')).toBe(false);
  });
});

describe('hostile objects', () => {
  it('a delta that copies outside its base, or writes past or short of its size, is refused', () => {
    const base = Buffer.from('0123456789');
    expect(applyDelta(base, Buffer.from([10, 4, 0x91, 2, 4]), 100).toString()).toBe('2345');
    for (const delta of [
      [10, 4, 0x91, 8, 4], // copy past the base's end
      [10, 2, 0x91, 0, 4], // more than the announced size
      [10, 5, 0x91, 0, 4], // less
      [9, 4, 0x91, 0, 4], // wrong base size
      [10, 4, 0], // reserved opcode
      [10, 4, 3, 0x41], // insert past the delta's end
      [10, 0xff, 0xff, 0xff, 0xff, 0x7f], // an enormous result
    ]) {
      expect(() => applyDelta(base, Buffer.from(delta), 1 << 20)).toThrow(GitObjectError);
    }
  });

  it('a reference delta whose base is itself ends with an error, not a loop', () => {
    const dir = tempDir('dvs-gitobj-loop-');
    const objects = join(dir, 'objects');
    mkdirSync(join(objects, 'pack'), { recursive: true });
    const oid = Buffer.alloc(20, 0xab);
    const delta = deflateSync(Buffer.from([1, 1, 1, 0x41]));
    const entry = Buffer.concat([Buffer.from([(7 << 4) | 4]), oid, delta]);
    const body = Buffer.concat([Buffer.from('PACK'), u32(2), u32(1), entry]);
    const checksum = Buffer.alloc(20, 0xcd);
    writeFileSync(join(objects, 'pack', 'pack-loop.pack'), Buffer.concat([body, checksum]));
    const fanout = Buffer.concat(Array.from({ length: 256 }, (_, i) => u32(i >= 0xab ? 1 : 0)));
    writeFileSync(join(objects, 'pack', 'pack-loop.idx'), Buffer.concat([u32(0xff744f63), u32(2), fanout, oid, u32(0), u32(12), checksum, Buffer.alloc(20)]));
    const reader = new GitObjectReader(objects);
    expect(() => reader.read(oid.toString('hex'))).toThrow(/too deep/);
    reader.close();
  });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
