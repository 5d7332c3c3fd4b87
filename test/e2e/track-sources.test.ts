// `dvs track` from other sources than a path in the workspace: glob patterns (--glob), data outside the
// repository (-o/--out), and data sent straight to a remote (--to-remote).
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, setDvsConfig, dvs, git, gitRepo, json, read, tempDir, writeTree, type Tree } from '../helpers.js';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}


/** Every object file in a cache or a local remote (shard folders only). */
function objectsIn(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((s) => /^[0-9a-f]{2}$/.test(s)).flatMap((s) => readdirSync(join(root, s)).map((n) => s + n));
}

/** A folder outside any repository, read-only like a shared mount. */
function outsideData(): { dir: string; files: Record<string, Buffer> } {
  const dir = tempDir('dvs-source-');
  const files = { 'a.bin': randomBytes(3000), 'nested/b.bin': randomBytes(5000), 'nested/c.txt': Buffer.from('c\n') };
  writeTree(dir, files);
  for (const f of Object.keys(files)) chmodSync(join(dir, f), 0o444);
  return { dir, files };
}

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
    const away = tempDir('dvs-away-');
    writeTree(away, { 'secret.csv': 's\n' });
    symlinkSync(away, join(repo, 'away'));
    const linkedOut = await dvs(repo, ['track', '--glob', 'away/*.csv']);
    expect(linkedOut.code).toBe(3);
    expect(linkedOut.stderr).toContain('dvs: error: away/*.csv: outside the repository');
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

describe('dvs track <outside> -o <path>', () => {
  it('copies data from outside into the cache, places it at the path, and leaves the source as it was', async () => {
    const repo = repoWith({});
    const { dir, files } = outsideData();
    const r = await dvs(repo, ['track', dir, '-o', 'data/imported', '--json']);
    expect(r.code).toBe(0);
    const item = json(r).items[0];
    expect(item).toMatchObject({ path: 'data/imported', pointerPath: 'data/imported.dvs', kind: 'dir', files: 3, size: 8002, changed: true, source: dir });
    for (const [f, bytes] of Object.entries(files)) {
      expect(sha(readFileSync(join(repo, 'data/imported', f)))).toBe(sha(bytes));
      expect(objectsIn(join(repo, '.dvs/cache'))).toContain(sha(bytes));
      // The source is only read: same bytes, same mode, not linked into the cache.
      expect(sha(readFileSync(join(dir, f)))).toBe(sha(bytes));
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o444);
      expect(statSync(join(dir, f)).nlink).toBe(1);
    }
    expect(read(repo, 'data/.gitignore')).toContain('/imported');
    expect(git(repo, 'diff', '--cached', '--name-only')).toContain('data/imported.dvs');
    const status = json(await dvs(repo, ['status', '--json']));
    expect(status.clean).toBe(true);
  });

  it('places a file as cache.type says (hardlink here)', async () => {
    const repo = repoWith({});
    const { dir, files } = outsideData();
    await ok(repo, ['config', 'cache.type', 'hardlink,copy']);
    await ok(repo, ['track', join(dir, 'a.bin'), '-o', 'model.bin']);
    expect(sha(readFileSync(join(repo, 'model.bin')))).toBe(sha(files['a.bin']));
    expect(statSync(join(repo, 'model.bin')).nlink).toBe(2); // the workspace file is the cache object
    expect(statSync(join(dir, 'a.bin')).nlink).toBe(1);
  });

  it('refuses an existing destination unless --force, and destinations outside or overlapping the source', async () => {
    const repo = repoWith({ 'data/old.csv': 'old\n' });
    const { dir, files } = outsideData();
    const exists = await dvs(repo, ['track', dir, '-o', 'data/old.csv']);
    expect(exists.code).toBe(5);
    expect(exists.stderr).toContain('dvs: error: data/old.csv: already exists; dvs will not replace it');
    expect(exists.stderr).toContain('--force');
    expect(read(repo, 'data/old.csv')).toBe('old\n');
    expect(existsSync(join(repo, 'data/old.csv.dvs'))).toBe(false);

    const forced = await dvs(repo, ['track', join(dir, 'nested/c.txt'), '-o', 'data/old.csv', '--force']);
    expect(forced.code).toBe(0);
    expect(sha(readFileSync(join(repo, 'data/old.csv')))).toBe(sha(files['nested/c.txt']));

    const outside = await dvs(repo, ['track', dir, '-o', join(dir, '..', 'elsewhere')]);
    expect(outside.code).toBe(3);
    expect(outside.stderr).toContain('outside the repository');

    const inner = await dvs(repo, ['track', repo, '-o', 'copy']);
    expect(inner.code).toBe(2);
    expect(inner.stderr).toContain('inside the source');

    const two = await dvs(repo, ['track', dir, join(dir, 'a.bin'), '-o', 'x']);
    expect(two.code).toBe(2);
    const missing = await dvs(repo, ['track', join(dir, 'nope'), '-o', 'x']);
    expect(missing.code).toBe(4);
    expect(existsSync(join(repo, 'x.dvs'))).toBe(false);
    expect(existsSync(join(repo, 'copy.dvs'))).toBe(false);
  });
});

describe('dvs track --to-remote (directory remote)', () => {
  it('sends the data straight to the remote, keeps no cache copy and, with -o, places nothing; pull gets it', async () => {
    const repo = repoWith({ 'big.bin': randomBytes(20_000) });
    const remote = join(tempDir('dvs-remote-'), 'store');
    await ok(repo, ['remote', 'add', '--default', 'store', remote]);
    const { dir, files } = outsideData();
    const r = await dvs(repo, ['track', dir, '-o', 'data/corpus', '--to-remote', '--json']);
    expect(r.code).toBe(0);
    expect(json(r).items[0]).toMatchObject({ path: 'data/corpus', kind: 'dir', files: 3, remote: 'store', source: dir });
    expect(existsSync(join(repo, 'data/corpus'))).toBe(false);
    const manifest = json(r).items[0].oid.replace(/^sha256:/, '');
    const onRemote = objectsIn(remote);
    for (const bytes of Object.values(files)) {
      expect(onRemote).toContain(sha(bytes));
      expect(objectsIn(join(repo, '.dvs/cache'))).not.toContain(sha(bytes));
    }
    expect(onRemote).toContain(manifest);
    expect(read(repo, 'data/.gitignore')).toContain('/corpus');

    // In the workspace: the data stays, the cache gets nothing, the remote gets it.
    const inRepo = await dvs(repo, ['track', 'big.bin', '--to-remote', '-r', 'store']);
    expect(inRepo.code).toBe(0);
    expect(inRepo.stdout).toContain('on remote "store", not in the cache');
    const big = readFileSync(join(repo, 'big.bin'));
    expect(objectsIn(remote)).toContain(sha(big));
    expect(objectsIn(join(repo, '.dvs/cache'))).not.toContain(sha(big));

    await ok(repo, ['pull']);
    for (const [f, bytes] of Object.entries(files)) expect(sha(readFileSync(join(repo, 'data/corpus', f)))).toBe(sha(bytes));
    expect(json(await dvs(repo, ['status', '--json'])).clean).toBe(true);
  });

  it('sends folders of the workspace matched by --glob, manifest included; a second run sends nothing', async () => {
    const repo = repoWith({ 'shards/s1/x.bin': randomBytes(1000), 'shards/s1/y.bin': randomBytes(1000), 'shards/s2/z.bin': randomBytes(1000) });
    const remote = join(tempDir('dvs-remote-'), 'store');
    await ok(repo, ['remote', 'add', '--default', 'store', remote]);
    const r = await dvs(repo, ['track', '--glob', 'shards/s*', '--to-remote', '--json']);
    expect(r.code).toBe(0);
    const items = json(r).items;
    expect(items.map((i: { path: string; kind: string; files: number }) => `${i.path}:${i.kind}:${i.files}`)).toEqual(['shards/s1:dir:2', 'shards/s2:dir:1']);
    const onRemote = objectsIn(remote);
    for (const f of ['shards/s1/x.bin', 'shards/s1/y.bin', 'shards/s2/z.bin']) {
      const digest = sha(readFileSync(join(repo, f)));
      expect(onRemote).toContain(digest);
      expect(objectsIn(join(repo, '.dvs/cache'))).not.toContain(digest);
    }
    for (const i of items) expect(onRemote).toContain(i.oid.replace(/^sha256:/, ''));
    expect(existsSync(join(repo, 'shards/s1/x.bin'))).toBe(true);
    const objectFile = (oid: string) => join(remote, oid.slice(0, 2), oid.slice(2));
    const before = onRemote.map((oid) => statSync(objectFile(oid)).ino);
    const again = await dvs(repo, ['track', '--glob', 'shards/s*', '--to-remote', '--json']);
    expect(again.code).toBe(0);
    expect(json(again).items.map((i: { changed: boolean }) => i.changed)).toEqual([false, false]);
    expect(onRemote.map((oid) => statSync(objectFile(oid)).ino)).toEqual(before); // nothing written again
  });

  it('without a remote fails before anything is written', async () => {
    const repo = repoWith({ 'a.bin': 'a' });
    const r = await dvs(repo, ['track', 'a.bin', '--to-remote']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('No remote is configured');
    expect(existsSync(join(repo, 'a.bin.dvs'))).toBe(false);
    const flag = await dvs(repo, ['track', 'a.bin', '-r', 'x']);
    expect(flag.code).toBe(2);
  });
});

describe.skipIf(!swiftAvailable())('dvs track --to-remote (S3)', () => {
  let swift: { endpoint: string; stop(): Promise<void> };
  let client: Awaited<ReturnType<typeof makeS3Client>>;
  const bucket = 'dvs-track-sources';
  beforeAll(async () => {
    swift = await startSwift();
    client = await makeS3Client(swift);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }, 120_000);
  afterAll(async () => swift?.stop());

  /** The remote `s3`, the default, written into the config files directly (each dvs start costs seconds on a busy machine). */
  function withS3(repo: string, secret = 'testing', format = 'loose'): string {
    const prefix = randomBytes(4).toString('hex');
    setDvsConfig(repo, { 'remote.s3.url': `s3://${bucket}/${prefix}`, 'remote.s3.endpoint': swift.endpoint, 'remote.s3.format': format, 'core.remote': 's3' });
    git(repo, 'add', '.dvs/config');
    credentials(repo, secret);
    return prefix;
  }

  function credentials(repo: string, secret = 'testing') {
    setDvsConfig(repo, { 'remote.s3.access_key_id': 'test:tester', 'remote.s3.secret_access_key': secret }, 'config.local');
  }

  it('uploads a directory (packed: small files in a pack, a big one as chunks) and its manifest; a clone pulls it', async () => {
    const repo = repoWith({});
    const prefix = withS3(repo, 'testing', 'packed');
    const { dir, files } = outsideData();
    const large = randomBytes(6 * 1024 * 1024 + 7);
    writeTree(dir, { 'large.bin': large });
    const r = await dvs(repo, ['track', dir, '-o', 'data/corpus', '--to-remote', '--json']);
    expect(r.code).toBe(0);
    expect(json(r).items[0]).toMatchObject({ files: 4, remote: 's3' });
    expect(existsSync(join(repo, 'data/corpus'))).toBe(false);
    expect(objectsIn(join(repo, '.dvs/cache'))).not.toContain(sha(large));
    // As push would store them on a packed remote: only the small manifest is a loose key.
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }))).Contents ?? []).map((c) => c.Key!.slice(prefix.length + 1));
    expect(keys).toContain(`packs/${sha(large)}.chunks`);
    expect(keys.filter((k) => /^[0-9a-f]{2}\//.test(k))).toEqual([`${json(r).items[0].oid.slice(0, 2)}/${json(r).items[0].oid.slice(2)}`]);
    git(repo, 'commit', '-q', '-m', 'corpus');

    const clone = tempDir('dvs-clone-');
    git(clone, 'clone', '-q', repo, '.');
    credentials(clone);
    await ok(clone, ['pull']);
    expect(sha(readFileSync(join(clone, 'data/corpus/large.bin')))).toBe(sha(large));
    for (const [f, bytes] of Object.entries(files)) expect(sha(readFileSync(join(clone, 'data/corpus', f)))).toBe(sha(bytes));
  }, 300_000);

  it('writes no pointer when the upload fails', async () => {
    const repo = repoWith({ 'model.bin': 'weights' });
    withS3(repo, 'wrong-secret');
    const r = await dvs(repo, ['track', 'model.bin', '--to-remote']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/^dvs: error: /);
    expect(existsSync(join(repo, 'model.bin.dvs'))).toBe(false);
    expect(read(repo, 'model.bin')).toBe('weights');
  }, 120_000);
});
