// dvs checkout planned first, then applied: --dry-run shows the plan and changes nothing; the executable
// bit is part of the data (status reports it, checkout sets it, never on a cache object); --relink places
// matching files again with the configured link type.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, GIT_ENV, gitRepo, json, read, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const DATA = {
  'data/train/a.csv': 'id,x\n1,2\n',
  'data/train/b.csv': 'id,x\n3,4\n',
  'data/train/sub/c.csv': 'id,x\n5,6\n',
  'model.bin': 'weights-v1',
};

/** Every file and folder of the work tree outside .git and .dvs: type, mode, inode, mtime and bytes. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (path === '.git' || path === '.dvs') continue;
      const st = lstatSync(join(root, path), { bigint: true });
      const head = `${st.mode.toString(8)} ${st.ino} ${st.mtimeNs} ${st.nlink}`;
      if (st.isDirectory()) {
        out.set(path + '/', head);
        walk(path);
      } else out.set(path, `${head} ${createHash('sha256').update(readFileSync(join(root, path))).digest('hex')}`);
    }
  };
  walk('');
  return out;
}

function objectPath(repo: string, oid: string): string {
  return join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2));
}

function oidOf(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

const isExec = (path: string) => (statSync(path).mode & 0o100) !== 0;

describe('dvs checkout --dry-run', () => {
  it('prints the plan (added, modified, deleted) and leaves the workspace byte for byte as it was', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    expect((await dvs(repo, ['track', 'data/train', 'model.bin'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'v1');
    writeFileSync(join(repo, 'data/train/a.csv'), 'id,x\n1,20\n');
    rmSync(join(repo, 'data/train/sub'), { recursive: true });
    writeFileSync(join(repo, 'data/train/d.csv'), 'id,x\n7,8\n');
    expect((await dvs(repo, ['track', 'data/train'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'v2');
    git(repo, 'checkout', '-q', 'HEAD~1', '--', 'data/train.dvs');
    rmSync(join(repo, 'model.bin'));
    const before = snapshot(repo);

    const r = await dvs(repo, ['checkout', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const plan = json(r);
    expect(plan.dryRun).toBe(true);
    expect(plan.failures).toEqual([]);
    const train = plan.targets.find((t: { dataPath: string }) => t.dataPath === 'data/train');
    expect(train.creates.map((c: { path: string }) => c.path)).toEqual(['data/train/sub/c.csv']);
    expect(train.replaces.map((c: { path: string }) => c.path)).toEqual(['data/train/a.csv']);
    expect(train.deletes.map((c: { path: string }) => c.path)).toEqual(['data/train/d.csv']);
    expect(train.replaces[0]).toMatchObject({ action: 'replace', object: { oid: oidOf('id,x\n1,2\n'), size: 9, exec: false } });
    expect(train.unchanged).toBe(1);
    const model = plan.targets.find((t: { dataPath: string }) => t.dataPath === 'model.bin');
    expect(model.creates).toEqual([{ action: 'create', path: 'model.bin', object: { oid: oidOf('weights-v1'), size: 10, exec: false } }]);

    const text = await dvs(repo, ['checkout', '-n']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        '  deleted   data/train/d.csv',
        '  added     data/train/sub/c.csv',
        '  modified  data/train/a.csv',
        '  added     model.bin',
        'Would check out: 2 files added, 1 modified, 1 deleted, 1 unchanged (dry run: nothing changed)',
        '',
      ].join('\n'),
    );
    expect(snapshot(repo)).toEqual(before);

    // The checkout then does what the plan said.
    const done = json(await dvs(repo, ['checkout', '--json']));
    expect(done).toMatchObject({ added: ['data/train/sub/c.csv', 'model.bin'], modified: ['data/train/a.csv'], deleted: ['data/train/d.csv'], failures: [] });
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
  });

  it('reports what it would refuse (exit 8) and still changes nothing', async () => {
    const repo = gitRepo();
    writeTree(repo, DATA);
    await dvs(repo, ['track', 'data/train', 'model.bin']);
    writeFileSync(join(repo, 'model.bin'), 'unsaved weights');
    writeFileSync(join(repo, 'data/train/extra.csv'), 'unsaved');
    rmSync(join(repo, 'data/train/b.csv'));
    const before = snapshot(repo);
    const r = await dvs(repo, ['checkout', '--dry-run']);
    expect(r.code).toBe(8);
    expect(r.stdout).toContain('  added     data/train/b.csv\n');
    expect(r.stdout).not.toContain('model.bin');
    expect(r.stderr).toContain('model.bin: modified in the workspace and not saved in the cache; left as it is');
    expect(r.stderr).toContain('data/train/extra.csv: not in the pointer and not saved in the cache; not deleted');
    expect(r.stderr).toContain('2 paths would not be checked out.');
    const forced = json(await dvs(repo, ['checkout', '--dry-run', '--force', '--json']));
    expect(forced.failures).toEqual([]);
    expect(forced.targets.flatMap((t: { deletes: Array<{ path: string }> }) => t.deletes.map((c) => c.path))).toEqual(['data/train/extra.csv']);
    expect(snapshot(repo)).toEqual(before);
  });
});

describe('the executable bit', () => {
  it('of a tracked file: status reports the mode, checkout sets it back (also when the bytes match, with or without --force)', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'run.sh': '#!/bin/sh\necho hi\n', 'plain.txt': 'plain' });
    chmodSync(join(repo, 'run.sh'), 0o755);
    expect((await dvs(repo, ['track', 'run.sh', 'plain.txt'])).code).toBe(0);
    expect(read(repo, 'run.sh.dvs')).toContain('exec: true');
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);

    chmodSync(join(repo, 'run.sh'), 0o644);
    chmodSync(join(repo, 'plain.txt'), 0o755);
    const s = json(await dvs(repo, ['status', '--json']));
    expect(s.clean).toBe(false);
    for (const path of ['run.sh', 'plain.txt']) expect(s.entries.find((e: { path: string }) => e.path === path)).toMatchObject({ workspace: 'modified', modeOnly: true });
    const text = await dvs(repo, ['status']);
    expect(text.stdout).toContain('  changed  run.sh: mode (executable bit) differs');
    // dvs diff agrees with status: the workspace's run.sh is not HEAD's.
    git(repo, 'commit', '-q', '-m', 'scripts');
    const d = json(await dvs(repo, ['diff', '--json', '--targets', 'run.sh']));
    expect(d.changes).toEqual([expect.objectContaining({ path: 'run.sh', change: 'modified' })]);

    const plan = json(await dvs(repo, ['checkout', '--dry-run', '--json', 'run.sh']));
    expect(plan.targets[0].modes).toEqual([{ action: 'mode', path: 'run.sh', object: expect.objectContaining({ exec: true }) }]);
    expect((await dvs(repo, ['checkout', '--dry-run', 'run.sh'])).stdout).toContain('  modified  run.sh (mode: executable)\n');
    expect(isExec(join(repo, 'run.sh'))).toBe(false);

    const ino = statSync(join(repo, 'run.sh')).ino;
    const r = json(await dvs(repo, ['checkout', '--json']));
    expect(r.modified.sort()).toEqual(['plain.txt', 'run.sh']);
    expect(r.failures).toEqual([]);
    // A file of its own changes mode in place: same inode, same bytes.
    expect(statSync(join(repo, 'run.sh')).ino).toBe(ino);
    expect(statSync(join(repo, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(repo, 'plain.txt')).mode & 0o111).toBe(0);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);

    chmodSync(join(repo, 'run.sh'), 0o600);
    expect((await dvs(repo, ['checkout', '--force'])).code).toBe(0);
    expect(statSync(join(repo, 'run.sh')).mode & 0o777).toBe(0o700);
    // Deleted, it comes back executable.
    rmSync(join(repo, 'run.sh'));
    expect((await dvs(repo, ['checkout'])).code).toBe(0);
    expect(isExec(join(repo, 'run.sh'))).toBe(true);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
  });

  it('under hardlink and symlink link types an executable file is copied, and no cache object becomes executable', async () => {
    for (const type of ['hardlink', 'symlink']) {
      const repo = gitRepo();
      await dvs(repo, ['config', 'cache.type', type]);
      writeTree(repo, { 'run.sh': '#!/bin/sh\necho hi\n', 'd/tool.sh': '#!/bin/sh\n', 'd/a.txt': 'aaa' });
      chmodSync(join(repo, 'run.sh'), 0o755);
      chmodSync(join(repo, 'd/tool.sh'), 0o755);
      expect((await dvs(repo, ['track', 'run.sh', 'd'])).code).toBe(0);
      // Tracking did not link the scripts into the read-only cache: they keep their mode.
      expect(isExec(join(repo, 'run.sh'))).toBe(true);
      expect(read(repo, 'run.sh.dvs')).toContain('exec: true');
      expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
      rmSync(join(repo, 'run.sh'));
      rmSync(join(repo, 'd'), { recursive: true });
      const r = json(await dvs(repo, ['checkout', '--json']));
      expect(r.failures).toEqual([]);
      expect(r.links).toEqual({ copy: 2, [type]: 1 });
      for (const script of ['run.sh', 'd/tool.sh']) {
        const st = lstatSync(join(repo, script));
        expect([st.isSymbolicLink(), st.nlink, isExec(join(repo, script))], `${type} ${script}`).toEqual([false, 1, true]);
      }
      const a = join(repo, 'd/a.txt');
      if (type === 'hardlink') expect(statSync(a).nlink).toBe(2);
      else expect(lstatSync(a).isSymbolicLink()).toBe(true);
      for (const content of ['#!/bin/sh\necho hi\n', '#!/bin/sh\n', 'aaa']) expect(statSync(objectPath(repo, oidOf(content))).mode & 0o333).toBe(0);
      expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
    }
  });

  it('of a file inside a tracked directory: status names it, checkout sets it, a hardlinked file is placed again', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/tool.sh': '#!/bin/sh\n', 'd/a.txt': 'aaa', 'd/b.txt': 'bbb' });
    chmodSync(join(repo, 'd/tool.sh'), 0o755);
    expect((await dvs(repo, ['track', 'd'])).code).toBe(0);
    chmodSync(join(repo, 'd/tool.sh'), 0o644);
    chmodSync(join(repo, 'd/b.txt'), 0o755);
    const s = json(await dvs(repo, ['status', '--json']));
    expect(s.entries[0]).toMatchObject({ workspace: 'modified', changes: { added: [], deleted: [], modified: ['b.txt', 'tool.sh'], modeOnly: ['b.txt', 'tool.sh'] } });
    expect((await dvs(repo, ['status', '--granular'])).stdout).toContain('      modified: tool.sh (mode)\n');
    const narrowed = json(await dvs(repo, ['checkout', '--json', 'd/tool.sh']));
    expect(narrowed).toMatchObject({ modified: ['d/tool.sh'], failures: [] });
    expect(isExec(join(repo, 'd/tool.sh'))).toBe(true);
    expect(isExec(join(repo, 'd/b.txt'))).toBe(true);
    expect(json(await dvs(repo, ['checkout', '--json'])).modified).toEqual(['d/b.txt']);
    expect(isExec(join(repo, 'd/b.txt'))).toBe(false);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);

    // A file sharing its inode with the cache object (as an older dvs hardlinked it) is placed again as
    // a copy, never chmod'ed: the object must not turn executable.
    const obj = objectPath(repo, oidOf('#!/bin/sh\n'));
    rmSync(join(repo, 'd/tool.sh'));
    linkSync(obj, join(repo, 'd/tool.sh'));
    expect(json(await dvs(repo, ['status', '--json'])).entries[0].changes.modeOnly).toEqual(['tool.sh']);
    const r = json(await dvs(repo, ['checkout', '--json']));
    expect(r).toMatchObject({ modified: ['d/tool.sh'], links: { copy: 1 }, failures: [] });
    expect([statSync(join(repo, 'd/tool.sh')).nlink, isExec(join(repo, 'd/tool.sh'))]).toEqual([1, true]);
    expect(statSync(obj).mode & 0o333).toBe(0);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
  });
});

describe('dvs checkout --relink', () => {
  it('turns copies into hardlinks after cache.type changes, and never loses a modified file', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/a.txt': 'aaa', 'd/sub/b.txt': 'bbb', 'm.bin': 'model', 'real.txt': 'real' });
    // The user's own link to a file is tracked by its content, and stays a link.
    symlinkSync('real.txt', join(repo, 'alias.txt'));
    await dvs(repo, ['config', 'cache.type', 'copy']);
    expect((await dvs(repo, ['track', 'd', 'm.bin', 'alias.txt'])).code).toBe(0);
    rmSync(join(repo, 'd'), { recursive: true });
    expect((await dvs(repo, ['checkout'])).code).toBe(0);
    for (const f of ['d/a.txt', 'd/sub/b.txt', 'm.bin']) expect(statSync(join(repo, f)).nlink, f).toBe(1);

    await dvs(repo, ['config', 'cache.type', 'hardlink,copy']);
    // Without --relink nothing differs, so nothing moves.
    expect(json(await dvs(repo, ['checkout', '--json'])).relinked).toEqual([]);
    expect(statSync(join(repo, 'd/a.txt')).nlink).toBe(1);

    writeFileSync(join(repo, 'd/sub/b.txt'), 'edited, not tracked');
    const before = snapshot(repo);
    const plan = await dvs(repo, ['checkout', '--relink', '--dry-run']);
    expect(plan.code).toBe(8);
    expect(plan.stdout).toContain('  relinked  d/a.txt\n');
    expect(plan.stdout).toContain('  relinked  m.bin\n');
    expect(snapshot(repo)).toEqual(before);

    const r = await dvs(repo, ['checkout', '--relink', '--json']);
    expect(r.code).toBe(8);
    const out = json(r);
    expect(out).toMatchObject({ added: [], modified: [], deleted: [], relinked: ['d/a.txt', 'm.bin'], links: { hardlink: 2 } });
    expect(out.failures).toEqual([expect.objectContaining({ path: 'd/sub/b.txt', code: 'UNSAVED_CHANGES' })]);
    expect(read(repo, 'd/sub/b.txt')).toBe('edited, not tracked');
    expect(lstatSync(join(repo, 'alias.txt')).isSymbolicLink()).toBe(true);
    for (const [f, content] of [['d/a.txt', 'aaa'], ['m.bin', 'model']]) {
      expect(statSync(join(repo, f)).ino, f).toBe(statSync(objectPath(repo, oidOf(content))).ino);
      expect(statSync(join(repo, f)).nlink, f).toBe(2);
    }
    // With --force the modified file goes back to the tracked version, as a hardlink too.
    const forced = json(await dvs(repo, ['checkout', '--relink', '--force', '--json', 'd']));
    expect(forced).toMatchObject({ modified: ['d/sub/b.txt'], relinked: ['d/a.txt'], failures: [] });
    expect(statSync(join(repo, 'd/sub/b.txt')).ino).toBe(statSync(objectPath(repo, oidOf('bbb'))).ino);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
  });
});

describe('the data hooks', () => {
  it('still run when the Node that installed them is gone (any node on PATH does)', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'model.bin': 'weights-v1' });
    expect((await dvs(repo, ['track', 'model.bin'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'v1');
    expect((await dvs(repo, ['install'])).code).toBe(0);
    const hook = join(repo, '.git/hooks/post-checkout');
    const text = readFileSync(hook, 'utf8');
    expect(text).toContain(`"${process.execPath}"`);
    writeFileSync(hook, text.replaceAll(`"${process.execPath}"`, '"/nonexistent/bin/node"'));
    writeFileSync(join(repo, 'model.bin'), 'weights-v2');
    expect((await dvs(repo, ['track', 'model.bin'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'v2');
    // The hook finds node on PATH: the node running these tests, first on it.
    const dir = process.execPath.slice(0, process.execPath.lastIndexOf('/'));
    const out = spawnSync('git', ['checkout', '-q', 'HEAD~1'], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...GIT_ENV, PATH: `${dir}:${process.env.PATH}` } });
    expect(out.stderr).not.toContain('not found');
    expect(read(repo, 'model.bin')).toBe('weights-v1');
  });
});
