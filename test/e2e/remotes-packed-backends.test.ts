// The packed remote format (docs/remote-format.md) on Azure Blob (Azurite), SSH/SFTP (OpenSSH sshd) and,
// read-only, HTTP (nginx serving a packed directory remote): push, a fresh clone's pull (one file by a
// ranged read, then all), gc --remote repacking, verify --remote --deep, altered pack bytes refused, and a
// push killed with SIGKILL leaving no index that names missing bytes. One server per describe block, small
// data: remotes-packed.test.ts covers the format itself on a local directory, S3 and GCS.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBackend } from '../../src/remotes/index.js';
import type { ByteRange, RemoteOptions } from '../../src/remotes/types.js';
import { parseRemoteUrl } from '../../src/remotes/url.js';
import { cleanupTempDirs, DVS, dvs, dvsOk as ok, git, GIT_ENV, gitRepo, json, read, setDvsConfig as setDvsConfig, tempDir, writeTree } from '../helpers.js';
import { makeBlobServiceClient, startAzurite } from '../servers/azurite.mjs';
import { startCountingProxy } from '../servers/counting-proxy.mjs';
import { skipHttp, startNginx } from '../servers/nginx.mjs';
import { sshdAvailable, startSshd } from '../servers/sshd.mjs';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const SLOW_MS = 300_000;
const CONTAINER = 'dvs-packs';

afterAll(() => cleanupTempDirs());

function manifestOf(repo: string, pointer: string): string {
  return read(repo, pointer).match(/sha256:([0-9a-f]{64})/)![1];
}

function background(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [DVS, ...args], { cwd, env: { ...process.env, ...GIT_ENV, CI: 'true' } });
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, done };
}

async function until(cond: () => Promise<boolean>, timeoutMs = 120_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** A remote's keys as the tests see them, behind dvs's back. */
interface Store {
  /** `packs/<name>` and the loose oids. */
  names(): Promise<{ packs: string[]; indexes: string[]; loose: string[] }>;
  read(name: string): Promise<Buffer>;
  write(name: string, bytes: Buffer): Promise<void>;
}

/** Every index names only packs that are there, and every object in them hashes to its oid; returns the oids. */
async function indexedIntact(store: Store): Promise<Set<string>> {
  const oids = new Set<string>();
  for (const name of (await store.names()).indexes) {
    const bytes = await store.read(name);
    expect(sha(bytes) + '.idx').toBe(name);
    const lines = bytes.toString('utf8').trim().split('\n');
    const packs = lines.filter((l) => l.startsWith('pack ')).map((l) => l.split(' ')[1]);
    const data = await Promise.all(packs.map((p) => store.read(`${p}.pack`)));
    data.forEach((d, i) => expect(sha(d)).toBe(packs[i]));
    for (const l of lines.slice(1 + packs.length)) {
      const [oid, pack, offset, length] = l.split(' ');
      expect(sha(data[Number(pack)].subarray(Number(offset), Number(offset) + Number(length)))).toBe(oid);
      oids.add(oid);
    }
  }
  return oids;
}

/** Bytes `range` of a pack file, read through the backend dvs uses (a ranged read), and its listing. */
async function throughBackend(url: string, options: RemoteOptions, name: string, range: ByteRange) {
  const backend = await openBackend({ name: 'origin', url, location: parseRemoteUrl(url, '/'), options, sources: {}, root: '/', timeoutSeconds: 60 });
  const call = { signal: new AbortController().signal };
  try {
    const listed: string[] = [];
    for await (const page of backend.listPackFiles!(call)) listed.push(...page.map((p) => p.name));
    const source = await backend.readPackFile!(name, range, call);
    const parts: Buffer[] = [];
    if (source.type === 'stream') for await (const chunk of source.stream) parts.push(chunk as Buffer);
    return { bytes: Buffer.concat(parts), listed };
  } finally {
    await backend.close();
  }
}

/** 40 files of 4,000 bytes in two folders: one pack, one index. */
function smallTree(): Record<string, Buffer> {
  const tree: Record<string, Buffer> = {};
  for (let i = 0; i < 40; i++) tree[`d/${i < 20 ? 'a' : 'b'}/f-${i}.bin`] = randomBytes(4000);
  return tree;
}

interface Backend {
  kind: string;
  store(pfx: string): Store;
  url(pfx: string): string;
  options(): RemoteOptions;
  /** The clone-local settings (credentials, endpoint); `counted` sends HTTP requests through the counting proxy. */
  configure(repo: string, counted?: boolean): void;
  proxy?: () => Awaited<ReturnType<typeof startCountingProxy>>;
}

/**
 * The whole round trip on one backend: push packed, a fresh clone pulls one file (a ranged read) and then
 * everything, gc --remote repacks an index mostly dead and every kept object stays reachable, verify
 * --remote --deep, altered pack bytes refused; then a push killed mid-way.
 */
function packedSuite(b: Backend) {
  let n = 0;
  const pfx = () => `p${process.pid}-${n++}`;

  it('push, a fresh clone pulls one file by a ranged read then all, gc --remote repacks, verify --deep; altered pack bytes are refused', async () => {
    const repo = gitRepo();
    const tree = smallTree();
    writeTree(repo, tree);
    await ok(repo, ['track', 'd']);
    const p = pfx();
    const store = b.store(p);
    await ok(repo, ['remote', 'add', '-d', 'origin', b.url(p)]);
    expect(read(repo, '.dvs/config')).toContain('format: packed'); // the default for azure:// and ssh://
    b.configure(repo);
    expect(json(await dvs(repo, ['push', '--json']))).toMatchObject({ uploaded: 41, manifests: 1, failures: [] });
    const first = await store.names();
    expect(first.packs).toHaveLength(1);
    expect(first.indexes).toHaveLength(1);
    expect(first.loose).toEqual([manifestOf(repo, 'd.dvs')]);
    expect((await indexedIntact(store)).size).toBe(40);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');

    // The backend reads a range of a pack: exactly those bytes, and lists packs/.
    const pack = await store.read(first.packs[0]);
    const seen = await throughBackend(b.url(p), b.options(), first.packs[0], { start: 1000, end: 5000 });
    expect(seen.bytes.equals(pack.subarray(1000, 5000))).toBe(true);
    expect(seen.listed.sort()).toEqual([...first.packs, ...first.indexes].sort());

    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    b.configure(clone, true);
    b.proxy?.().reset();
    await ok(clone, ['pull', 'd/a/f-3.bin']);
    expect(readFileSync(join(clone, 'd/a/f-3.bin')).equals(tree['d/a/f-3.bin'])).toBe(true);
    expect(existsSync(join(clone, 'd/a/f-4.bin'))).toBe(false);
    if (b.proxy) {
      const log = b.proxy().log;
      const reads = log.filter((l) => /\/packs\/[0-9a-f]{64}\.pack /.test(l));
      expect(reads, log.join('\n')).toHaveLength(1);
      expect(reads[0], log.join('\n')).toMatch(/bytes=\d+-\d+$/);
      expect(b.proxy().count, log.join('\n')).toBeLessThanOrEqual(5);
    }
    await ok(clone, ['pull']);
    for (const [path, bytes] of Object.entries(tree)) expect(readFileSync(join(clone, path)).equals(bytes), path).toBe(true);

    // Replace 30 of the 40 files: the first index is three quarters dead, and gc repacks it.
    for (let i = 0; i < 30; i++) writeFileSync(join(repo, `d/${i < 20 ? 'a' : 'b'}/f-${i}.bin`), randomBytes(4000));
    await ok(repo, ['track', 'd']);
    await ok(repo, ['push']);
    git(repo, 'commit', '-q', '-am', 'change');
    const gc = json(await dvs(repo, ['gc', '--remote', '--json']));
    expect(gc.removed).toHaveLength(31); // 30 old files and the old manifest
    const after = await store.names();
    expect(after.indexes).not.toContain(first.indexes[0]);
    expect(after.packs).not.toContain(first.packs[0]);
    expect((await indexedIntact(store)).size).toBe(40);
    const fresh = join(tempDir(), 'fresh');
    git(repo, 'clone', '-q', repo, fresh);
    b.configure(fresh);
    await ok(fresh, ['pull']);
    for (let i = 0; i < 40; i += 3) {
      const path = `d/${i < 20 ? 'a' : 'b'}/f-${i}.bin`;
      expect(readFileSync(join(fresh, path)).equals(readFileSync(join(repo, path))), path).toBe(true);
    }
    expect(json(await dvs(fresh, ['verify', '--remote', '--deep', '--json']))).toMatchObject({ problems: [], checked: 41 });

    // One flipped byte in a pack: a clone's pull refuses that object.
    const [target] = (await store.names()).packs;
    const bytes = await store.read(target);
    bytes[100] ^= 0xff;
    await store.write(target, bytes);
    const third = join(tempDir(), 'third');
    git(repo, 'clone', '-q', repo, third);
    b.configure(third);
    const bad = await dvs(third, ['pull', '--json']);
    expect(bad.code).not.toBe(0);
    expect(json(bad).fetch.failures).toEqual([expect.objectContaining({ code: 'REMOTE_OBJECT_CORRUPTED' })]);
  }, SLOW_MS);

  it('a push killed with SIGKILL leaves no index naming missing bytes, and no early manifest; running it again completes', async () => {
    const repo = gitRepo();
    const tree: Record<string, Buffer> = {};
    // 20 × 900 KiB: two packs (of at most 16 MiB), uploaded one at a time (-j 1).
    for (let i = 0; i < 20; i++) tree[`s/s-${String(i).padStart(2, '0')}.bin`] = randomBytes(900 * 1024 + i);
    writeTree(repo, tree);
    await ok(repo, ['track', 's']);
    const p = pfx();
    const store = b.store(p);
    await ok(repo, ['remote', 'add', '-d', 'origin', b.url(p)]);
    b.configure(repo);
    const manifest = manifestOf(repo, 's.dvs');
    const push = background(repo, ['push', '-j', '1']);
    const caught = await until(async () => (await store.names().catch(() => ({ packs: [] }))).packs.length >= 1);
    push.child.kill('SIGKILL');
    await push.done;
    expect(caught).toBe(true);
    const indexed = await indexedIntact(store);
    if ((await store.names()).loose.includes(manifest)) expect(indexed.size).toBe(20);
    await ok(repo, ['push']);
    expect((await indexedIntact(store)).size).toBe(20);
    expect((await store.names()).loose).toEqual([manifest]);
  }, SLOW_MS);
}

/** A directory on this machine, as a local remote's or an SSH remote's folder. */
function directoryStore(dir: string): Store {
  return {
    async names() {
      const packsDir = join(dir, 'packs');
      const names = existsSync(packsDir) ? readdirSync(packsDir) : [];
      const loose = (existsSync(dir) ? readdirSync(dir) : []).filter((s) => /^[0-9a-f]{2}$/.test(s)).flatMap((s) => readdirSync(join(dir, s)).map((r) => s + r));
      return { packs: names.filter((x) => /^[0-9a-f]{64}\.pack$/.test(x)), indexes: names.filter((x) => /^[0-9a-f]{64}\.idx$/.test(x)), loose };
    },
    read: async (name) => readFileSync(join(dir, 'packs', name)),
    write: async (name, bytes) => writeFileSync(join(dir, 'packs', name), bytes),
  };
}

describe('a packed Azure Blob remote (Azurite)', () => {
  let server: any;
  let container: any;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  const connection = (endpoint: string) => `DefaultEndpointsProtocol=http;AccountName=${server.accountName};AccountKey=${server.accountKey};BlobEndpoint=${endpoint}/${server.accountName};`;
  beforeAll(async () => {
    server = await startAzurite();
    container = (await makeBlobServiceClient(server)).getContainerClient(CONTAINER);
    await container.create();
    proxy = await startCountingProxy(`http://127.0.0.1:${server.port}`);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });
  packedSuite({
    kind: 'azure',
    url: (pfx) => `azure://${CONTAINER}/${pfx}`,
    options: () => ({ connection_string: server.connectionString }),
    configure(repo, counted) {
      setDvsConfig(repo, { 'remote.origin.connection_string': counted ? connection(proxy.url) : server.connectionString }, 'config.local');
    },
    proxy: () => proxy,
    store(pfx) {
      return {
        async names() {
          const out = { packs: [] as string[], indexes: [] as string[], loose: [] as string[] };
          for await (const blob of container.listBlobsFlat({ prefix: `${pfx}/` })) {
            const key = (blob.name as string).slice(pfx.length + 1);
            if (/^packs\/[0-9a-f]{64}\.pack$/.test(key)) out.packs.push(key.slice(6));
            else if (/^packs\/[0-9a-f]{64}\.idx$/.test(key)) out.indexes.push(key.slice(6));
            else if (/^[0-9a-f]{2}\/[0-9a-f]{62}$/.test(key)) out.loose.push(key.replace('/', ''));
          }
          return out;
        },
        read: async (name) => container.getBlockBlobClient(`${pfx}/packs/${name}`).downloadToBuffer(),
        write: async (name, bytes) => void (await container.getBlockBlobClient(`${pfx}/packs/${name}`).uploadData(bytes)),
      };
    },
  });
});

describe.skipIf(!sshdAvailable() && process.env.CI !== 'true')('a packed SSH remote (OpenSSH sshd)', () => {
  let sshd: any;
  let work: string;
  beforeAll(async () => {
    work = tempDir('dvs-packed-ssh-');
    sshd = await startSshd();
  }, 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });
  packedSuite({
    kind: 'ssh',
    url: (pfx) => sshd.url(join(work, pfx)),
    options: () => ({ key_file: sshd.keyFile, known_hosts: sshd.knownHosts }),
    configure(repo) {
      setDvsConfig(repo, { 'remote.origin.key_file': sshd.keyFile, 'remote.origin.known_hosts': sshd.knownHosts }, 'config.local');
    },
    store: (pfx) => directoryStore(join(work, pfx)),
  });
});

describe.skipIf(skipHttp)('a packed remote read over HTTP (nginx)', () => {
  let server: any;
  let repo: string;
  let store: string;
  const tree = smallTree();
  const single = randomBytes(3000);
  beforeAll(async () => {
    store = join(tempDir('dvs-packed-http-'), 'store');
    mkdirSync(store);
    server = await startNginx({ root: store });
    repo = gitRepo();
    writeTree(repo, { ...tree, 'x.bin': single });
    await ok(repo, ['track', 'd', 'x.bin']);
    await ok(repo, ['remote', 'add', '-d', '--format', 'packed', 'origin', store]);
    await ok(repo, ['push']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  function cloneWith(url: string): string {
    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': url }, 'config.local');
    return clone;
  }

  it('a server that lists packs/ (autoindex): a fresh clone pulls one file, then all; also where the server ignores Range', async () => {
    const [pack] = (await directoryStore(store).names()).packs;
    const bytes = readFileSync(join(store, 'packs', pack));
    for (const where of ['listed', 'norange']) {
      // 206 where Range is honoured, 200 with the whole pack where it is not: the same bytes either way.
      const seen = await throughBackend(server.url(where), {}, pack, { start: 4000, end: 9000 });
      expect(seen.bytes.equals(bytes.subarray(4000, 9000)), where).toBe(true);
      expect(seen.listed).toContain(pack);
      const clone = cloneWith(server.url(where));
      await ok(clone, ['pull', 'd/b/f-30.bin']);
      expect(readFileSync(join(clone, 'd/b/f-30.bin')).equals(tree['d/b/f-30.bin']), where).toBe(true);
      expect(existsSync(join(clone, 'd/b/f-31.bin'))).toBe(false);
      await ok(clone, ['pull']);
      for (const [path, data] of Object.entries(tree)) expect(readFileSync(join(clone, path)).equals(data), `${where} ${path}`).toBe(true);
      expect(readFileSync(join(clone, 'x.bin')).equals(single)).toBe(true);
    }
    const log = readFileSync(server.accessLog, 'utf8');
    expect(log).toMatch(/"GET \/listed\/packs\/[0-9a-f]{64}\.pack HTTP\/1\.1" 206/);
    expect(log).toMatch(/"GET \/norange\/packs\/[0-9a-f]{64}\.pack HTTP\/1\.1" 200/);
  }, SLOW_MS);

  it('a server that does not list packs/: loose objects still read, the packed ones missed with a hint saying why', async () => {
    const clone = cloneWith(server.url('public'));
    const status = json(await dvs(clone, ['status', '--remote', '--json']));
    expect(status.warnings).toEqual([expect.objectContaining({ code: 'REMOTE_CANNOT_LIST', hint: expect.stringContaining('does not list packs/') })]);
    const r = await dvs(clone, ['pull', '--json']);
    expect(r.code).not.toBe(0);
    const failures = json(r).fetch.failures;
    expect(failures.length).toBe(41); // the manifest is loose and arrives; its 40 files and x.bin do not
    for (const f of failures) expect(f.hint).toContain('This HTTP server does not list packs/');
    const human = await dvs(clone, ['pull']);
    expect(human.stderr).toContain('does not list packs/');
  }, SLOW_MS);
});
