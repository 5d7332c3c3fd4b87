// One conformance suite for every remote backend: the local one always, S3 against OpenStack Swift
// (s3api) when it is installed (CI installs it), GCS against the project's own JSON API server, SSH
// against Debian's OpenSSH sshd on a loopback port (CI installs it). The
// backends are exercised directly (the interface the transfer queue uses) and end to end through the
// CLI. No SDK call is mocked: every request goes to a real server on loopback.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/objects/cache.js';
import { RemoteError } from '../../src/remotes/errors.js';
import { openBackend } from '../../src/remotes/index.js';
import type { CallOptions, ListedObject, RemoteBackend, RemoteSpec } from '../../src/remotes/types.js';
import { parseRemoteUrl } from '../../src/remotes/url.js';
import { downloadToCache } from '../../src/transfer/download.js';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, setDvsConfig, tempDir, writeTree } from '../helpers.js';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { makeGcsClient, startGcsServer } from '../servers/gcs.mjs';
import { sshdAvailable, SSHD_MISSING, startSshd } from '../servers/sshd.mjs';
import { makeBlobServiceClient, startAzurite } from '../servers/azurite.mjs';

// The SDK nags about Node 20 whenever a client is made; dvs sets this for itself too.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const call = (): CallOptions => ({ signal: new AbortController().signal });

/** How a test reaches one kind of remote. */
interface Fixture {
  kind: 'local' | 's3' | 'gcs' | 'azure' | 'ssh';
  /** A fresh, empty remote location for one test. */
  url(): string;
  /** Replace an object's bytes on the remote behind dvs's back. */
  tamper(url: string, oid: string, bytes: Buffer): Promise<void>;
  /** Options for a RemoteSpec (endpoint, credentials). */
  options(): RemoteSpec['options'];
}

let n = 0;
const unique = () => `t${process.pid}-${Date.now().toString(36)}-${n++}`;
const servers: Array<{ stop(): Promise<void> }> = [];

const local: Fixture = {
  kind: 'local',
  url: () => join(tempDir('dvs-remote-'), 'store'),
  async tamper(url, oid, bytes) {
    const p = join(url, oid.slice(0, 2), oid.slice(2));
    rmSync(p, { force: true });
    writeFileSync(p, bytes);
  },
  options: () => ({}),
};

let s3Endpoint = '';
let s3Client: any;
const S3_BUCKET = 'dvs-conformance';
const s3: Fixture = {
  kind: 's3',
  url: () => `s3://${S3_BUCKET}/${unique()}/objects`,
  async tamper(url, oid, bytes) {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, prefix } = parseRemoteUrl(url, '/') as { bucket: string; prefix: string };
    await s3Client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${oid.slice(0, 2)}/${oid.slice(2)}`, Body: bytes }));
  },
  options: () => ({ endpoint: s3Endpoint, access_key_id: 'test:tester', secret_access_key: 'testing' }),
};

let gcsServer: any;
let gcsClient: any;
const GCS_BUCKET = 'dvs-conformance';
const gcs: Fixture = {
  kind: 'gcs',
  url: () => `gs://${GCS_BUCKET}/${unique()}/objects`,
  async tamper(url, oid, bytes) {
    const { bucket, prefix } = parseRemoteUrl(url, '/') as { bucket: string; prefix: string };
    await gcsClient.bucket(bucket).file(`${prefix}/${oid.slice(0, 2)}/${oid.slice(2)}`).save(bytes, { resumable: false });
  },
  options: () => ({ endpoint: gcsServer.url }),
};

let azurite: any;
let azureService: any;
const AZURE_CONTAINER = 'dvs-conformance';
const azure: Fixture = {
  kind: 'azure',
  url: () => `azure://${AZURE_CONTAINER}/${unique()}/objects`,
  async tamper(url, oid, bytes) {
    const { container, prefix } = parseRemoteUrl(url, '/') as { container: string; prefix: string };
    await azureService.getContainerClient(container).getBlockBlobClient(`${prefix}/${oid.slice(0, 2)}/${oid.slice(2)}`).upload(bytes, bytes.length);
  },
  options: () => ({ connection_string: azurite.connectionString }),
};


let sshd: any;
const ssh: Fixture = {
  kind: 'ssh',
  // The server runs on this machine: the remote's directory is a local path too (for tamper).
  url: () => sshd.url(join(tempDir('dvs-remote-'), 'store')),
  async tamper(url, oid, bytes) {
    const { path } = parseRemoteUrl(url, '/') as { path: string };
    local.tamper(path, oid, bytes);
  },
  options: () => ({ key_file: sshd.keyFile, known_hosts: sshd.knownHosts }),
};

const SWIFT = swiftAvailable();
const SSHD = sshdAvailable();
const fixtures: Fixture[] = [local, ...(SWIFT ? [s3] : []), gcs, azure, ...(SSHD ? [ssh] : [])];

describe.skipIf(SSHD)(`SSH remotes: skipped, ${SSHD_MISSING}`, () => {
  it.skipIf(process.env.CI !== 'true')('CI has sshd', () => {
    throw new Error(SSHD_MISSING);
  });
});

beforeAll(async () => {
  gcsServer = await startGcsServer();
  servers.push(gcsServer);
  gcsClient = await makeGcsClient(gcsServer);
  await gcsClient.createBucket(GCS_BUCKET);
  azurite = await startAzurite();
  servers.push(azurite);
  azureService = await makeBlobServiceClient(azurite);
  await azureService.getContainerClient(AZURE_CONTAINER).create();
  if (SSHD) {
    sshd = await startSshd();
    servers.push(sshd);
  }
  if (SWIFT) {
    const swift = await startSwift();
    servers.push(swift);
    s3Endpoint = swift.endpoint;
    s3Client = await makeS3Client(swift);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await s3Client.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
  }
}, 120_000);

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
  cleanupTempDirs();
});

async function ok(cwd: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(cwd, args, { env });
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

function specFor(f: Fixture, url: string, root = '/'): RemoteSpec {
  return { name: 'origin', url, location: parseRemoteUrl(url, root), options: f.options(), sources: { access_key_id: '.dvs/config.local', key_file: '.dvs/config.local' }, root, timeoutSeconds: 30 };
}

async function collect(it: AsyncIterable<ListedObject[]>): Promise<ListedObject[][]> {
  const pages: ListedObject[][] = [];
  for await (const p of it) pages.push(p);
  return pages;
}

describe.each(fixtures)('the $kind backend', (f) => {
  let backend: RemoteBackend;
  let work: string;
  let url: string;

  beforeAll(async () => {
    url = f.url();
    backend = await openBackend(specFor(f, url));
    work = tempDir();
  });
  afterAll(async () => backend?.close());

  it('uploads, says what exists in batches, downloads verified, deletes', async () => {
    const blobs = [Buffer.from('alpha'), Buffer.from(''), randomBytes(100_000)];
    const oids = blobs.map(sha);
    blobs.forEach((b, i) => writeFileSync(join(work, `b${i}`), b));
    for (const [i, b] of blobs.entries()) await backend.upload({ oid: oids[i], path: join(work, `b${i}`), size: b.length }, call());
    const absent = sha('absent');
    const sizes: Array<number | undefined> = [];
    for (let i = 0; i < oids.length + 1; i += backend.statBatchSize) sizes.push(...(await backend.stat([...oids, absent].slice(i, i + backend.statBatchSize), call())));
    expect(sizes).toEqual([5, 0, 100_000, undefined]);

    const cache = new ObjectCache(join(work, 'cache'));
    for (const [i, oid] of oids.entries()) {
      const got = await downloadToCache(backend, cache, oid, call(), 'origin');
      expect(got.size).toBe(blobs[i].length);
      expect(readFileSync(cache.pathOf(oid)).equals(blobs[i])).toBe(true);
    }
    await expect(downloadToCache(backend, cache, absent, call(), 'origin')).rejects.toMatchObject({ code: 'REMOTE_OBJECT_MISSING', reason: 'not-found' });
    expect(readdirSync(cache.tmpDir)).toEqual([]);

    await backend.delete([oids[0], absent], call());
    expect(await backend.stat([oids[0]], call())).toEqual([undefined]);
  });

  it('uploads a large object in parts (multipart / resumable) and gets it back intact', async () => {
    const big = randomBytes(17 * 1024 * 1024 + 7);
    const oid = sha(big);
    writeFileSync(join(work, 'big'), big);
    await backend.upload({ oid, path: join(work, 'big'), size: big.length }, call());
    expect(await backend.stat([oid], call())).toEqual([big.length]);
    const cache = new ObjectCache(join(work, 'cache-big'));
    await downloadToCache(backend, cache, oid, call(), 'origin');
    expect(sha(readFileSync(cache.pathOf(oid)))).toBe(oid);
  });

  it('refuses to upload bytes that do not hash to their name, small or large, and shows nothing', async () => {
    for (const size of [1000, 17 * 1024 * 1024]) {
      const bytes = randomBytes(size);
      const claimed = sha(`not these bytes ${size}`);
      writeFileSync(join(work, 'liar'), bytes);
      await expect(backend.upload({ oid: claimed, path: join(work, 'liar'), size }, call())).rejects.toMatchObject({ code: 'SOURCE_CORRUPTED' });
      expect(await backend.stat([claimed], call())).toEqual([undefined]);
    }
  });

  it('lists page by page, by shard or whole, ignoring what is not an object', async () => {
    const listUrl = f.url();
    const b = await openBackend(specFor(f, listUrl));
    Object.defineProperty(b, 'listPageSize', { value: 4 });
    const oids: string[] = [];
    for (let i = 0; i < 11; i++) {
      const data = Buffer.from(`listed ${i}`);
      writeFileSync(join(work, 'l'), data);
      await b.upload({ oid: sha(data), path: join(work, 'l'), size: data.length }, call());
      oids.push(sha(data));
    }
    await b.writeMarker('epoch-1', call());
    expect(await b.readMarker(call())).toBe('epoch-1');
    const pages = await collect(b.list(undefined, call()));
    if (b.network) expect(pages.length).toBeGreaterThanOrEqual(3);
    const listed = pages.flat();
    expect(listed.map((o) => o.oid).sort()).toEqual([...oids].sort());
    expect(listed.find((o) => o.oid === oids[3])?.size).toBe('listed 3'.length);
    const shard = oids[0].slice(0, 2);
    const inShard = (await collect(b.list(shard, call()))).flat();
    expect(inShard.map((o) => o.oid)).toEqual(oids.filter((o) => o.startsWith(shard)).sort());
    await b.close();
  });
});

const DATA = {
  'data/train/a.csv': 'id,x\n1,2\n',
  'data/train/b.csv': 'id,x\n3,4\n',
  'data/train/sub/c.csv': 'id,x\n5,6\n',
  'model.bin': 'weights-v1',
};

/**
 * Written as config, with no `format`: this suite is the loose format's (tamper writes loose keys);
 * remotes-packed*.test.ts have the packed one.
 */
function configureRemote(f: Fixture, repo: string, url: string, shared = true): void {
  if (shared) setDvsConfig(repo, { 'remote.origin.url': url, 'core.remote': 'origin', ...(f.options().endpoint ? { 'remote.origin.endpoint': f.options().endpoint } : {}) });
  if (f.kind === 's3') setDvsConfig(repo, { 'remote.origin.access_key_id': 'test:tester', 'remote.origin.secret_access_key': 'testing' }, 'config.local');
  if (f.kind === 'azure') setDvsConfig(repo, { 'remote.origin.connection_string': azurite.connectionString }, 'config.local');
  // A directory remote named by the committed config is confirmed by each clone (docs/security.md).
  if (f.kind === 'local') setDvsConfig(repo, { 'remote.origin.url': url }, 'config.local');
  if (f.kind === 'ssh') setDvsConfig(repo, { 'remote.origin.key_file': sshd.keyFile, 'remote.origin.known_hosts': sshd.knownHosts }, 'config.local');
}

/** A repository with DATA tracked and committed, and `origin` configured as the default remote. */
async function repoWithRemote(f: Fixture, url: string): Promise<string> {
  const repo = gitRepo();
  writeTree(repo, DATA);
  await ok(repo, ['track', 'data/train', 'model.bin']);
  configureRemote(f, repo, url);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'data and remote');
  return repo;
}

/** A second clone, with the local (secret) remote settings of the first. */
function cloneOf(f: Fixture, repo: string, url: string): string {
  const dir = join(tempDir(), 'clone');
  git(repo, 'clone', '-q', repo, dir);
  configureRemote(f, dir, url, false);
  return dir;
}

function cacheObjects(repo: string): string[] {
  const root = join(repo, '.dvs', 'cache');
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((s) => s.length === 2).flatMap((s) => readdirSync(join(root, s)).map((r) => s + r));
}

const oidOf = (repo: string, pointer: string) => read(repo, pointer).match(/sha256:([0-9a-f]{64})/)![1];

// The tests of one backend share a repository (a) and its clone (b), and run in order.
describe.each(fixtures)('dvs with a $kind remote', (f) => {
  let url: string;
  let a: string;
  let b: string;

  beforeAll(async () => {
    url = f.url();
    a = await repoWithRemote(f, url);
  });

  it('pushes only what the remote lacks, manifest last', async () => {
    const first = json(await dvs(a, ['push', '--json']));
    expect(first).toMatchObject({ remote: { name: 'origin' }, uploaded: 5, manifests: 1, alreadyPresent: 0, failures: [] });
    const again = await dvs(a, ['push']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Everything is already on origin (2 objects).\n');
  });

  it('a second clone pulls one file of a directory, then everything', async () => {
    b = cloneOf(f, a, url);
    const one = await dvs(b, ['pull', 'data/train/sub/c.csv']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('Fetched 2 objects');
    expect(one.stdout).toContain('A  data/train/sub/c.csv');
    expect(read(b, 'data/train/sub/c.csv')).toBe(DATA['data/train/sub/c.csv']);
    expect(existsSync(join(b, 'data/train/a.csv'))).toBe(false);
    expect(cacheObjects(b)).toHaveLength(2); // the manifest and the one file

    const all = await dvs(b, ['pull']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^Fetched 3 objects \(\d+ B\) from origin; 2 already in the cache\.\n/);
    for (const [p, content] of Object.entries(DATA)) expect(read(b, p)).toBe(content);
  });

  it('status --remote says what is not pushed; push sends just that', async () => {
    writeFileSync(join(a, 'data/train/b.csv'), 'id,x\n3,40\n');
    await ok(a, ['track', 'data/train']);
    const changed = await dvs(a, ['status', '--remote', '--exit-code']);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toBe('  changed  data/train/: 2 objects not pushed to origin\n  ok       model.bin\n(dvs push -r origin to send what is not pushed)\n');
    const js = json(await dvs(a, ['status', '-r', 'origin', '--json']));
    expect(js.remote).toMatchObject({ name: 'origin', notPushed: 2, missingEverywhere: 0 });
    expect(js.entries[0]).toMatchObject({ path: 'data/train', cache: 'present', remote: { state: 'partial', notPushed: 2, missingEverywhere: 0 } });
    expect(json(await dvs(a, ['push', '--json']))).toMatchObject({ uploaded: 2, manifests: 1 });
    const clean = await dvs(a, ['status', '--remote', '--exit-code']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe('  ok       data/train/\n  ok       model.bin\nEverything is on origin.\n');
    git(a, 'commit', '-q', '-am', 'b changed');
  });

  it('verify --remote checks presence and sizes; --deep re-hashes', async () => {
    const v = await dvs(a, ['verify', '--remote']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/Checked 5 objects \(\d+ B\) on origin: all good\./);
    expect(json(await dvs(a, ['verify', '--remote', '--deep', '--json']))).toMatchObject({ checked: 5, problems: [], remote: { name: 'origin' } });
  });

  it('pull refuses a remote object whose bytes were altered, names the file; verify --deep removes it, push repairs', async () => {
    const oid = oidOf(a, 'model.bin.dvs');
    await f.tamper(url, oid, Buffer.from('weights-v2')); // same size, other bytes
    rmSync(join(b, 'model.bin'));
    rmSync(join(b, '.dvs/cache', oid.slice(0, 2), oid.slice(2)));
    git(b, 'pull', '-q');
    const r = await dvs(b, ['pull']);
    expect(r.code).toBe(8);
    expect(r.stderr).toContain(`error: model.bin: the copy of object ${oid.slice(0, 10)} on remote "origin" is corrupted`);
    expect(r.stderr).toContain('1 object not fetched; the rest is done.');
    expect(existsSync(join(b, 'model.bin'))).toBe(false);
    expect(cacheObjects(b)).not.toContain(oid);
    expect(read(b, 'data/train/b.csv')).toBe('id,x\n3,40\n');
    const v = await dvs(b, ['verify', '--remote', '--deep']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`corrupted  model.bin  (${oid.slice(0, 10)}, deleted from origin)`);
    // a's record said the object was there; the epoch changed by b's verify makes it ask again.
    expect((await dvs(a, ['push'])).stdout).toContain('Pushed 1 object');
    const again = await dvs(b, ['pull']);
    expect(again.code).toBe(0);
    expect(read(b, 'model.bin')).toBe('weights-v1');
  });

  it('reports objects that are neither in the cache nor on the remote', async () => {
    writeFileSync(join(a, 'extra.bin'), 'extra');
    await ok(a, ['track', 'extra.bin']);
    const oid = oidOf(a, 'extra.bin.dvs');
    rmSync(join(a, '.dvs/cache', oid.slice(0, 2), oid.slice(2)));
    const st = json(await dvs(a, ['status', '--remote', '--json']));
    expect(st.remote).toMatchObject({ notPushed: 0, missingEverywhere: 1 });
    const push = await dvs(a, ['push']);
    expect(push.code).toBe(8);
    expect(push.stderr).toContain(`error: extra.bin: object ${oid.slice(0, 10)} is neither in the cache nor on remote "origin"`);
    const v = await dvs(a, ['verify', '--remote', 'extra.bin']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`missing    extra.bin  (${oid.slice(0, 10)})`);
    await ok(a, ['remove', 'extra.bin']);
  });

  it('gc --remote deletes what no kept ref needs, after a dry run', async () => {
    const model = oidOf(a, 'model.bin.dvs');
    await ok(a, ['remove', 'model.bin']);
    git(a, 'commit', '-q', '-am', 'no model');
    // Kept by every commit: the first and second data/train manifests, 4 files, the model.
    expect(json(await dvs(a, ['gc', '--remote', '--all-commits', '--dry-run', '--json']))).toMatchObject({ removed: [], kept: 7, dryRun: true });
    const dry = await dvs(a, ['gc', '--remote', '--dry-run']);
    expect(dry.code).toBe(0);
    // Named by what it was (its path and the commit that last had it), not by its hash.
    expect(dry.stdout).toMatch(/^would remove model\.bin \([0-9a-f]{10}, \d{4}-\d{2}-\d{2}\)  10 B$/m);
    expect(dry.stdout).toContain('Would remove 3 objects');
    const real = json(await dvs(a, ['gc', '--remote', '--json']));
    expect(real).toMatchObject({ kept: 4, dryRun: false });
    expect(real.removed.map((r: { oid: string }) => r.oid)).toContain(model);
    // What remains is whole: b, at the new HEAD, still pulls and verifies.
    git(b, 'pull', '-q');
    rmSync(join(b, '.dvs/cache'), { recursive: true });
    rmSync(join(b, 'data/train'), { recursive: true });
    const pulled = await dvs(b, ['pull']);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(/^Fetched 4 objects/);
    expect(read(b, 'data/train/a.csv')).toBe(DATA['data/train/a.csv']);
  });
});
