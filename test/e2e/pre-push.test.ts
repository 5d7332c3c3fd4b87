// `git push` with the hooks installed: the pre-push hook sends the data to the remote `dvs push` would
// use, and when it cannot, says so loudly (or, with hooks.require_push, stops the push).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, GIT_ENV, gitRepo, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  expect(r.code, `dvs ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** A dvs repository with the hooks installed and a bare Git repository as `origin`. */
async function withOrigin() {
  const repo = gitRepo();
  await ok(repo, ['install']);
  git(repo, 'commit', '-q', '-m', 'dvs install');
  const bare = tempDir();
  git(bare, 'init', '-q', '--bare');
  git(repo, 'remote', 'add', 'origin', bare);
  return { repo, bare };
}

async function trackAndCommit(repo: string, tree: Record<string, string>, message: string): Promise<string> {
  writeTree(repo, tree);
  await ok(repo, ['track', ...new Set(Object.keys(tree).map((p) => p.split('/')[0]))]);
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD').trim();
}

function gitPush(repo: string) {
  const r = spawnSync('git', ['push', 'origin', 'main'], { cwd: repo, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

/** The commit the bare repository's main points at, if any. */
function remoteMain(bare: string): string | undefined {
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', 'refs/heads/main'], { cwd: bare, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function objectCount(store: string): number {
  if (!existsSync(store)) return 0;
  return readdirSync(store).filter((d) => /^[0-9a-f]{2}$/.test(d)).reduce((n, d) => n + readdirSync(join(store, d)).length, 0);
}

describe('the pre-push hook', () => {
  it('uses the only remote, added without --default, as dvs push does; a fresh clone pulls the data', async () => {
    const { repo, bare } = await withOrigin();
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', 'storage', store]);
    git(repo, 'commit', '-q', '-am', 'remote');
    await trackAndCommit(repo, { 'data/a.csv': 'a\n1\n', 'data/b.csv': 'b\n2\n', 'model.bin': 'weights' }, 'data');

    const push = gitPush(repo);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('dvs: pushed 4 objects'); // two files, their manifest, the model
    expect(push.stderr).not.toContain('WARNING');
    expect(objectCount(store)).toBe(4);

    const clone = tempDir();
    git(clone, 'clone', '-q', '-b', 'main', bare, '.');
    await ok(clone, ['config', '--local', 'remote.storage.url', store]); // a directory remote: confirmed per clone
    await ok(clone, ['pull']);
    expect(read(clone, 'data/b.csv')).toBe('b\n2\n');
    expect(read(clone, 'model.bin')).toBe('weights');
  });

  it('without a remote: quiet while no pushed commit names data, then a loud warning; the push goes ahead', async () => {
    const { repo, bare } = await withOrigin();
    const quiet = gitPush(repo);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('dvs:');

    const head = await trackAndCommit(repo, { 'data/a.csv': 'a\n', 'data/b.csv': 'b\n' }, 'data');
    const push = gitPush(repo);
    expect(push.code, push.stderr).toBe(0);
    expect(remoteMain(bare)).toBe(head);
    expect(push.stderr).toContain('dvs: WARNING: DATA NOT SENT.');
    expect(push.stderr).toContain('dvs:   not sent: data (1 path, 3 objects)');
    expect(push.stderr).toContain('dvs:   because:  No remote is configured');
    const command = `dvs remote add --default <name> <url>  &&  dvs push --rev ${head.slice(0, 10)}`;
    expect(push.stderr).toContain(`dvs:   send it:  ${command}`);
    expect(push.stderr).toContain('dvs config hooks.require_push true');

    // The advice works: a clone gets the data once it is sent.
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '--default', 'storage', store]);
    expect((await ok(repo, ['push', '--rev', head.slice(0, 10)])).stdout).toContain('Pushed 3 objects');
    const clone = tempDir();
    git(clone, 'clone', '-q', '-b', 'main', bare, '.');
    await ok(clone, ['remote', 'add', '--default', 'storage', store]);
    await ok(clone, ['pull']);
    expect(read(clone, 'data/a.csv')).toBe('a\n');
  });

  it('with hooks.require_push: git push fails and the Git remote does not get the commit', async () => {
    const { repo, bare } = await withOrigin();
    await ok(repo, ['config', 'hooks.require_push', 'true']);
    git(repo, 'commit', '-q', '-am', 'require push');
    expect(gitPush(repo).code).toBe(0); // no data named yet: nothing to require
    const before = remoteMain(bare);

    const head = await trackAndCommit(repo, { 'x.bin': 'x' }, 'data');
    const push = gitPush(repo);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('dvs: error: git push stopped: the pushed commits name data that could not be sent to a dvs remote (hooks.require_push is on)');
    expect(push.stderr).toContain('not sent: x.bin (1 path, 1 object)');
    expect(push.stderr).toContain('git push --no-verify');
    expect(remoteMain(bare)).toBe(before);
    expect(remoteMain(bare)).not.toBe(head);

    // Once there is a remote, the same git push sends the data and the commit.
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', 'storage', store]);
    const again = gitPush(repo);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('dvs: pushed 1 object,');
    expect(remoteMain(bare)).toBe(head);
    expect(objectCount(store)).toBe(1);
  });

  it('several remotes and no default: the warning names them and nothing is sent to either', async () => {
    const { repo } = await withOrigin();
    const [one, two] = [join(tempDir(), 'one'), join(tempDir(), 'two')];
    await ok(repo, ['remote', 'add', 'one', one]);
    await ok(repo, ['remote', 'add', 'two', two]);
    git(repo, 'commit', '-q', '-am', 'remotes');
    const head = await trackAndCommit(repo, { 'x.bin': 'x' }, 'data');
    const push = gitPush(repo);
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toContain('dvs: WARNING: DATA NOT SENT.');
    expect(push.stderr).toContain('because:  Several remotes are configured (one, two) and none is the default');
    expect(push.stderr).toContain(`send it:  dvs push -r <one|two> --rev ${head.slice(0, 10)}`);
    expect(objectCount(one) + objectCount(two)).toBe(0);
  });

  it('a remote that cannot be reached, and an object this clone lacks: each named, the push goes ahead', async () => {
    const { repo, bare } = await withOrigin();
    const port = await closedPort();
    await ok(repo, ['remote', 'add', '--default', 'cloud', 's3://bucket/p']);
    await ok(repo, ['remote', 'modify', 'cloud', 'endpoint', `http://127.0.0.1:${port}`]);
    await ok(repo, ['remote', 'modify', '--local', 'cloud', 'access_key_id', 'a']);
    await ok(repo, ['remote', 'modify', '--local', 'cloud', 'secret_access_key', 'b']);
    git(repo, 'commit', '-q', '-am', 'remote');
    const head = await trackAndCommit(repo, { 'x.bin': 'x' }, 'data');
    const push = gitPush(repo);
    expect(push.code, push.stderr).toBe(0);
    expect(remoteMain(bare)).toBe(head);
    expect(push.stderr).toContain('dvs: WARNING: DATA NOT SENT.');
    expect(push.stderr).toContain(`because:  Cannot reach remote "cloud" at http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(push.stderr).toContain(`send it:  dvs push -r cloud --rev ${head.slice(0, 10)}`);

    // A local remote, and an object neither the cache nor the remote has.
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '--default', 'storage', store]);
    const lost = await trackAndCommit(repo, { 'lost.bin': 'lost', 'kept.bin': 'kept' }, 'more');
    const oid = read(repo, 'lost.bin.dvs').match(/sha256:([0-9a-f]{64})/)![1];
    chmodSync(join(repo, '.dvs/cache', oid.slice(0, 2)), 0o755);
    rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)), { force: true });
    const partial = gitPush(repo);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stderr).toMatch(/dvs: pushed \d+ objects?,/);
    expect(partial.stderr).toContain(`not sent: lost.bin (at ${lost.slice(0, 10)}) (1 path, 1 object)`);
    expect(partial.stderr).toContain('is neither in the cache nor on remote "storage"');
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
