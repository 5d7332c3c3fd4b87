// Data registries: `dvs list`, `get`, `import` and `update` between real repositories. The source is a
// dvs repository whose data went to a directory remote (or S3, against OpenStack Swift when it is
// installed); it is reached through a bare clone, so the objects must come from its remote, or as a
// local path, so its cache can be shared.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

async function ok(cwd: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(cwd, args, { env });
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const DATA = {
  'data/train/a.csv': 'id,x\n1,a\n',
  'data/train/sub/b.csv': 'id,x\n2,b\n',
  'labels.txt': 'cat\ndog\n',
};

/** A source repository with DATA tracked and pushed to `remoteUrl`, committed; and a bare clone of it. */
async function registry(remoteUrl: string, configure: (repo: string) => Promise<void> = async () => {}): Promise<{ src: string; bare: string }> {
  const src = gitRepo();
  writeTree(src, DATA);
  await ok(src, ['track', 'data/train', 'labels.txt']);
  await ok(src, ['remote', 'add', '--default', 'storage', remoteUrl]);
  await configure(src);
  await ok(src, ['push']);
  git(src, 'add', '-A');
  git(src, 'commit', '-q', '-m', 'data v1');
  const bare = join(tempDir(), 'registry.git');
  git(src, 'clone', '-q', '--bare', src, bare);
  return { src, bare };
}

afterAll(() => cleanupTempDirs());

describe('a registry on a directory remote', () => {
  let src: string;
  let bare: string;
  beforeAll(async () => {
    ({ src, bare } = await registry(join(tempDir('dvs-store-'), 'store')));
  }, 60_000);

  it('list shows the tracked data with sizes; -R the files of directories; a path narrows', async () => {
    const r = json(await ok(tempDir(), ['list', bare, '--json']));
    expect(r.commit).toBe(git(src, 'rev-parse', 'HEAD').trim());
    expect(r.data.map((d: any) => [d.path, d.kind, d.size, d.files])).toEqual([
      ['data/train', 'dir', 18, 2],
      ['labels.txt', 'file', 8, undefined],
    ]);
    const text = await ok(tempDir(), ['list', bare]);
    expect(text.stdout).toContain('data/train/  (2 files)');
    expect(text.stdout).toContain('8 B  labels.txt');
    const deep = json(await ok(tempDir(), ['list', bare, 'data', '-R', '--json']));
    expect(deep.data).toHaveLength(1);
    expect(deep.data[0].entries.map((e: any) => [e.path, e.size])).toEqual([['a.csv', 9], ['sub/b.csv', 9]]);
    const one = json(await ok(tempDir(), ['list', bare, 'labels.txt', '--json']));
    expect(one.data.map((d: any) => d.path)).toEqual(['labels.txt']);
    const missing = await dvs(tempDir(), ['list', bare, 'data/nothing']);
    expect(missing.code).toBe(4);
  });

  it('get downloads from the remote without tracking, and will not overwrite without --force', async () => {
    const here = tempDir();
    const r = json(await ok(here, ['get', bare, 'data/train', '--json']));
    expect(r).toMatchObject({ path: 'data/train', out: 'train', kind: 'dir', files: 2, fetched: 3 });
    expect(r.from[0]).toContain('remote "storage"');
    expect(read(here, 'train/sub/b.csv')).toBe(DATA['data/train/sub/b.csv']);
    expect(existsSync(join(here, 'train.dvs'))).toBe(false);

    const again = await dvs(here, ['get', bare, 'data/train']);
    expect(again.code).toBe(5);
    expect(again.stderr).toMatch(/^dvs: error: train already exists/);
    writeFileSync(join(here, 'train/a.csv'), 'changed\n');
    await ok(here, ['get', bare, 'data/train', '--force']);
    expect(read(here, 'train/a.csv')).toBe(DATA['data/train/a.csv']);

    const file = await ok(here, ['get', bare, 'labels.txt', '-o', 'deep/l.txt']);
    expect(file.stdout).toMatch(/^got labels.txt \(8 B\) from .* → deep\/l\.txt; downloaded 1 object/);
    expect(read(here, 'deep/l.txt')).toBe(DATA['labels.txt']);

    // A part of a tracked directory: a file, or a folder of it.
    const part = json(await ok(here, ['get', bare, 'data/train/sub/b.csv', '--json']));
    expect(part).toMatchObject({ kind: 'file', size: 9, partOf: 'data/train', out: 'b.csv' });
    expect(read(here, 'b.csv')).toBe(DATA['data/train/sub/b.csv']);
    await ok(here, ['get', bare, 'data/train/sub', '-o', 'part']);
    expect(read(here, 'part/b.csv')).toBe(DATA['data/train/sub/b.csv']);
    expect(existsSync(join(here, 'part/a.csv'))).toBe(false);
    expect((await dvs(here, ['get', bare, 'data/train/nope.csv'])).code).toBe(4);
  });

  it('get from a local clone shares its cache', async () => {
    const r = json(await ok(tempDir(), ['get', src, 'labels.txt', '--json']));
    expect(r.from).toEqual([`the cache of ${src}`]);
  });

  it('refuses bad input with its exit code: a path out of the source, an unknown path, URL or revision', async () => {
    const here = tempDir();
    const cases: Array<[string[], number, RegExp]> = [
      [['get', bare, '../etc/passwd'], 3, /climbs out|\.\./],
      [['get', bare, '.git/config'], 3, /\.git/],
      [['get', bare, 'nothing/here'], 4, /not tracked by dvs/],
      [['list', join(here, 'no-such-repo.git')], 7, /Cannot clone/],
      [['list', 'ext::sh -c touch% /tmp/x'], 2, /not a repository URL/],
      [['get', bare, 'labels.txt', '--rev', 'no-such-branch'], 4, /no-such-branch/],
    ];
    for (const [args, code, message] of cases) {
      const r = await dvs(here, args);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/internal|    at /);
    }
    const j = json(await dvs(here, ['get', bare, 'nothing', '--json']));
    expect(j.error.code).toBe('SOURCE_NOT_TRACKED');
  });

  it('import tracks the data with its source; update follows a new commit; diff and lineage show say where it came from', async () => {
    const dst = gitRepo();
    const imp = json(await ok(dst, ['import', bare, 'data/train', '-o', 'data/registry-train', '--json']));
    const v1 = git(src, 'rev-parse', 'HEAD').trim();
    expect(imp.source).toEqual({ url: bare, rev: null, path: 'data/train', commit: v1 });
    expect(imp.staged).toEqual(['data/registry-train.dvs', 'data/.gitignore']);
    expect(read(dst, 'data/registry-train/sub/b.csv')).toBe(DATA['data/train/sub/b.csv']);
    const pointer = read(dst, 'data/registry-train.dvs');
    expect(pointer).toContain(`source:\n  url: ${bare}\n  rev: null\n  path: data/train\n  commit: ${v1}\n`);
    // The audit trail records the import, staged with the pointer.
    expect(git(dst, 'status', '--porcelain')).toMatch(/^A  \.dvs\/audit\/\S+\.json\nA  data\/\.gitignore\nA  data\/registry-train\.dvs\n$/);
    const [imported] = json(await ok(dst, ['audit', 'log', '--json'])).events;
    expect(imported).toMatchObject({ type: 'import', paths: [{ path: 'data/registry-train', oid: imp.oid }], data: { url: bare, path: 'data/train', commit: v1 } });
    expect((await ok(dst, ['status'])).stdout).toContain('Everything matches');
    git(dst, 'commit', '-q', '-m', 'import');

    // Importing over it again is refused, with the hint to update.
    const twice = await dvs(dst, ['import', bare, 'data/train', '-o', 'data/registry-train']);
    expect(twice.code).toBe(5);
    expect(twice.stderr).toContain('dvs update data/registry-train');

    // Nothing new in the source: up to date.
    expect(json(await ok(dst, ['update', 'data/registry-train', '--json'])).imports[0].outcome).toBe('current');

    // A new version in the source.
    writeTree(src, { 'data/train/c.csv': 'id,x\n3,c\n' });
    await ok(src, ['track', 'data/train']);
    await ok(src, ['push']);
    git(src, 'commit', '-q', '-m', 'data v2');
    git(src, 'push', '-q', bare, 'main');
    const v2 = git(src, 'rev-parse', 'HEAD').trim();

    // A change made here is not replaced without --force.
    writeFileSync(join(dst, 'data/registry-train/a.csv'), 'mine\n');
    const refused = await dvs(dst, ['update', 'data/registry-train']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/^dvs: error: data\/registry-train: changed here since it was imported/);
    expect(read(dst, 'data/registry-train/a.csv')).toBe('mine\n');

    const up = json(await ok(dst, ['update', 'data/registry-train', '--force', '--json']));
    expect(up.imports[0]).toMatchObject({ outcome: 'updated', fromCommit: v1, toCommit: v2, fetched: 2 });
    expect(json(await ok(dst, ['audit', 'log', '--json'])).events[0]).toMatchObject({ type: 'update', paths: [{ oid: up.imports[0].newOid }], data: { commit: v2, previous: imp.oid } });
    expect(read(dst, 'data/registry-train/c.csv')).toBe('id,x\n3,c\n');
    expect(read(dst, 'data/registry-train/a.csv')).toBe(DATA['data/train/a.csv']);
    expect(read(dst, 'data/registry-train.dvs')).toContain(`commit: ${v2}`);

    const diff = await ok(dst, ['diff', 'HEAD']);
    expect(diff.stdout).toContain(`modified  data/registry-train/  18 B → 27 B (+9 B)\n    imported from ${bare} data/train @ ${v2.slice(0, 10)}\n    added     c.csv  9 B`);
    expect(json(await ok(dst, ['diff', 'HEAD', '--json'])).changes[0].source).toEqual({ url: bare, rev: null, path: 'data/train', commit: v2 });
    const lineage = await ok(dst, ['lineage', 'show', 'data/registry-train']);
    expect(lineage.stdout).toContain(`imported from ${bare} data/train @ ${v2.slice(0, 10)}`);

    // --rev pins the import to an older commit of the source, and the pointer records it.
    const back = json(await ok(dst, ['update', 'data/registry-train', '--rev', v1, '--json']));
    expect(back.imports[0]).toMatchObject({ outcome: 'updated', toCommit: v1 });
    expect(existsSync(join(dst, 'data/registry-train/c.csv'))).toBe(false);
    expect(read(dst, 'data/registry-train.dvs')).toContain(`rev: ${v1}`);

    // Data that was not imported has nothing to update from.
    writeTree(dst, { 'own.txt': 'x' });
    await ok(dst, ['track', 'own.txt']);
    const notImported = await dvs(dst, ['update', 'own.txt']);
    expect(notImported.code).toBe(3);
    expect(notImported.stderr).toContain('not imported');
  }, 120_000);

  it('reads a pointer\'s source record as untrusted input: wrong types are clear errors (exit 3)', async () => {
    const dst = gitRepo();
    await ok(dst, ['import', bare, 'labels.txt']);
    const good = read(dst, 'labels.txt.dvs');
    const bad: Array<[string, RegExp]> = [
      [good.replace(/url: .*/, 'url: 5'), /source\.url must be text, not 5/],
      [good.replace(/commit: .*/, 'commit: main'), /source\.commit must be a full Git commit id/],
      [good.replace(/path: .*/, 'path: ../../etc'), /source\.path .* climbs out/],
      [good.replace(/source:\n(  .*\n)+/, 'source: [1, 2]\n'), /source must be a map/],
      [good.replace(/url: .*/, 'url: "--upload-pack=touch /tmp/x"'), /source\.url must be a repository URL/],
    ];
    for (const [text, message] of bad) {
      writeFileSync(join(dst, 'labels.txt.dvs'), text);
      const r = await dvs(dst, ['update', 'labels.txt']);
      expect(r.code, text).toBe(3);
      expect(r.stderr, text).toMatch(message);
      expect(r.stderr).toContain('labels.txt.dvs:');
    }
  });
});

const SWIFT = swiftAvailable();

describe.skipIf(!SWIFT)('a registry on an S3 remote', () => {
  let server: { endpoint: string; stop(): Promise<void> };
  const bucket = 'dvs-registry';
  const creds = { AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing' };
  beforeAll(async () => {
    server = await startSwift();
    const client = await makeS3Client(server);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);
  afterAll(async () => server?.stop());

  it('get and import fetch from the source\'s S3 remote, with credentials from the environment', async () => {
    const { bare } = await registry(`s3://${bucket}/t${process.pid}/objects`, async (repo) => {
      await ok(repo, ['remote', 'modify', 'storage', 'endpoint', server.endpoint]);
      await ok(repo, ['remote', 'modify', '--local', 'storage', 'access_key_id', creds.AWS_ACCESS_KEY_ID]);
      await ok(repo, ['remote', 'modify', '--local', 'storage', 'secret_access_key', creds.AWS_SECRET_ACCESS_KEY]);
    });
    const here = tempDir();
    const got = json(await ok(here, ['get', bare, 'data/train', '--json'], creds));
    expect(got.from[0]).toContain(`s3://${bucket}/`);
    expect(read(here, 'train/a.csv')).toBe(DATA['data/train/a.csv']);

    const dst = gitRepo();
    const imp = json(await ok(dst, ['import', bare, 'labels.txt', '--json'], creds));
    expect(imp.fetched).toBe(1);
    expect(readFileSync(join(dst, 'labels.txt'), 'utf8')).toBe(DATA['labels.txt']);

    // Without credentials the S3 server refuses: a remote error, not a crash.
    const denied = await dvs(tempDir(), ['get', bare, 'labels.txt'], { env: { AWS_ACCESS_KEY_ID: 'nobody', AWS_SECRET_ACCESS_KEY: 'wrong' } });
    expect(denied.code).toBe(7);
    expect(denied.stderr).toMatch(/^dvs: error: /);
  }, 120_000);
});
