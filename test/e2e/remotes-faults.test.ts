// Faults against real servers: a server that dies in the middle of a push, a push or pull killed
// with SIGKILL, wrong or missing credentials, an unreachable or frozen endpoint. The invariant under
// test: nothing is ever visible under an oid unless its bytes hash to it, a directory's manifest is
// never on a remote without all its files, and running the command again finishes the job.
import { spawn } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, DVS, dvs, git, GIT_ENV, gitRepo, json, read, setDvsConfig as setDvsConfig, tempDir, writeTree } from '../helpers.js';
import { scaled } from '../timing.js';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { makeGcsClient, startGcsProcess } from '../servers/gcs.mjs';
import { sshdAvailable, SSHD_MISSING, startSshd } from '../servers/sshd.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const SWIFT = swiftAvailable();
const BUCKET = 'dvs-faults';
let swift: any;
let s3Client: any;

beforeAll(async () => {
  if (!SWIFT) return;
  swift = await startSwift();
  s3Client = await makeS3Client(swift, { maxAttempts: 1 });
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3Client.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 180_000);

afterAll(async () => {
  await swift?.stop();
  cleanupTempDirs();
});

let n = 0;
const prefix = () => `f${process.pid}-${n++}`;

function s3Remote(repo: string, url: string, endpoint = swift?.endpoint): void {
  setDvsConfig(repo, { 'remote.origin.url': url, 'remote.origin.endpoint': endpoint, 'core.remote': 'origin' });
  setDvsConfig(repo, { 'remote.origin.access_key_id': 'test:tester', 'remote.origin.secret_access_key': 'testing' }, 'config.local');
}

// These tests move real data through real servers, several times each, and restart a server: on a busy
// 2-core machine they take minutes, not seconds. So the data is the least that still has a push cut off
// in the middle (one file just big enough for a multipart / resumable upload in two parts, beside enough
// small ones to keep the push busy), polls are cheap (a listing, never a hash of everything), and each
// test has its own generous timeout.
const FAULT_TEST_MS = 300_000;
/** Just over the S3 part size and the GCS chunk (16 MiB): two parts, the second one small. */
const TWO_PARTS = (16 << 20) + (1 << 20);

/** Data for an interrupted push: many small files and a few in several parts. */
function bulkData(repo: string, small: number, big: number, bigSize: number): void {
  const tree: Record<string, Buffer> = {};
  for (let i = 0; i < small; i++) tree[`data/set/small-${String(i).padStart(3, '0')}.bin`] = randomBytes(2000 + i);
  for (let i = 0; i < big; i++) tree[`data/set/big-${i}.bin`] = randomBytes(bigSize);
  writeTree(repo, tree);
}

async function ok(cwd: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(cwd, args, { env });
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Start dvs in the background; resolves with its exit code and output. */
function background(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [DVS, ...args], { cwd, env: { ...process.env, ...GIT_ENV, CI: 'true' } });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

/** Wait for `cond`, polling every `stepMs`; a poll must be cheap, or it slows down what it waits for. */
async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 120_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

/** How many objects a directory store (a cache or a local remote) holds, without reading them. */
function objectCount(root: string): number {
  if (!existsSync(root)) return 0;
  return readdirSync(root).filter((s) => /^[0-9a-f]{2}$/.test(s)).reduce((n, shard) => n + readdirSync(join(root, shard)).length, 0);
}

/** Every object in a directory store (a cache or a local remote) hashes to its name. */
function allIntact(root: string): { count: number; bad: string[] } {
  const bad: string[] = [];
  let count = 0;
  if (!existsSync(root)) return { count, bad };
  for (const shard of readdirSync(root).filter((s) => /^[0-9a-f]{2}$/.test(s))) {
    for (const rest of readdirSync(join(root, shard))) {
      count++;
      if (sha(readFileSync(join(root, shard, rest))) !== shard + rest) bad.push(shard + rest);
    }
  }
  return { count, bad };
}

async function s3Keys(pfx: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3Client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${pfx}/`, ContinuationToken: token }));
    for (const c of r.Contents ?? []) keys.push(c.Key);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function s3Intact(pfx: string): Promise<{ oids: string[]; bad: string[] }> {
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const oids: string[] = [];
  const bad: string[] = [];
  for (const key of await s3Keys(pfx)) {
    const m = /\/([0-9a-f]{2})\/([0-9a-f]{62})$/.exec(key);
    if (!m) continue;
    const r = await s3Client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = Buffer.from(await r.Body.transformToByteArray());
    oids.push(m[1] + m[2]);
    if (sha(bytes) !== m[1] + m[2]) bad.push(key);
  }
  return { oids, bad };
}

describe('a push or pull killed in the middle (local remote)', () => {
  it('leaves nothing corrupt in the remote or the cache, and running it again finishes', async () => {
    const repo = gitRepo();
    const store = join(tempDir(), 'store');
    bulkData(repo, 40, 2, 9 << 20); // 9 MiB: copied by the worker thread, as big files are
    await ok(repo, ['track', 'data/set']);
    setDvsConfig(repo, { 'remote.origin.url': store, 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.url': store }, 'config.local'); // a directory remote, confirmed here
    const manifest = read(repo, 'data/set.dvs').match(/sha256:([0-9a-f]{64})/)![1];

    const push = background(repo, ['push', '-j', '1']);
    const caught = await until(() => objectCount(store) >= 3, 120_000, 10);
    push.child.kill('SIGKILL');
    await push.done;
    expect(caught).toBe(true);
    // On a busy machine the push may have finished before the kill landed: what must hold either way
    // is that the manifest is only there with all its files.
    if (existsSync(join(store, manifest.slice(0, 2), manifest.slice(2)))) expect(objectCount(store)).toBe(43);
    expect(allIntact(store).bad).toEqual([]);
    await ok(repo, ['push']);
    expect(allIntact(store)).toEqual({ count: 43, bad: [] });
    expect(existsSync(join(store, manifest.slice(0, 2), manifest.slice(2)))).toBe(true);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');

    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local');
    const pull = background(clone, ['pull', '-j', '1']);
    await until(() => objectCount(join(clone, '.dvs/cache')) >= 3, 120_000, 10);
    pull.child.kill('SIGKILL');
    await pull.done;
    expect(allIntact(join(clone, '.dvs/cache')).bad).toEqual([]);
    await ok(clone, ['pull']);
    expect(allIntact(join(clone, '.dvs/cache'))).toEqual({ count: 43, bad: [] });
    expect(readFileSync(join(clone, 'data/set/big-1.bin')).equals(readFileSync(join(repo, 'data/set/big-1.bin')))).toBe(true);
  }, FAULT_TEST_MS);
});

describe.skipIf(!SWIFT)('S3 (Swift) faults', () => {
  it('the server dies in the middle of a push: no partial object, no early manifest; re-running completes', async () => {
    const repo = gitRepo();
    const pfx = prefix();
    bulkData(repo, 30, 1, TWO_PARTS); // one lane uploads the big file's parts, the other the small files
    await ok(repo, ['track', 'data/set']);
    s3Remote(repo, `s3://${BUCKET}/${pfx}`);
    setDvsConfig(repo, { 'transfer.retries': 1 });
    const manifest = read(repo, 'data/set.dvs').match(/sha256:([0-9a-f]{64})/)![1];

    const bound = scaled(20_000);
    const push = background(repo, ['push', '-j', '2']);
    const caught = await until(async () => (await s3Keys(pfx)).length >= 3, 120_000, 100);
    await swift.stopProxy();
    const t0 = Date.now();
    const r = await push.done;
    const stoppedAfter = Date.now() - t0;
    try {
      expect(caught).toBe(true);
      // A push that finished before the proxy died (a very busy machine) exits 0; otherwise:
      if (r.code !== 0) {
        expect(r.code).toBe(7);
        expect(r.stderr).toContain(`Cannot reach remote "origin" at ${swift.endpoint}`);
        expect(stoppedAfter).toBeLessThan(bound); // gives up soon after the server is gone
      }
    } finally {
      await swift.startProxy();
    }
    const after = await s3Intact(pfx);
    expect(after.bad).toEqual([]);
    if (after.oids.includes(manifest)) expect(after.oids).toHaveLength(32); // a manifest only after all its files

    const again = json(await dvs(repo, ['push', '--json']));
    expect(again).toMatchObject({ failures: [], manifests: 1 });
    expect(again.uploaded + again.alreadyPresent).toBeGreaterThanOrEqual(32);
    const final = await s3Intact(pfx);
    expect(final.bad).toEqual([]);
    expect(final.oids).toHaveLength(32);
    expect(final.oids).toContain(manifest);
  }, FAULT_TEST_MS);

  it('wrong credentials: the message names the remote, the endpoint and where the credentials came from', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    await ok(repo, ['track', 'x.bin']);
    s3Remote(repo, `s3://${BUCKET}/${prefix()}`);
    setDvsConfig(repo, { 'remote.origin.secret_access_key': 'not-the-secret' }, 'config.local');
    const r = await dvs(repo, ['push']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`dvs: error: Remote "origin" (s3://${BUCKET}/`);
    expect(r.stderr).toContain('refused the credentials');
    expect(r.stderr).toContain('SignatureDoesNotMatch');
    expect(r.stderr).toContain('Credentials used: access key "test:tester" from .dvs/config.local (remote.origin.access_key_id)');
    expect(r.stderr).toContain(`hint: Check the key and secret (or profile) for this endpoint (${swift.endpoint})`);

    // No credentials anywhere: the default chain is named.
    setDvsConfig(repo, { 'remote.origin.access_key_id': undefined, 'remote.origin.secret_access_key': undefined }, 'config.local');
    const home = tempDir();
    const none = await dvs(repo, ['push'], { env: { HOME: home, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_CONFIG_FILE: join(home, 'none') } });
    expect(none.code).toBe(7);
    expect(none.stderr).toContain('No AWS credentials for remote "origin"');
    expect(none.stderr).toContain('the AWS default credential chain');

    // A credentials file with a profile works.
    writeFileSync(join(home, 'creds'), '[ci]\naws_access_key_id = test:tester\naws_secret_access_key = testing\n');
    setDvsConfig(repo, { 'remote.origin.credentials_file': join(home, 'creds'), 'remote.origin.profile': 'ci' }, 'config.local');
    expect((await dvs(repo, ['push'])).stdout).toContain('Pushed 1 object');
  });

  it('a frozen server: requests stall, the command gives up in seconds', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'frozen' });
    await ok(repo, ['track', 'x.bin']);
    s3Remote(repo, `s3://${BUCKET}/${prefix()}`);
    setDvsConfig(repo, { 'transfer.timeout': 1, 'transfer.retries': 1 });
    const bound = scaled(15_000);
    swift.pauseProxy();
    try {
      const t0 = Date.now();
      const r = await dvs(repo, ['push']);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain('did not answer');
      expect(Date.now() - t0).toBeLessThan(bound);
    } finally {
      swift.resumeProxy();
    }
  });
});

describe('an unreachable endpoint fails within seconds, with a hint', () => {
  it.each([
    ['s3', (port: number) => ({ 'remote.origin.url': 's3://bucket/p', 'remote.origin.endpoint': `http://127.0.0.1:${port}` }), ['push', 'status']],
    ['gcs', (port: number) => ({ 'remote.origin.url': 'gs://bucket/p', 'remote.origin.endpoint': `http://127.0.0.1:${port}` }), ['push', 'pull']],
  ])('%s', async (_kind, config, commands) => {
    const port = await closedPort();
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    await ok(repo, ['track', 'x.bin']);
    setDvsConfig(repo, { ...config(port), 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.access_key_id': 'a', 'remote.origin.secret_access_key': 'b' }, 'config.local');
    const oid = read(repo, 'x.bin.dvs').match(/sha256:([0-9a-f]{64})/)![1];
    rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)));
    const argv: Record<string, string[]> = { push: ['push'], status: ['status', '--remote'], pull: ['pull', '--force'] };
    for (const args of (commands as string[]).map((c) => argv[c])) {
      const bound = scaled(10_000);
      const t0 = Date.now();
      const r = await dvs(repo, args);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`dvs: error: Cannot reach remote "origin" at http://127.0.0.1:${port}: ECONNREFUSED`);
      expect(r.stderr).toContain(`hint: Check that the server at http://127.0.0.1:${port} is running`);
      expect(Date.now() - t0).toBeLessThan(bound);
    }
  });
});

describe('GCS faults', () => {
  it('the server dies in the middle of a push (resumable uploads cut off); re-running completes; a killed pull too', async () => {
    const dir = tempDir();
    let server = await startGcsProcess({ dir });
    const port = server.port;
    const storage = await makeGcsClient({ url: server.url });
    await storage.createBucket(BUCKET);
    const repo = gitRepo();
    bulkData(repo, 30, 1, TWO_PARTS); // a resumable upload in two chunks beside the small files
    await ok(repo, ['track', 'data/set']);
    setDvsConfig(repo, { 'remote.origin.url': `gs://${BUCKET}/p`, 'remote.origin.endpoint': server.url, 'core.remote': 'origin', 'transfer.retries': 1 });
    const manifest = read(repo, 'data/set.dvs').match(/sha256:([0-9a-f]{64})/)![1];
    const list = async () => (await storage.bucket(BUCKET).getFiles({ prefix: 'p/' }))[0].map((f: { name: string }) => f.name);
    try {
      const push = background(repo, ['push', '-j', '2']);
      const caught = await until(async () => (await list().catch(() => [])).length >= 3, 120_000, 100);
      await server.kill();
      const r = await push.done;
      expect(caught).toBe(true);
      if (r.code !== 0) {
        expect(r.code).toBe(7);
        expect(r.stderr).toContain(`Cannot reach remote "origin" at ${server.url}`);
      }
      server = await startGcsProcess({ port, dir });
      const names: string[] = await list();
      if (r.code !== 0) expect(names).not.toContain(`p/${manifest.slice(0, 2)}/${manifest.slice(2)}`);
      for (const name of names) {
        const [bytes] = await storage.bucket(BUCKET).file(name).download({ validation: false });
        expect(sha(bytes)).toBe(name.slice(2).replace('/', ''));
      }
      await ok(repo, ['push']);
      expect(await list()).toHaveLength(32);
      // Every object on the remote is read back below: each pull verifies what it downloads.

      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'data');
      const clone = join(tempDir(), 'clone');
      git(repo, 'clone', '-q', repo, clone);
      const pull = background(clone, ['pull', '-j', '2']);
      await until(() => objectCount(join(clone, '.dvs/cache')) >= 2, 120_000, 10);
      pull.child.kill('SIGKILL');
      await pull.done;
      expect(allIntact(join(clone, '.dvs/cache')).bad).toEqual([]);
      await ok(clone, ['pull']);
      expect(allIntact(join(clone, '.dvs/cache'))).toEqual({ count: 32, bad: [] });
      expect(readFileSync(join(clone, 'data/set/big-0.bin')).equals(readFileSync(join(repo, 'data/set/big-0.bin')))).toBe(true);
    } finally {
      await server.stop();
    }
  }, FAULT_TEST_MS);
});

const SSHD = sshdAvailable();

describe.skipIf(SSHD)(`SSH faults: skipped, ${SSHD_MISSING}`, () => {
  it.skipIf(process.env.CI !== 'true')('CI has sshd', () => {
    throw new Error(SSHD_MISSING);
  });
});

describe.skipIf(!SSHD)('SSH faults', () => {
  let sshd: any;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 60_000);
  afterAll(async () => sshd?.stop());

  /** The remote `origin` at a fresh directory of the server (a local path too: the server is here). */
  function sshRemote(repo: string, keyFile = sshd.keyFile, knownHosts = sshd.knownHosts): string {
    const store = join(tempDir(), 'store');
    setDvsConfig(repo, { 'remote.origin.url': sshd.url(store), 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.key_file': keyFile, 'remote.origin.known_hosts': knownHosts }, 'config.local');
    return store;
  }

  it('sshd dies in the middle of a push: no partial object, no early manifest; re-running completes', async () => {
    const repo = gitRepo();
    bulkData(repo, 60, 1, TWO_PARTS);
    await ok(repo, ['track', 'data/set']);
    const store = sshRemote(repo);
    setDvsConfig(repo, { 'transfer.retries': 1 });
    const manifest = read(repo, 'data/set.dvs').match(/sha256:([0-9a-f]{64})/)![1];
    const manifestPath = join(store, manifest.slice(0, 2), manifest.slice(2));

    const bound = scaled(20_000);
    const push = background(repo, ['push', '-j', '2']);
    const caught = await until(() => objectCount(store) >= 3, 120_000, 20);
    await sshd.kill();
    const t0 = Date.now();
    const r = await push.done;
    const stoppedAfter = Date.now() - t0;
    try {
      expect(caught).toBe(true);
      if (r.code !== 0) {
        expect(r.code).toBe(7);
        expect(r.stderr).toContain(`Cannot reach remote "origin" at ssh://${sshd.user}@127.0.0.1:${sshd.port}: ECONNREFUSED`);
        expect(stoppedAfter).toBeLessThan(bound);
        expect(existsSync(manifestPath)).toBe(false);
      }
    } finally {
      await sshd.start();
    }
    // Objects are renamed into place whole: whatever is there hashes to its name.
    expect(allIntact(store).bad).toEqual([]);
    if (existsSync(manifestPath)) expect(objectCount(store)).toBe(62);

    const again = json(await dvs(repo, ['push', '--json']));
    expect(again).toMatchObject({ failures: [], manifests: 1 });
    expect(allIntact(store)).toEqual({ count: 62, bad: [] });
    // The temp files the killed push left are this host's, from a process that is gone: removed.
    expect(existsSync(join(store, 'tmp')) ? readdirSync(join(store, 'tmp')) : []).toEqual([]);
  }, FAULT_TEST_MS);

  it('a dropped connection is retriable and re-opened by the next request', async () => {
    const { openBackend } = await import('../../src/remotes/index.js');
    const { parseRemoteUrl } = await import('../../src/remotes/url.js');
    const work = tempDir();
    const url = sshd.url(join(work, 'store'));
    const backend = await openBackend({ name: 'origin', url, location: parseRemoteUrl(url, '/'), options: { key_file: sshd.keyFile, known_hosts: sshd.knownHosts }, sources: {}, root: '/', timeoutSeconds: 30 });
    const call = { signal: new AbortController().signal };
    const put = async (text: string) => {
      writeFileSync(join(work, 'f'), text);
      await backend.upload({ oid: sha(text), path: join(work, 'f'), size: text.length }, call);
    };
    try {
      const before = ['before 1', 'before 2', 'before 3'];
      for (const t of before) await put(t); // every connection of the pool in use
      await sshd.kill();
      await sshd.start();
      // The queue retries what failed because the connection went away; the retry gets a new one.
      const after = ['after 1', 'after 2', 'after 3', 'after 4'];
      for (const t of after) {
        for (let attempt = 0; ; attempt++) {
          try {
            await put(t);
            break;
          } catch (err) {
            expect(err).toMatchObject({ retriable: true, fatal: false });
            expect(attempt).toBeLessThan(2);
          }
        }
      }
      expect(await backend.stat([...before, ...after].map(sha), call)).toEqual([...before, ...after].map((t) => t.length));
    } finally {
      await backend.close();
    }
  });

  it('an unknown or changed host key is refused with its fingerprint; a wrong key with what was tried', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    await ok(repo, ['track', 'x.bin']);
    const empty = join(tempDir(), 'known_hosts');
    writeFileSync(empty, '');
    const store = sshRemote(repo, sshd.keyFile, empty);
    const unknown = await dvs(repo, ['push']);
    expect(unknown.code).toBe(7);
    expect(unknown.stderr).toContain(`dvs: error: Remote "origin": the host key of [127.0.0.1]:${sshd.port} is not known (ssh-ed25519 ${sshd.fingerprint})`);
    expect(unknown.stderr).toContain(`ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}`);
    expect(existsSync(store)).toBe(false);

    // Another key recorded for the host (hashed entry, as HashKnownHosts writes them): an attack, maybe.
    const other = readFileSync(`${sshd.otherKeyFile}.pub`, 'utf8').split(' ');
    const salt = randomBytes(20);
    const hashed = createHmac('sha1', salt).update(`[127.0.0.1]:${sshd.port}`).digest('base64');
    writeFileSync(empty, `|1|${salt.toString('base64')}|${hashed} ${other[0]} ${other[1]}\n`);
    const changed = await dvs(repo, ['push']);
    expect(changed.code).toBe(7);
    expect(changed.stderr).toContain(`differs from the one recorded in ${empty} line 1`);
    expect(changed.stderr).toContain(sshd.fingerprint);

    // The right host key, hashed, is accepted; a key the server does not know is refused.
    writeFileSync(empty, readFileSync(sshd.knownHosts, 'utf8').replace(`[127.0.0.1]:${sshd.port}`, `|1|${salt.toString('base64')}|${hashed}`));
    setDvsConfig(repo, { 'remote.origin.key_file': sshd.otherKeyFile }, 'config.local');
    const wrong = await dvs(repo, ['push']);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toContain(`refused the credentials of user "${sshd.user}"`);
    expect(wrong.stderr).toContain(`Tried: the key ${sshd.otherKeyFile} (remote.origin.key_file, .dvs/config.local)`);
    expect(wrong.stderr).toContain('hint: Add your public key to');

    setDvsConfig(repo, { 'remote.origin.key_file': sshd.keyFile }, 'config.local');
    expect((await dvs(repo, ['push'])).stdout).toContain('Pushed 1 object');
  });

  it('key_file and known_hosts come from this machine only, never from the committed config', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    await ok(repo, ['track', 'x.bin']);
    sshRemote(repo);
    const set = await dvs(repo, ['remote', 'modify', 'origin', 'key_file', sshd.keyFile]);
    expect(set.code).toBe(2);
    expect(set.stderr).toContain('hint: Store it in the ignored local file: dvs remote modify --local origin key_file <value>');
    setDvsConfig(repo, { 'remote.origin.key_file': undefined }, 'config.local');
    setDvsConfig(repo, { 'remote.origin.key_file': sshd.keyFile });
    const used = await dvs(repo, ['push']);
    expect(used.code).toBe(3);
    expect(used.stderr).toContain('.dvs/config (committed) sets remote.origin.key_file');
    expect(used.stderr).toContain(`hint: If you trust it, set it for this clone: dvs remote modify --local origin key_file ${sshd.keyFile}`);
  });

  it('a frozen sshd: no handshake, the command gives up in seconds', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'frozen' });
    await ok(repo, ['track', 'x.bin']);
    sshRemote(repo);
    setDvsConfig(repo, { 'transfer.timeout': 1, 'transfer.retries': 1 });
    const bound = scaled(15_000);
    sshd.pause();
    try {
      const t0 = Date.now();
      const r = await dvs(repo, ['push']);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`Cannot reach remote "origin" at ssh://${sshd.user}@127.0.0.1:${sshd.port}: no SSH handshake within 1 s`);
      expect(Date.now() - t0).toBeLessThan(bound);
    } finally {
      sshd.resume();
    }
  });

  it('an unreachable port fails within seconds, with a hint', async () => {
    const port = await closedPort();
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    await ok(repo, ['track', 'x.bin']);
    setDvsConfig(repo, { 'remote.origin.url': `ssh://dvs@127.0.0.1:${port}/srv/dvs`, 'core.remote': 'origin' });
    for (const args of [['push'], ['status', '--remote']]) {
      const bound = scaled(10_000);
      const t0 = Date.now();
      const r = await dvs(repo, args);
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`dvs: error: Cannot reach remote "origin" at ssh://dvs@127.0.0.1:${port}: ECONNREFUSED`);
      expect(r.stderr).toContain(`hint: Check that the server at ssh://dvs@127.0.0.1:${port} is running`);
      expect(Date.now() - t0).toBeLessThan(bound);
    }
  });
});

describe('dvs remote', () => {
  it('adds, lists, modifies, picks the default and removes remotes; secrets only in config.local', async () => {
    const repo = gitRepo();
    const add = await dvs(repo, ['remote', 'add', '-d', 'store', '../shared-store']);
    expect(add.code).toBe(0);
    expect(add.stdout).toBe('Added remote store: ../shared-store (in .dvs/config), the default\nStaged: .dvs/config\n');
    await ok(repo, ['remote', 'add', 'cloud', 's3://bucket/datasets']);
    expect((await dvs(repo, ['remote', 'add', 'cloud', 's3://other'])).code).toBe(5);
    expect((await dvs(repo, ['remote', 'add', 'bad', 'ftp://x/y'])).stderr).toContain('unsupported remote URL scheme "ftp://"');
    await ok(repo, ['remote', 'modify', 'cloud', 'endpoint', 'http://127.0.0.1:9000']);
    const secret = await dvs(repo, ['remote', 'modify', 'cloud', 'secret_access_key', 'shh']);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain('hint: Store it in the ignored local file: dvs remote modify --local cloud secret_access_key <value>');
    await ok(repo, ['remote', 'modify', '--local', 'cloud', 'secret_access_key', 'shh']);
    expect((await dvs(repo, ['remote', 'modify', 'cloud', 'colour', 'blue'])).code).toBe(2);
    expect(read(repo, '.dvs/config')).not.toContain('shh');
    expect(read(repo, '.dvs/config.local')).toContain('secret_access_key: shh');
    const list = await dvs(repo, ['remote', 'list']);
    // A new S3 remote is packed (docs/remote-format.md); a directory stays loose, so it writes no format.
    expect(list.stdout).toBe('  cloud  s3://bucket/datasets  (endpoint=http://127.0.0.1:9000 secret_access_key=(secret) format=packed)\n* store  ../shared-store\n');
    expect((await dvs(repo, ['remote', 'default'])).stdout).toBe('store\n');
    await ok(repo, ['remote', 'default', 'cloud']);
    const removed = await dvs(repo, ['remote', 'remove', 'cloud']);
    expect(removed.stdout).toContain('Removed remote cloud (it was the default; none is now) from .dvs/config and .dvs/config.local');
    expect(read(repo, '.dvs/config')).not.toContain('cloud');
    expect(json(await dvs(repo, ['remote', 'list', '--json'])).remotes).toEqual([{ name: 'store', url: '../shared-store', isDefault: false, options: {} }]);
    const none = await dvs(repo, ['push', '-r', 'nope']);
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('No remote named "nope" (configured: store)');
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
