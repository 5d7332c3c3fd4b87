// The packed remote format (docs/remote-format.md) end to end: a local directory, S3 (OpenStack Swift)
// and GCS (the project's JSON API server), every request counted by a proxy that speaks real HTTP in
// front of the server; a push or pull killed with SIGKILL and a server killed mid-push leave no index
// naming missing bytes and no manifest without its files, and running the command again finishes.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, setDvsConfig, DVS, dvs, git, GIT_ENV, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { makeGcsClient, startGcsProcess, startGcsServer } from '../servers/gcs.mjs';
import { startCountingProxy } from '../servers/counting-proxy.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const SWIFT = swiftAvailable();
const BUCKET = 'dvs-packed';
const SLOW_MS = 300_000;

let swift: any;
let gcs: any;

beforeAll(async () => {
  gcs = await startGcsServer();
  await (await makeGcsClient(gcs)).createBucket(BUCKET);
  if (SWIFT) {
    swift = await startSwift();
    const client = await makeS3Client(swift);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }
}, 180_000);

afterAll(async () => {
  await gcs?.stop();
  await swift?.stop();
  cleanupTempDirs();
});


async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Files of the packed layout in a local remote. */
function layout(store: string): { packs: string[]; indexes: string[]; loose: string[] } {
  const packsDir = join(store, 'packs');
  const names = existsSync(packsDir) ? readdirSync(packsDir) : [];
  const loose = (existsSync(store) ? readdirSync(store) : []).filter((s) => /^[0-9a-f]{2}$/.test(s)).flatMap((s) => readdirSync(join(store, s)).map((r) => s + r));
  return { packs: names.filter((n) => n.endsWith('.pack')), indexes: names.filter((n) => n.endsWith('.idx')), loose };
}

/** Every index names only packs that are there, every object in them hashes to its oid; returns the oids. */
function indexedIntact(store: string): Set<string> {
  const oids = new Set<string>();
  for (const name of layout(store).indexes) {
    const bytes = readFileSync(join(store, 'packs', name));
    expect(sha(bytes) + '.idx').toBe(name);
    const lines = bytes.toString('utf8').trim().split('\n');
    const packs = lines.filter((l) => l.startsWith('pack ')).map((l) => l.split(' ')[1]);
    const data = packs.map((p) => readFileSync(join(store, 'packs', `${p}.pack`)));
    data.forEach((d, i) => expect(sha(d)).toBe(packs[i]));
    for (const l of lines.slice(1 + packs.length)) {
      const [oid, pack, offset, length] = l.split(' ');
      expect(sha(data[Number(pack)].subarray(Number(offset), Number(offset) + Number(length)))).toBe(oid);
      oids.add(oid);
    }
  }
  return oids;
}

function manifestOf(repo: string, pointer: string): string {
  return read(repo, pointer).match(/sha256:([0-9a-f]{64})/)![1];
}

describe('a packed local remote', () => {
  it('gc --remote repacks an index mostly dead (new pack first), removes old unnamed packs, keeps young ones', async () => {
    const repo = gitRepo();
    const v1: Record<string, Buffer> = {};
    for (let i = 0; i < 40; i++) v1[`d/f-${i}.bin`] = randomBytes(4000);
    writeTree(repo, v1);
    await ok(repo, ['track', 'd']);
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '-d', '--format', 'packed', 'origin', store]);
    await ok(repo, ['push']);
    const [first] = layout(store).indexes;
    // Replace 30 of the 40 files: the first index is three quarters dead.
    for (let i = 0; i < 30; i++) writeFileSync(join(repo, `d/f-${i}.bin`), randomBytes(4000));
    await ok(repo, ['track', 'd']);
    await ok(repo, ['push']);
    expect(layout(store).indexes).toHaveLength(2);
    const stray = Buffer.concat([Buffer.from('dvs-pack 1\n\0', 'latin1'), randomBytes(100)]);
    const young = Buffer.concat([Buffer.from('dvs-pack 1\n\0', 'latin1'), randomBytes(100)]);
    writeFileSync(join(store, 'packs', `${sha(stray)}.pack`), stray);
    writeFileSync(join(store, 'packs', `${sha(young)}.pack`), young);
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(store, 'packs', `${sha(stray)}.pack`), old, old);

    const dry = json(await dvs(repo, ['gc', '--remote', '--dry-run', '--json']));
    expect(dry.removed).toHaveLength(31); // 30 old files and the old manifest
    expect(layout(store).indexes).toContain(first);
    const gc = json(await dvs(repo, ['gc', '--remote', '--json']));
    expect(gc.removed).toHaveLength(31);
    const after = layout(store);
    expect(after.indexes).not.toContain(first);
    expect(after.indexes).toHaveLength(2);
    expect(after.packs).not.toContain(`${sha(stray)}.pack`);
    expect(after.packs).toContain(`${sha(young)}.pack`);
    expect(indexedIntact(store).size).toBe(40);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local');
    await ok(clone, ['pull']);
    for (let i = 0; i < 40; i += 3) expect(readFileSync(join(clone, `d/f-${i}.bin`)).equals(readFileSync(join(repo, `d/f-${i}.bin`)))).toBe(true);
    expect(json(await dvs(clone, ['verify', '--remote', '--deep', '--json'])).problems).toEqual([]);
  }, SLOW_MS);

  it('packs small files, keeps big ones and manifests loose; a clone pulls one file or all; status, verify and gc know packs', async () => {
    const repo = gitRepo();
    const tree: Record<string, Buffer | string> = {};
    for (let i = 0; i < 200; i++) tree[`data/set/part-${String(i).padStart(3, '0')}.bin`] = randomBytes(5000 + i);
    tree['data/set/big.bin'] = randomBytes(1_500_000);
    writeTree(repo, tree);
    await ok(repo, ['track', 'data/set']);
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '-d', '--format', 'packed', 'origin', store]);
    expect(read(repo, '.dvs/config')).toContain('format: packed');
    const pushed = json(await dvs(repo, ['push', '--json']));
    expect(pushed).toMatchObject({ uploaded: 202, manifests: 1, failures: [] });
    const l = layout(store);
    expect(l.packs).toHaveLength(1);
    expect(l.indexes).toHaveLength(1);
    const manifest = manifestOf(repo, 'data/set.dvs');
    expect(l.loose.sort()).toEqual([sha(tree['data/set/big.bin']), manifest].sort());
    expect(indexedIntact(store).size).toBe(200);
    expect(json(await dvs(repo, ['status', '--remote', '--json'])).clean).toBe(true);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');

    // A one-file change: one more pack (one file) and index, the new manifest loose.
    writeFileSync(join(repo, 'data/set/part-007.bin'), 'changed');
    await ok(repo, ['track', 'data/set']);
    expect(json(await dvs(repo, ['push', '--json']))).toMatchObject({ uploaded: 2, manifests: 1 });
    expect(layout(store).indexes).toHaveLength(2);
    git(repo, 'commit', '-q', '-am', 'change');

    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local');
    expect(json(await dvs(clone, ['pull', 'data/set/part-042.bin', '--json']))).toMatchObject({ fetch: { fetched: 2, failures: [] } });
    expect(readFileSync(join(clone, 'data/set/part-042.bin')).equals(tree['data/set/part-042.bin'] as Buffer)).toBe(true);
    expect(existsSync(join(clone, 'data/set/part-041.bin'))).toBe(false);
    await ok(clone, ['pull']);
    expect(readFileSync(join(clone, 'data/set/part-007.bin'), 'utf8')).toBe('changed');
    expect(readFileSync(join(clone, 'data/set/big.bin')).equals(tree['data/set/big.bin'] as Buffer)).toBe(true);
    expect(readdirSync(join(clone, '.dvs/tmp/remotes')).some((n) => n.endsWith('.packs'))).toBe(true);
    const deep = json(await dvs(clone, ['verify', '--remote', '--deep', '--json']));
    expect(deep.problems).toEqual([]);
    expect(deep.checked).toBe(202);

    // A flipped byte inside a pack: verify --deep names the object; a fetch refuses it.
    const pack = join(store, 'packs', layout(store).packs.sort((a, b) => readFileSync(join(store, 'packs', b)).length - readFileSync(join(store, 'packs', a)).length)[0]);
    const bytes = readFileSync(pack);
    bytes[100] ^= 0xff;
    writeFileSync(pack, bytes);
    const bad = await dvs(clone, ['verify', '--remote', '--deep', '--json']);
    expect(bad.code).not.toBe(0);
    expect(json(bad).problems).toEqual([expect.objectContaining({ problem: 'corrupted' })]);
  }, SLOW_MS);

  it('reads a loose remote and packs new data into it once its format is packed', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'a/x.bin': randomBytes(3000), 'a/y.bin': randomBytes(3000) });
    await ok(repo, ['track', 'a']);
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '-d', '--format', 'loose', 'origin', store]);
    await ok(repo, ['push']);
    expect(layout(store)).toMatchObject({ packs: [], loose: expect.arrayContaining([]) });
    expect(layout(store).loose).toHaveLength(3);
    await ok(repo, ['remote', 'modify', 'origin', 'format', 'packed']);
    writeTree(repo, { 'a/z.bin': randomBytes(3000) });
    await ok(repo, ['track', 'a']);
    await ok(repo, ['push']);
    expect(layout(store).packs).toHaveLength(1);
    expect(indexedIntact(store).size).toBe(1);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local');
    // The library reads a packed object (one listing, a ranged read) and a loose one, verified.
    const api = await import('../../src/api/index.js');
    expect((await api.read('a/z.bin', { cwd: clone })).equals(readFileSync(join(repo, 'a/z.bin')))).toBe(true);
    expect((await api.read('a/x.bin', { cwd: clone })).equals(readFileSync(join(repo, 'a/x.bin')))).toBe(true);
    await ok(clone, ['pull']);
    for (const f of ['x', 'y', 'z']) expect(readFileSync(join(clone, `a/${f}.bin`)).equals(readFileSync(join(repo, `a/${f}.bin`)))).toBe(true);
    const bad = await dvs(repo, ['remote', 'modify', 'origin', 'format', 'zip']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected packed or loose');
  });
});

/** Object stores behind a counting proxy: request counts are what a bill would show. */
const stores = [
  ...(SWIFT ? [{
    kind: 's3',
    files: 1000,
    url: (p: string) => `s3://${BUCKET}/${p}`,
    target: () => swift.endpoint as string,
    configure(repo: string, endpoint: string) {
      setDvsConfig(repo, { 'remote.origin.access_key_id': 'test:tester', 'remote.origin.secret_access_key': 'testing' }, 'config.local');
      setDvsConfig(repo, { 'remote.origin.endpoint': endpoint });
    },
  }] : []),
  {
    kind: 'gcs',
    files: 1000,
    url: (p: string) => `gs://${BUCKET}/${p}`,
    target: () => gcs.url as string,
    configure(repo: string, endpoint: string) {
      setDvsConfig(repo, { 'remote.origin.endpoint': endpoint });
    },
  },
];

let n = 0;

describe.each(stores)('a packed $kind remote', (store) => {
  it(`${store.files} small files: push makes at most 1% as many requests; a granular pull at most 4; all verified`, async () => {
    const proxy = await startCountingProxy(store.target());
    try {
      const repo = gitRepo();
      const tree: Record<string, Buffer> = {};
      const files = store.files;
      for (let i = 0; i < files; i++) tree[`data/imgs/${String(i % 50).padStart(2, '0')}/img-${i}.bin`] = randomBytes(10 * 1024);
      writeTree(repo, tree);
      await ok(repo, ['track', 'data/imgs']);
      await ok(repo, ['remote', 'add', '-d', 'origin', store.url(`packed-${process.pid}-${n++}`)]);
      expect(read(repo, '.dvs/config')).toContain('format: packed'); // the default for object stores
      store.configure(repo, proxy.url);
      proxy.reset();
      const pushed = json(await dvs(repo, ['push', '--json']));
      expect(pushed).toMatchObject({ uploaded: files + 1, manifests: 1, failures: [] });
      expect(proxy.count, proxy.log.join('\n')).toBeLessThanOrEqual(files / 100);
      proxy.reset();
      expect(json(await dvs(repo, ['push', '--json']))).toMatchObject({ uploaded: 0 });
      expect(proxy.count).toBeLessThanOrEqual(2);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'data');

      const clone = join(tempDir(), 'clone');
      git(repo, 'clone', '-q', repo, clone);
      store.configure(clone, proxy.url);
      proxy.reset();
      await ok(clone, ['pull', 'data/imgs/07/img-857.bin']);
      expect(proxy.count, proxy.log.join('\n')).toBeLessThanOrEqual(4);
      expect(readFileSync(join(clone, 'data/imgs/07/img-857.bin')).equals(tree['data/imgs/07/img-857.bin'])).toBe(true);
      // A folder of 100 files that are neighbours in a pack: one ranged read.
      proxy.reset();
      await ok(clone, ['pull', 'data/imgs/08']);
      expect(proxy.count, proxy.log.join('\n')).toBeLessThanOrEqual(2);
      proxy.reset();
      const all = json(await dvs(clone, ['pull', '--json']));
      expect(all.fetch).toMatchObject({ failures: [] });
      expect(proxy.count).toBeLessThanOrEqual(10);
      expect(readFileSync(join(clone, 'data/imgs/49/img-999.bin')).equals(tree['data/imgs/49/img-999.bin'])).toBe(true);
      expect(json(await dvs(clone, ['status', '--remote', '--json'])).clean).toBe(true);
      expect(json(await dvs(clone, ['verify', '--remote', '--json'])).problems).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, SLOW_MS);
});

/** Start dvs in the background; resolves with its exit code and output. */
function background(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [DVS, ...args], { cwd, env: { ...process.env, ...GIT_ENV, CI: 'true' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, done };
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 120_000, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

/** Enough small files for several packs (60 × 900 KiB: four packs of at most 16 MiB). */
function packsWorth(repo: string): void {
  const tree: Record<string, Buffer> = {};
  for (let i = 0; i < 60; i++) tree[`data/set/s-${String(i).padStart(2, '0')}.bin`] = randomBytes(900 * 1024 + i);
  writeTree(repo, tree);
}

describe('faults with the packed format', () => {
  it('a push killed with SIGKILL leaves at most packs no index names; a pull killed too; running them again finishes', async () => {
    const repo = gitRepo();
    packsWorth(repo);
    await ok(repo, ['track', 'data/set']);
    const store = join(tempDir(), 'store');
    setDvsConfig(repo, { 'remote.origin.url': store, 'remote.origin.format': 'packed', 'core.remote': 'origin' });
    setDvsConfig(repo, { 'remote.origin.url': store }, 'config.local');
    const manifest = manifestOf(repo, 'data/set.dvs');
    const push = background(repo, ['push', '-j', '1']);
    const caught = await until(() => layout(store).packs.length >= 1, 120_000, 5);
    push.child.kill('SIGKILL');
    await push.done;
    expect(caught).toBe(true);
    const indexed = indexedIntact(store);
    if (layout(store).loose.includes(manifest)) expect(indexed.size).toBe(60);
    await ok(repo, ['push']);
    expect(indexedIntact(store).size).toBe(60);
    expect(layout(store).loose).toEqual([manifest]);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');

    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local');
    const pull = background(clone, ['pull', '-j', '1']);
    await until(() => existsSync(join(clone, '.dvs/cache')) && readdirSync(join(clone, '.dvs/cache')).filter((s) => /^[0-9a-f]{2}$/.test(s)).length >= 3, 120_000, 5);
    pull.child.kill('SIGKILL');
    await pull.done;
    await ok(clone, ['pull']);
    for (let i = 0; i < 60; i += 7) {
      const name = `data/set/s-${String(i).padStart(2, '0')}.bin`;
      expect(readFileSync(join(clone, name)).equals(readFileSync(join(repo, name)))).toBe(true);
    }
    expect(json(await dvs(clone, ['verify', '--json'])).problems ?? []).toEqual([]);
  }, SLOW_MS);

  it('the GCS server killed in the middle of a packed push: no index without its packs, no early manifest; re-running completes', async () => {
    const dir = tempDir();
    let server = await startGcsProcess({ dir });
    const port = server.port;
    const storage = await makeGcsClient({ url: server.url });
    await storage.createBucket(BUCKET);
    const repo = gitRepo();
    packsWorth(repo);
    await ok(repo, ['track', 'data/set']);
    setDvsConfig(repo, { 'remote.origin.url': `gs://${BUCKET}/p`, 'remote.origin.endpoint': server.url, 'remote.origin.format': 'packed', 'core.remote': 'origin', 'transfer.retries': 1 });
    const manifest = manifestOf(repo, 'data/set.dvs');
    const list = async () => (await storage.bucket(BUCKET).getFiles({ prefix: 'p/' }))[0].map((f: { name: string }) => f.name as string);
    try {
      const push = background(repo, ['push', '-j', '1']);
      const caught = await until(async () => (await list().catch(() => [])).some((k) => k.endsWith('.pack')), 120_000, 50);
      await server.kill();
      const r = await push.done;
      expect(caught).toBe(true);
      if (r.code !== 0) expect(r.code).toBe(7);
      server = await startGcsProcess({ port, dir });
      const names = await list();
      // Every index names only packs that are there, whose bytes hash to their names.
      const packs = new Set(names.filter((k) => k.endsWith('.pack')).map((k) => k.slice('p/packs/'.length, -'.pack'.length)));
      let indexed = 0;
      for (const k of names.filter((k) => k.endsWith('.idx'))) {
        const [bytes] = await storage.bucket(BUCKET).file(k).download({ validation: false });
        expect(sha(bytes)).toBe(k.slice('p/packs/'.length, -'.idx'.length));
        for (const line of bytes.toString('utf8').split('\n').filter((l: string) => l.startsWith('pack '))) expect(packs.has(line.split(' ')[1])).toBe(true);
        indexed += bytes.toString('utf8').trim().split('\n').filter((l: string) => /^[0-9a-f]{64} /.test(l)).length;
      }
      if (names.includes(`p/${manifest.slice(0, 2)}/${manifest.slice(2)}`)) expect(indexed).toBe(60);
      await ok(repo, ['push']);
      expect(await list()).toContain(`p/${manifest.slice(0, 2)}/${manifest.slice(2)}`);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'data');
      const clone = join(tempDir(), 'clone');
      git(repo, 'clone', '-q', repo, clone);
      await ok(clone, ['pull']);
      expect(readFileSync(join(clone, 'data/set/s-59.bin')).equals(readFileSync(join(repo, 'data/set/s-59.bin')))).toBe(true);
    } finally {
      await server.stop();
    }
  }, SLOW_MS);
});
