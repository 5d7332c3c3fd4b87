// Repairing a remote, against a local directory, S3 (OpenStack Swift), GCS (the project's own server) and
// SSH (Debian's OpenSSH sshd on loopback).
// Whenever dvs learns that a remote lacks an object or holds a bad copy of it (verify --remote, a 404
// or a bad hash during a pull), the next push restores it, from the clone that found out or from any
// other: bad copies are deleted, manifests that vouch for missing files are withdrawn, and each clone
// keeps a record of what it knows the remote lost. Every damage here is done behind dvs's back, with
// the store's own client.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, setDvsConfig, tempDir, writeTree } from '../helpers.js';
import { makeGcsClient, startGcsServer } from '../servers/gcs.mjs';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { sshdAvailable, startSshd } from '../servers/sshd.mjs';
import { makeBlobServiceClient, startAzurite } from '../servers/azurite.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const short = (oid: string) => oid.slice(0, 10);
/** A size as dvs prints it: 980 B, 1.30 KB. */
const BYTES = '[\\d.]+ [KM]?B';

/** One kind of remote: how dvs is pointed at it, and how its objects are reached behind dvs's back. */
interface Store {
  kind: 'local' | 's3' | 'gcs' | 'azure' | 'ssh';
  url(): string;
  /** Settings a clone needs: the committed ones once, the secret ones in every clone. */
  configure(repo: string, url: string, committed: boolean): void;
  get(url: string, key: string): Promise<Buffer | undefined>;
  put(url: string, key: string, bytes: Buffer): Promise<void>;
  remove(url: string, key: string): Promise<void>;
}

const BUCKET = 'dvs-repair';
let n = 0;
const unique = () => `r${process.pid}-${n++}`;
const servers: Array<{ stop(): Promise<void> }> = [];
let s3Endpoint = '';
let s3Client: any;
let gcsServer: any;
let gcsClient: any;

const objectKey = (oid: string) => `${oid.slice(0, 2)}/${oid.slice(2)}`;
const bucketAndPrefix = (url: string) => {
  const m = /^(?:s3|gs|azure):\/\/([^/]+)\/(.+)$/.exec(url)!;
  return { bucket: m[1], prefix: m[2] };
};

const local: Store = {
  kind: 'local',
  url: () => join(tempDir('dvs-repair-'), 'store'),
  configure(repo, url, committed) {
    if (committed) setDvsConfig(repo, { 'remote.origin.url': url, 'core.remote': 'origin' });
    // A directory remote the committed config names is confirmed by each clone (docs/security.md).
    setDvsConfig(repo, { 'remote.origin.url': url }, 'config.local');
  },
  async get(url, key) {
    const p = join(url, key);
    return existsSync(p) ? readFileSync(p) : undefined;
  },
  async put(url, key, bytes) {
    const p = join(url, key);
    rmSync(p, { force: true }); // objects are read-only
    writeFileSync(p, bytes);
  },
  async remove(url, key) {
    rmSync(join(url, key));
  },
};

const s3: Store = {
  kind: 's3',
  url: () => `s3://${BUCKET}/${unique()}/objects`,
  configure(repo, url, committed) {
    if (committed) setDvsConfig(repo, { 'remote.origin.url': url, 'remote.origin.endpoint': s3Endpoint, 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.access_key_id': 'test:tester', 'remote.origin.secret_access_key': 'testing' }, 'config.local');
  },
  async get(url, key) {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, prefix } = bucketAndPrefix(url);
    try {
      const r = await s3Client.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }));
      return Buffer.from(await r.Body.transformToByteArray());
    } catch (err: any) {
      if (err?.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  },
  async put(url, key, bytes) {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, prefix } = bucketAndPrefix(url);
    await s3Client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: bytes }));
  },
  async remove(url, key) {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    const { bucket, prefix } = bucketAndPrefix(url);
    await s3Client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}` }));
  },
};

const gcs: Store = {
  kind: 'gcs',
  url: () => `gs://${BUCKET}/${unique()}/objects`,
  configure(repo, url, committed) {
    if (committed) setDvsConfig(repo, { 'remote.origin.url': url, 'remote.origin.endpoint': gcsServer.url, 'core.remote': 'origin' });
  },
  async get(url, key) {
    const { bucket, prefix } = bucketAndPrefix(url);
    const file = gcsClient.bucket(bucket).file(`${prefix}/${key}`);
    const [there] = await file.exists();
    return there ? (await file.download())[0] : undefined;
  },
  async put(url, key, bytes) {
    const { bucket, prefix } = bucketAndPrefix(url);
    await gcsClient.bucket(bucket).file(`${prefix}/${key}`).save(bytes, { resumable: false });
  },
  async remove(url, key) {
    const { bucket, prefix } = bucketAndPrefix(url);
    await gcsClient.bucket(bucket).file(`${prefix}/${key}`).delete();
  },
};

let azurite: any;
let azureService: any;
const azureBlob = (url: string, key: string) => {
  const { bucket, prefix } = bucketAndPrefix(url);
  return azureService.getContainerClient(bucket).getBlockBlobClient(`${prefix}/${key}`);
};
const azure: Store = {
  kind: 'azure',
  url: () => `azure://${BUCKET}/${unique()}/objects`,
  configure(repo, url, committed) {
    if (committed) setDvsConfig(repo, { 'remote.origin.url': url, 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.connection_string': azurite.connectionString }, 'config.local');
  },
  async get(url, key) {
    const blob = azureBlob(url, key);
    return (await blob.exists()) ? blob.downloadToBuffer() : undefined;
  },
  async put(url, key, bytes) {
    await azureBlob(url, key).upload(bytes, bytes.length);
  },
  async remove(url, key) {
    await azureBlob(url, key).delete();
  },
};


let sshd: any;
/** The sshd runs on this machine: behind dvs's back, its objects are local files. */
const sshPath = (url: string) => new URL(url).pathname;
const ssh: Store = {
  kind: 'ssh',
  url: () => sshd.url(join(tempDir('dvs-repair-'), 'store')),
  configure(repo, url, committed) {
    if (committed) setDvsConfig(repo, { 'remote.origin.url': url, 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.key_file': sshd.keyFile, 'remote.origin.known_hosts': sshd.knownHosts }, 'config.local');
  },
  get: (url, key) => local.get(sshPath(url), key),
  put: (url, key, bytes) => local.put(sshPath(url), key, bytes),
  remove: (url, key) => local.remove(sshPath(url), key),
};

const SWIFT = swiftAvailable();
const SSHD = sshdAvailable();
const stores: Store[] = [local, ...(SWIFT ? [s3] : []), gcs, azure, ...(SSHD ? [ssh] : [])];

beforeAll(async () => {
  gcsServer = await startGcsServer();
  servers.push(gcsServer);
  gcsClient = await makeGcsClient(gcsServer);
  await gcsClient.createBucket(BUCKET);
  azurite = await startAzurite();
  servers.push(azurite);
  azureService = await makeBlobServiceClient(azurite);
  await azureService.getContainerClient(BUCKET).create();
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
    await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }
}, 120_000);

afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
  cleanupTempDirs();
});

async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Every data file under `data/` and `model.bin`, with the hash of its bytes. */
function dataHashes(repo: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(repo, p)] = sha(readFileSync(p));
    }
  };
  walk(join(repo, 'data'));
  out['model.bin'] = sha(readFileSync(join(repo, 'model.bin')));
  return out;
}

const oidOf = (repo: string, pointer: string) => read(repo, pointer).match(/sha256:([0-9a-f]{64})/)![1];
const fileOid = (repo: string, path: string) => sha(readFileSync(join(repo, path)));

describe.each(stores)('repairing a $kind remote', (store) => {
  let url: string;
  let a: string;
  let expected: Record<string, string>;
  let setManifest: string;
  let otherManifest: string;

  const clone = (committed = false) => {
    const dir = join(tempDir(), 'clone');
    git(a, 'clone', '-q', a, dir);
    store.configure(dir, url, committed);
    return dir;
  };
  const there = async (oid: string) => (await store.get(url, objectKey(oid))) !== undefined;

  beforeAll(async () => {
    url = store.url();
    a = gitRepo();
    const tree: Record<string, Buffer | string> = { 'model.bin': randomBytes(700) };
    for (const name of ['a', 'b', 'c', 'd', 'e']) tree[`data/set/${name}.bin`] = randomBytes(200 + name.charCodeAt(0));
    tree['data/other/x.txt'] = 'x\n';
    tree['data/other/y.txt'] = 'y\n';
    writeTree(a, tree);
    await ok(a, ['track', 'data/set', 'data/other', 'model.bin']);
    store.configure(a, url, true);
    git(a, 'add', '-A');
    git(a, 'commit', '-q', '-m', 'data');
    expect((await ok(a, ['push'])).stdout).toMatch(/^Pushed 10 objects/);
    expected = dataHashes(a);
    setManifest = oidOf(a, 'data/set.dvs');
    otherManifest = oidOf(a, 'data/other.dvs');
  }, 60_000);

  it('verify --remote deletes bad copies and withdraws the manifest; a push from the original clone restores all', async () => {
    const [fa, fb, fc, model] = ['data/set/a.bin', 'data/set/b.bin', 'data/set/c.bin', 'model.bin'].map((p) => fileOid(a, p));
    // Damage: a's bytes altered (same size), b cut short, c and the model deleted, data/other's manifest altered.
    for (const oid of [fa, otherManifest]) {
      const bytes = (await store.get(url, objectKey(oid)))!;
      bytes[0] ^= 1;
      await store.put(url, objectKey(oid), bytes);
    }
    const bBytes = (await store.get(url, objectKey(fb)))!;
    await store.put(url, objectKey(fb), bBytes.subarray(0, 50));
    await store.remove(url, objectKey(fc));
    await store.remove(url, objectKey(model));

    // Another clone checks the remote: it has no data, only what verify fetches (the manifests).
    const b = clone();
    const shallow = await dvs(b, ['verify', '--remote']);
    expect(shallow.code).toBe(1);
    expect(shallow.stdout).toMatch(new RegExp(
      [
        `^corrupted  data/other \\(manifest\\)  \\(${short(otherManifest)}, deleted from origin\\)`,
        `wrong-size data/set/b\\.bin  \\(${short(fb)}, deleted from origin\\)`,
        `missing    data/set/c\\.bin  \\(${short(fc)}\\)`,
        `missing    model\\.bin  \\(${short(model)}\\)`,
        `withdrawn  data/set \\(manifest\\)  \\(${short(setManifest)}, deleted from origin: not all its files are there\\)`,
        `Checked 8 objects \\(${BYTES}\\) on origin: 4 problems\\.`,
        'Send good copies with `dvs push -r origin` from a clone that has them\\.\n$',
      ].join('\n'),
    ));
    // A size check cannot see a's altered bytes; what it found bad is gone, and so is the manifest.
    expect(await there(fa)).toBe(true);
    for (const oid of [fb, otherManifest, setManifest]) expect(await there(oid)).toBe(false);

    const deep = await dvs(b, ['verify', '--remote', '--deep', '--json']);
    expect(deep.code).toBe(1);
    const report = json(deep);
    expect(report.problems).toEqual([
      { path: 'data/other (manifest)', oid: otherManifest, problem: 'missing' },
      { path: 'data/set (manifest)', oid: setManifest, problem: 'missing' },
      { path: 'data/set/a.bin', oid: fa, problem: 'corrupted', quarantined: true },
      { path: 'data/set/b.bin', oid: fb, problem: 'missing' },
      { path: 'data/set/c.bin', oid: fc, problem: 'missing' },
      { path: 'model.bin', oid: model, problem: 'missing' },
    ]);
    expect(report.withdrawn).toEqual([]);
    expect(await there(fa)).toBe(false);

    // The original clone did not run verify, and its record said all of it was there.
    const push = await dvs(a, ['push']);
    expect(push.code).toBe(0);
    expect(push.stdout).toBe(
      [
        `Pushed 6 objects (${push.stdout.match(new RegExp(`\\((${BYTES})\\)`))![1]}) to origin; 4 already there.`,
        'Restored 6 objects that origin had lost (missing, or a bad copy there):',
        `  data/other (manifest)  (${short(otherManifest)})`,
        `  data/set (manifest)  (${short(setManifest)})`,
        `  data/set/a.bin  (${short(fa)})`,
        `  data/set/b.bin  (${short(fb)})`,
        `  data/set/c.bin  (${short(fc)})`,
        `  model.bin  (${short(model)})`,
        '',
      ].join('\n'),
    );
    expect((await ok(a, ['push'])).stdout).toBe('Everything is already on origin (3 objects).\n');

    // A fresh clone gets every byte back, and the remote checks clean.
    const c = clone();
    await ok(c, ['pull']);
    expect(dataHashes(c)).toEqual(expected);
    const clean = await dvs(c, ['verify', '--remote', '--deep']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(new RegExp(`^Checked 10 objects \\(${BYTES}\\) on origin: all good\\.\n$`));
  }, 180_000);

  it('objects deleted behind dvs\'s back: a pull elsewhere meets the 404s and withdraws the manifest; the original clone\'s push restores them', async () => {
    const [fd, model] = ['data/set/d.bin', 'model.bin'].map((p) => fileOid(a, p));
    for (const oid of [fd, model, otherManifest]) await store.remove(url, objectKey(oid));
    // Nobody knows yet: the record of the original clone says everything is there.
    expect((await ok(a, ['push'])).stdout).toBe('Everything is already on origin (3 objects).\n');
    const epoch = (await store.get(url, 'dvs-epoch'))!.toString();

    const d = clone();
    const pull = await dvs(d, ['pull']);
    expect(pull.code).toBe(8);
    expect(pull.stderr).toContain(`error: data/set/d.bin: object ${short(fd)} is not on remote "origin"`);
    expect(pull.stderr).toContain(`error: model.bin: object ${short(model)} is not on remote "origin"`);
    expect(pull.stderr).toContain(`error: data/other (manifest): object ${short(otherManifest)} is not on remote "origin"`);
    expect(pull.stderr).toContain(`withdrawn from origin: data/set (manifest) (${short(setManifest)}), which vouched for files that are not there`);
    expect(await there(setManifest)).toBe(false);
    expect((await store.get(url, 'dvs-epoch'))!.toString()).not.toBe(epoch);

    const push = await dvs(a, ['push', '--json']);
    expect(push.code).toBe(0);
    expect(json(push)).toMatchObject({
      uploaded: 4,
      manifests: 2,
      failures: [],
      restored: [
        { path: 'data/other (manifest)', oid: otherManifest },
        { path: 'data/set (manifest)', oid: setManifest },
        { path: 'data/set/d.bin', oid: fd },
        { path: 'model.bin', oid: model },
      ],
    });

    const again = await dvs(d, ['pull']);
    expect(again.code).toBe(0);
    expect(dataHashes(d)).toEqual(expected);
    // The clone that met the 404 knows the remote has it all again.
    expect((await ok(d, ['push'])).stdout).toBe('Everything is already on origin (3 objects).\n');
    expect((await ok(d, ['status', '--remote'])).stdout).toContain('Everything is on origin.');
  }, 180_000);

  it('a bad copy met by a fetch is sent again, over it, by the next push from that clone that has a good one', async () => {
    const backup = join(tempDir('dvs-backup-'), 'store');
    await ok(a, ['remote', 'add', 'backup', backup]);
    await ok(a, ['push', '-r', 'backup']);
    const fe = fileOid(a, 'data/set/e.bin');
    const bytes = (await store.get(url, objectKey(fe)))!;
    bytes[bytes.length - 1] ^= 1;
    await store.put(url, objectKey(fe), bytes);
    rmSync(join(a, '.dvs/cache', fe.slice(0, 2), fe.slice(2)));

    const fetch = await dvs(a, ['fetch']);
    expect(fetch.code).toBe(8);
    expect(fetch.stderr).toContain(`error: data/set/e.bin: the copy of object ${short(fe)} on remote "origin" is corrupted`);
    // Without a good copy, push says so instead of "already there".
    const stuck = await dvs(a, ['push']);
    expect(stuck.code).toBe(8);
    expect(stuck.stderr).toContain(`error: data/set/e.bin: the copy of object ${short(fe)} on remote "origin" is bad`);

    await ok(a, ['fetch', '-r', 'backup']);
    const push = await dvs(a, ['push']);
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(new RegExp(`^Pushed 1 object \\(${BYTES}\\) to origin; \\d+ already there\\.\nRestored 1 object that origin had lost`));
    expect(push.stdout).toContain(`  data/set/e.bin  (${short(fe)})`);
    expect(sha((await store.get(url, objectKey(fe)))!)).toBe(fe);
    const clean = await dvs(a, ['verify', '--remote', '--deep']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('on origin: all good.');
  }, 180_000);
});

describe('a pull from a remote it may not write to', () => {
  it('still reports the missing object, warns that it could not tell the remote, and remembers it for its own push', async () => {
    const a = gitRepo();
    const store = join(tempDir('dvs-repair-ro-'), 'store');
    writeTree(a, { 'data/set/a.bin': randomBytes(300), 'data/set/b.bin': randomBytes(301) });
    await ok(a, ['track', 'data/set']);
    local.configure(a, store, true);
    git(a, 'add', '-A');
    git(a, 'commit', '-q', '-m', 'data');
    await ok(a, ['push']);
    const fb = fileOid(a, 'data/set/b.bin');
    const manifest = oidOf(a, 'data/set.dvs');
    rmSync(join(store, objectKey(fb)));

    const e = join(tempDir(), 'clone');
    git(a, 'clone', '-q', a, e);
    local.configure(e, store, false);
    const asRoot = process.getuid?.() === 0;
    const { execSync } = await import('node:child_process');
    // The store stays root's and read-only to others; the clone belongs to the unprivileged user.
    execSync(`chmod -R a+rX ${join(store, '..')} && chmod 755 ${join(e, '..')}${asRoot ? ` && chown -R 65534:65534 ${e}` : ` && chmod -R a-w ${store}`}`);
    const as = asRoot ? { uid: 65534, gid: 65534, env: { HOME: e } } : {};
    const pull = await dvs(e, ['pull'], as);
    if (!asRoot) execSync(`chmod -R u+w ${store}`);
    expect(pull.code).toBe(8);
    expect(pull.stderr).toContain(`error: data/set/b.bin: object ${short(fb)} is not on remote "origin"`);
    expect(pull.stderr).toContain('warning: could not record on remote "origin" that it lacks an object');
    expect(existsSync(join(store, objectKey(manifest)))).toBe(true);
    expect(fileOid(e, 'data/set/a.bin')).toBe(fileOid(a, 'data/set/a.bin'));
    // Its own record still says the remote lost it.
    const push = await dvs(e, ['push'], as);
    expect(push.code).toBe(8);
    expect(push.stderr).toContain(`error: data/set/b.bin: object ${short(fb)} is neither in the cache nor on remote "origin"`);
  }, 60_000);
});
