// The library API (`import … from 'dvs'`, docs/api.md), against real repositories: data read at a
// revision from a clone with nothing checked out, bytes verified as they stream (a corrupted remote copy
// fails the stream and never enters the cache), the verbs returning exactly what --json prints, errors
// with the CLI's codes and exit statuses, and the examples of docs/api.md run as a user would run them.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, GIT_ENV, git, gitRepo, json, PROJECT, tempDir, writeTree } from '../helpers.js';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';

// The API runs in this process, and calls Git: the same fixed identity and config as the CLI's tests.
Object.assign(process.env, GIT_ENV);

type Api = typeof import('../../src/api/index.js');
let api: Api;

async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

const V1 = { 'data/train.csv': 'x,y\n1,2\n2,4\n3,6\n', 'data/images/a.txt': 'first a\n', 'data/images/sub/b.txt': 'first b\n' };
const V2 = { 'data/train.csv': 'x,y\n1,2\n2,4\n3,6\n4,8\n', 'data/images/a.txt': 'second a\n', 'data/images/sub/b.txt': 'first b\n' };

/** An origin with two commits of data pushed to a directory remote, and a clone with no data checked out. */
async function history(): Promise<{ origin: string; clone: string; store: string }> {
  const origin = gitRepo();
  const store = join(tempDir('dvs-store-'), 'store');
  writeTree(origin, V1);
  await ok(origin, ['track', 'data/train.csv', 'data/images']);
  await ok(origin, ['remote', 'add', '--default', 'store', store]);
  git(origin, 'add', '-A');
  git(origin, 'commit', '-q', '-m', 'data v1');
  writeTree(origin, V2);
  await ok(origin, ['track', 'data/train.csv', 'data/images']);
  git(origin, 'commit', '-q', '-m', 'data v2');
  await ok(origin, ['push', '--rev', 'HEAD~1']);
  const clone = join(tempDir('dvs-clone-'), 'clone');
  git(origin, 'clone', '-q', origin, clone);
  // A directory remote outside the clone is used only once this machine confirms it (docs/security.md).
  await ok(clone, ['config', '--local', 'remote.store.url', store]);
  return { origin, clone, store };
}

const cacheFiles = (root: string): string[] => {
  const dir = join(root, '.dvs', 'cache');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
};

beforeAll(async () => {
  api = (await import(join(PROJECT, 'dist', 'api', 'index.js'))) as Api;
});
afterAll(() => cleanupTempDirs());

describe('reading data at a revision (open, read, list, getUrl)', () => {
  let repos: Awaited<ReturnType<typeof history>>;
  beforeAll(async () => {
    repos = await history();
  }, 120_000);

  it('reads a file and a file inside a tracked directory at HEAD~1 and HEAD, with nothing checked out and git status untouched', async () => {
    const { clone } = repos;
    expect(existsSync(join(clone, 'data', 'train.csv'))).toBe(false);
    const before = git(clone, 'status', '--porcelain');
    expect((await api.read('data/train.csv', { cwd: clone, rev: 'HEAD~1' })).toString()).toBe(V1['data/train.csv']);
    expect((await api.read('data/images/a.txt', { cwd: clone, rev: 'HEAD~1' })).toString()).toBe(V1['data/images/a.txt']);
    expect((await api.read('data/images/sub/b.txt', { cwd: clone, rev: 'HEAD~1' })).toString()).toBe(V1['data/images/sub/b.txt']);
    expect(existsSync(join(clone, 'data', 'train.csv'))).toBe(false);
    expect(git(clone, 'status', '--porcelain')).toBe(before);
    // What came from the remote is now in the cache, verified: a second read needs no remote.
    expect(cacheFiles(clone).length).toBeGreaterThanOrEqual(4);
  });

  it('streams: open() gives a Readable whose bytes are the file', async () => {
    const stream = await api.open('data/train.csv', { cwd: repos.clone, rev: 'HEAD~1' });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe(V1['data/train.csv']);
  });

  it('lists what is tracked, and the files of a tracked directory', async () => {
    const top = await api.list(undefined, { cwd: repos.clone, rev: 'HEAD~1' });
    expect(top.map((e) => [e.path, e.kind, e.size])).toEqual([
      ['data/images', 'dir', 16],
      ['data/train.csv', 'file', V1['data/train.csv'].length],
    ]);
    expect(top[0].files).toBe(2);
    const files = await api.list('data/images', { cwd: repos.clone, rev: 'HEAD~1' });
    expect(files.map((e) => [e.path, e.kind, e.trackedIn])).toEqual([
      ['data/images/a.txt', 'file', 'data/images'],
      ['data/images/sub/b.txt', 'file', 'data/images'],
    ]);
    expect((await api.list('data/images/sub', { cwd: repos.clone, rev: 'HEAD~1' })).map((e) => e.path)).toEqual(['data/images/sub/b.txt']);
    const recursive = await api.list('data', { cwd: repos.clone, recursive: true });
    expect(recursive.map((e) => e.path)).toEqual(['data/images', 'data/images/a.txt', 'data/images/sub/b.txt', 'data/train.csv']);
  });

  it('getUrl names the object on the remote (a file that holds the bytes, for a directory remote)', async () => {
    const url = await api.getUrl('data/train.csv', { cwd: repos.clone, rev: 'HEAD~1' });
    expect(url).toMatch(new RegExp(`^${repos.store}/[0-9a-f]{2}/[0-9a-f]{62}$`));
    expect(readFileSync(url!, 'utf8')).toBe(V1['data/train.csv']);
    const manifestUrl = await api.getUrl('data/images', { cwd: repos.clone, rev: 'HEAD~1' });
    expect(readFileSync(manifestUrl!, 'utf8')).toContain('a.txt');
    const bare = gitRepo();
    writeTree(bare, { 'f.txt': 'f\n' });
    await ok(bare, ['track', 'f.txt']);
    expect(await api.getUrl('f.txt', { cwd: bare })).toBeUndefined();
    // Other backends name the object their way; a loose remote is not asked (packed, its indexes are).
    const oid = /[0-9a-f]{2}\/[0-9a-f]{62}$/.exec(url!)![0];
    await ok(bare, ['remote', 'add', 'web', 'https://data.example.org/sets/v3/']);
    await ok(bare, ['remote', 'add', '--format', 'loose', 'nas', 'ssh://ana@nas.lab:2222/srv/dvs']);
    writeTree(bare, { 'f.txt': V1['data/train.csv'] });
    await ok(bare, ['track', 'f.txt']);
    expect(await api.getUrl('f.txt', { cwd: bare, remote: 'web' })).toBe(`https://data.example.org/sets/v3/${oid}`);
    expect(await api.getUrl('f.txt', { cwd: bare, remote: 'nas' })).toBe(`ssh://ana@nas.lab:2222/srv/dvs/${oid}`);
    // A packed remote keeps small objects inside packs and big ones as chunks: no key of their own, so no URL; one of 1 to 4 MiB stays loose.
    const packed = join(tempDir('dvs-store-'), 'packed');
    await ok(bare, ['remote', 'add', '--format', 'packed', 'packed', packed]);
    writeTree(bare, { 'big.bin': Buffer.alloc((1 << 20) + 1, 7), 'huge.bin': Buffer.alloc(4 << 20, 9) });
    await ok(bare, ['track', 'big.bin', 'huge.bin']);
    await ok(bare, ['push', '-r', 'packed']);
    expect(await api.getUrl('f.txt', { cwd: bare, remote: 'packed' })).toBeUndefined();
    expect(await api.getUrl('huge.bin', { cwd: bare, remote: 'packed' })).toBeUndefined(); // as chunks
    expect(readFileSync((await api.getUrl('big.bin', { cwd: bare, remote: 'packed' }))!).length).toBe((1 << 20) + 1);
  });

  it('reads from another repository given by URL (a bare clone into a temp dir; objects from its remote)', async () => {
    const url = `file://${repos.origin}`;
    expect((await api.read('data/images/a.txt', { repo: url, rev: 'HEAD~1' })).toString()).toBe(V1['data/images/a.txt']);
    expect((await api.list(undefined, { repo: url })).map((e) => e.path)).toEqual(['data/images', 'data/train.csv']);
  });

  it('fails with typed errors carrying the CLI codes and exit statuses', async () => {
    const { clone } = repos;
    const missing = await api.read('data/nope.csv', { cwd: clone, rev: 'HEAD~1' }).catch((e) => e);
    expect(missing).toBeInstanceOf(api.DvsError);
    expect([missing.code, missing.exitCode]).toEqual(['NOT_TRACKED', 4]);
    const dir = await api.read('data/images', { cwd: clone }).catch((e) => e);
    expect([dir.code, dir.exitCode]).toEqual(['IS_A_DIRECTORY', 2]);
    const rev = await api.read('data/train.csv', { cwd: clone, rev: 'no-such-branch' }).catch((e) => e);
    expect([rev.code, rev.exitCode]).toEqual(['UNKNOWN_REVISION', 4]);
    const escape = await api.read('../outside', { cwd: clone }).catch((e) => e);
    expect(escape).toBeInstanceOf(api.DvsError);
    expect(escape.exitCode).toBe(3);
  });

  it('refuses a pointer reached through a link out of the workspace', async () => {
    const repo = gitRepo();
    const outside = tempDir('dvs-outside-');
    writeTree(outside, { 'x.csv.dvs': readFileSync(join(repos.origin, 'data', 'train.csv.dvs'), 'utf8') });
    symlinkSync(outside, join(repo, 'linked'), 'dir');
    const err = await api.read('linked/x.csv', { cwd: repo }).catch((e) => e);
    expect([err.code, err.exitCode]).toEqual(['PATH_THROUGH_SYMLINK', 3]);
  });

  it('a corrupted remote copy fails the stream at its end, and never enters the cache', async () => {
    const { clone, store } = await history();
    const url = (await api.getUrl('data/train.csv', { cwd: clone }))!;
    chmodSync(url, 0o644);
    writeFileSync(url, V2['data/train.csv'].replace('4,8', '4,9'));
    const stream = await api.open('data/train.csv', { cwd: clone });
    const got: Buffer[] = [];
    const err = await (async () => {
      for await (const c of stream) got.push(c as Buffer);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(api.DvsError);
    expect([err.code, err.exitCode]).toEqual(['REMOTE_OBJECT_CORRUPTED', 3]);
    const oid = url.slice(store.length + 1).replace('/', '');
    expect(cacheFiles(clone).some((f) => f.endsWith(oid.slice(2)))).toBe(false);
    expect(readdirSync(join(clone, '.dvs', 'cache', 'tmp'), { withFileTypes: true }).filter((d) => d.isFile())).toEqual([]);
  });

  it('a corrupted cache object fails the stream too', async () => {
    const { clone } = await history();
    await api.read('data/train.csv', { cwd: clone });
    const oid = (await api.list('data/train.csv', { cwd: clone }))[0].oid;
    const file = join(clone, '.dvs', 'cache', oid.slice(0, 2), oid.slice(2));
    chmodSync(file, 0o644);
    writeFileSync(file, 'x,y\n0,0\n');
    const err = await api.read('data/train.csv', { cwd: clone }).catch((e) => e);
    expect([err.code, err.exitCode]).toEqual(['OBJECT_CORRUPTED', 3]);
  });
});

describe.skipIf(!swiftAvailable())('reading from an S3 remote', () => {
  let server: { endpoint: string; stop(): Promise<void> };
  let client: Awaited<ReturnType<typeof makeS3Client>>;
  const bucket = 'dvs-api';
  beforeAll(async () => {
    server = await startSwift();
    client = await makeS3Client(server);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    // The API runs in this process: the credentials come from its environment, as for the CLI.
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  }, 120_000);
  afterAll(async () => server?.stop());

  it('streams a file of HEAD~1 from S3 into a clone with no data (verified, then cached); a corrupted copy fails', async () => {
    const origin = gitRepo();
    writeTree(origin, V1);
    await ok(origin, ['track', 'data/train.csv', 'data/images']);
    // Loose: the test alters the object under its own key (getUrl names it).
    await ok(origin, ['remote', 'add', '--default', '--format', 'loose', 'store', `s3://${bucket}/p${process.pid}`]);
    await ok(origin, ['remote', 'modify', 'store', 'endpoint', server.endpoint]);
    git(origin, 'add', '-A');
    git(origin, 'commit', '-q', '-m', 'data v1');
    writeTree(origin, V2);
    await ok(origin, ['track', 'data/train.csv', 'data/images']);
    git(origin, 'commit', '-q', '-m', 'data v2');
    const pushed = await dvs(origin, ['push', '--rev', 'HEAD~1'], { env: { AWS_ACCESS_KEY_ID: 'test:tester', AWS_SECRET_ACCESS_KEY: 'testing' } });
    expect(pushed.code, pushed.stderr).toBe(0);
    const clone = join(tempDir('dvs-clone-'), 'clone');
    git(origin, 'clone', '-q', origin, clone);

    expect((await api.read('data/images/sub/b.txt', { cwd: clone, rev: 'HEAD~1' })).toString()).toBe(V1['data/images/sub/b.txt']);
    expect((await api.read('data/train.csv', { cwd: clone, rev: 'HEAD~1' })).toString()).toBe(V1['data/train.csv']);
    const url = (await api.getUrl('data/train.csv', { cwd: clone }))!;
    const key = new RegExp(`^s3://${bucket}/(p${process.pid}/[0-9a-f]{2}/[0-9a-f]{62})$`).exec(url)?.[1];
    expect(key, url).toBeDefined();

    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: V2['data/train.csv'].replace('4,8', '4,9') }));
    const err = await api.read('data/train.csv', { cwd: clone }).catch((e) => e);
    expect([err.code, err.exitCode]).toEqual(['REMOTE_OBJECT_CORRUPTED', 3]);
    const oid = key!.slice(-65).replace('/', '');
    expect(existsSync(join(clone, '.dvs', 'cache', oid.slice(0, 2), oid.slice(2)))).toBe(false);
  }, 180_000);
});

describe('the verbs as functions', () => {
  it('return exactly what --json prints, and report progress as events', async () => {
    const [repo, twin] = [gitRepo(), gitRepo()];
    for (const r of [repo, twin]) writeTree(r, { 'data/a.csv': 'id\n1\n', 'data/b.csv': 'id\n2\n' });
    const tracked = await api.track('data', { cwd: repo });
    expect(tracked).toEqual(json(await ok(twin, ['track', 'data', '--json'])));
    const status = await api.status({ cwd: repo });
    expect(status).toEqual(json(await ok(repo, ['status', '--json'])));
    const store = join(tempDir('dvs-store-'), 'store');
    await ok(repo, ['remote', 'add', '--default', 'store', store]);
    const events: string[] = [];
    const pushed = await api.push({ cwd: repo, onProgress: (e) => events.push(e.phase) });
    expect(pushed).toMatchObject({ failures: [] });
    expect(events).toContain('upload');
    expect(await api.push({ cwd: repo })).toEqual(json(await ok(repo, ['push', '--json'])));
    git(repo, 'commit', '-q', '-m', 'data');
    writeTree(repo, { 'data/b.csv': 'id\n3\n' });
    expect(await api.diff({ cwd: repo })).toEqual(json(await ok(repo, ['diff', '--json'])));
  });

  it('throw DvsError with the code and exit status the CLI reports', async () => {
    const repo = gitRepo();
    const err = await api.push({ cwd: repo }).catch((e) => e);
    const cli = await dvs(repo, ['push', '--json']);
    expect(err).toBeInstanceOf(api.DvsError);
    expect(err.code).toBe(json(cli).error.code);
    expect(err.exitCode).toBe(cli.code);
    const outside = await api.status({ cwd: tempDir() }).catch((e) => e);
    expect([outside.code, outside.exitCode]).toEqual(['NOT_A_DVS_REPO', 6]);
  });

  it('record a run, its lineage and audit trail as the CLI does', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/train.csv': 'x,y\n1,2\n' });
    await api.track('data/train.csv', { cwd: repo });
    git(repo, 'commit', '-q', '-m', 'data');
    const started = await api.runs.start('run-1', { cwd: repo, model: 'm', datasets: 'data/train.csv', params: { lr: 0.1 } });
    expect(started.action).toBe('start');
    expect(started.run.params).toEqual({ lr: 0.1 });
    const finished = await api.runs.finish('run-1', { cwd: repo, metrics: { loss: 0.5 } });
    expect(finished.run.metrics).toEqual({ loss: 0.5 });
    expect(await api.runs.show('run-1', { cwd: repo })).toEqual(json(await ok(repo, ['run', 'show', 'run-1', '--json'])));
    expect(await api.runs.list({ cwd: repo })).toEqual(json(await ok(repo, ['run', 'list', '--json'])));
    expect((await api.lineage.show('data/train.csv', { cwd: repo })).action).toBe('show');
    const verified = await api.audit.verify({ cwd: repo });
    expect(verified).toEqual(json(await ok(repo, ['audit', 'verify', '--json'])));
  });

  it('make, rebuild, hash, checkpoint, lock and import data as the CLI does', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'raw.csv': 'id,score\n1,0.9\n2,0.1\n3,0.7\n' });
    await api.track('raw.csv', { cwd: repo });
    // The command runs without a shell, in the repository; its output is tracked and its lineage recorded.
    const filter = ['node', '-e', "const f=require('fs');f.writeFileSync('kept.csv',f.readFileSync('raw.csv','utf8').split('\\n').filter((l,i)=>i===0||Number(l.split(',')[1])>=0.5).join('\\n'))"];
    const made = await api.transform(filter, { cwd: repo, name: 'filter', inputs: 'raw.csv', outputs: 'kept.csv', params: { min: 0.5 } });
    expect(made).toMatchObject({ transform: 'filter', params: { min: 0.5 }, ran: 'here' });
    expect(readFileSync(join(repo, 'kept.csv'), 'utf8')).toBe('id,score\n1,0.9\n3,0.7');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'filtered');
    const plan = await api.repro('kept.csv', { cwd: repo, dryRun: true });
    expect(plan).toEqual(json(await ok(repo, ['repro', 'kept.csv', '--dry-run', '--json'])));
    expect(plan).toMatchObject({ action: 'repro', steps: [{ transform: 'filter', status: 'up-to-date' }] });
    const hashed = await api.hashRecords('kept.csv', { cwd: repo });
    expect(hashed).toEqual({ ...json(await ok(repo, ['hash', '--records', 'kept.csv', '--json'])), cached: 0 }); // the CLI's came from the cache

    writeTree(repo, { 'stream/2024-08/a.jsonl': '{"id":1}\n' });
    await api.track('stream', { cwd: repo, appendOnly: true });
    const marked = await api.checkpoints.create('stream', { cwd: repo, message: 'August' });
    expect(marked.checkpoint).toMatchObject({ path: 'stream', message: 'August', added: 1 });
    expect(await api.checkpoints.list('stream', { cwd: repo })).toEqual(json(await ok(repo, ['checkpoint', '--list', 'stream', '--json'])));
    await ok(repo, ['remote', 'add', '--default', 'store', join(tempDir('dvs-store-'), 'store')]);
    expect((await api.locks.lock('stream/2024-08', { cwd: repo })).lock).toMatchObject({ path: 'stream/2024-08' });
    expect(await api.locks.list({ cwd: repo })).toEqual(json(await ok(repo, ['locks', '--json'])));
    await api.locks.unlock('stream/2024-08', { cwd: repo });
    expect((await api.locks.list({ cwd: repo })).locks).toEqual([]);

    // Another repository takes the filtered data from this one: imported (tracked, source recorded) and got (a plain copy).
    await api.push({ cwd: repo });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'stream');
    const consumer = gitRepo();
    const imported = await api.importData(repo, 'kept.csv', { cwd: consumer, out: 'data/kept.csv' });
    expect(imported).toMatchObject({ path: 'data/kept.csv' });
    expect(readFileSync(join(consumer, 'data/kept.csv'), 'utf8')).toBe('id,score\n1,0.9\n3,0.7');
    expect((await api.update('data/kept.csv', { cwd: consumer })).imports).toMatchObject([{ path: 'data/kept.csv', outcome: 'current' }]);
    const elsewhere = tempDir();
    await api.get(repo, 'kept.csv', { cwd: elsewhere, out: 'copy.csv' });
    expect(readFileSync(join(elsewhere, 'copy.csv'), 'utf8')).toBe('id,score\n1,0.9\n3,0.7');
  });
});

describe('the package', () => {
  /** A project that depends on dvs: node_modules/dvs is this package, as npm would link it. */
  function consumer(): string {
    const dir = tempDir('dvs-consumer-');
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(PROJECT, join(dir, 'node_modules', 'dvs'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{"type":"module","private":true}\n');
    return dir;
  }

  const node = (cwd: string, args: string[]) => {
    const env = { ...process.env, ...GIT_ENV };
    delete env.NODE_OPTIONS;
    const r = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('is imported by name through its exports map; deep imports are closed', () => {
    const dir = consumer();
    writeFileSync(join(dir, 'probe.mjs'), "import * as dvs from 'dvs';\nconsole.log(Object.keys(dvs).sort().join(' '));\nawait import('dvs/dist/cli/main.js').catch((e) => console.log(e.code));\n");
    const r = node(dir, ['probe.mjs']);
    expect(r.stderr).toBe('');
    const [names, deep] = r.stdout.trim().split('\n');
    expect(names.split(' ')).toEqual(expect.arrayContaining(['open', 'read', 'list', 'getUrl', 'track', 'status', 'checkout', 'push', 'pull', 'diff', 'runs', 'lineage', 'audit', 'transform', 'repro', 'hashRecords', 'checkpoints', 'locks', 'get', 'importData', 'update', 'DvsError']));
    expect(deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    const pkg = JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8'));
    expect(existsSync(join(PROJECT, pkg.exports['.'].types))).toBe(true);
  });

  it('shows in docs/api.md the examples exactly as they are tested', () => {
    const doc = readFileSync(join(PROJECT, 'docs', 'api.md'), 'utf8');
    for (const name of ['open-at-previous-commit.mjs', 'training-run.mjs']) {
      expect(doc, name).toContain('```js\n' + readFileSync(join(PROJECT, 'examples', name), 'utf8') + '```');
    }
  });

  it('runs the examples of docs/api.md: a dataset opened at HEAD~1 from a clone with no data, and a training run', async () => {
    const { clone } = await history();
    const dir = consumer();
    for (const name of ['open-at-previous-commit.mjs', 'training-run.mjs']) copyFileSync(join(PROJECT, 'examples', name), join(dir, name));
    const opened = node(dir, ['open-at-previous-commit.mjs', clone, 'data/train.csv']);
    expect(opened.stderr).toBe('');
    expect(opened.stdout).toContain('tracked at HEAD~1: data/images (dir, 16 B), data/train.csv (file, 16 B)');
    expect(opened.stdout).toContain('header: x,y');
    expect(opened.stdout).toContain('data/train.csv at HEAD~1: 4 lines');
    expect(existsSync(join(clone, 'data', 'train.csv'))).toBe(false);

    await ok(clone, ['pull']);
    const trained = node(dir, ['training-run.mjs', clone, 'run-7', 'data/train.csv']);
    expect(trained.stderr).toBe('');
    expect(trained.stdout).toMatch(/^started run-7 \(\.dvs\/runs\/run-7\.yaml\)/);
    expect(trained.stdout).toContain('epoch 3: loss');
    const shown = json(await ok(clone, ['run', 'show', 'run-7', '--json']));
    expect(shown.run.status).toBe('finished');
    expect(Object.keys(shown.run.metrics).sort()).toEqual(['loss', 'weight']);
    expect(shown.run.datasets.map((d: { path: string }) => d.path)).toEqual(['data/train.csv']);
    // The example fails the way the CLI does: the error on stderr, the exit status of its kind.
    const failed = node(dir, ['open-at-previous-commit.mjs', clone, 'data/nope.csv']);
    expect(failed.stderr).toMatch(/^dvs: error: data\/nope\.csv: not tracked/);
    expect(failed.code).toBe(4);
  });
});
