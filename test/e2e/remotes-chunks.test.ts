// Big files as content-defined chunks on a packed remote (docs/remote-format.md, "Chunks"): an edit in
// the middle of a 12 MiB file sends a few chunks and a list, not the file; a fresh clone rebuilds and
// verifies it; an altered chunk is refused; gc --remote keeps the chunks of what it keeps; a push killed
// with SIGKILL leaves no chunk list naming missing chunks, and running it again finishes; a big manifest
// stored as chunks is withdrawn (its list deleted) when a file it lists is lost.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, setDvsConfig, DVS, dvs, git, GIT_ENV, gitRepo, json, tempDir } from '../helpers.js';
import { makeGcsClient, startGcsServer } from '../servers/gcs.mjs';
import { startCountingProxy } from '../servers/counting-proxy.mjs';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const SLOW_MS = 300_000;
const MiB = 1 << 20;

afterAll(() => cleanupTempDirs());


async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * `size` bytes that look random to the chunker but are the same at every run (AES-CTR of zeros under a
 * key made from `seed`): where the cut points fall depends on the bytes, and with fresh random bytes a
 * run now and then drew chunks near the 1 MiB maximum around an edit, so the bytes a push sends varied
 * from run to run.
 */
function seededBytes(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/** A repository tracking `big.bin` of `size` seeded random bytes, with a packed local remote as its default. */
async function bigFileWithRemote(size: number): Promise<{ repo: string; store: string }> {
  const repo = gitRepo();
  writeFileSync(join(repo, 'big.bin'), seededBytes(size, `big-${size}`));
  await ok(repo, ['track', 'big.bin']);
  const store = join(tempDir(), 'store');
  await ok(repo, ['remote', 'add', '-d', '--format', 'packed', 'origin', store]);
  return { repo, store };
}

function packFiles(store: string): string[] {
  const dir = join(store, 'packs');
  return existsSync(dir) ? readdirSync(dir) : [];
}

function storeBytes(store: string): number {
  return packFiles(store).reduce((s, n) => s + statSync(join(store, 'packs', n)).size, 0);
}

/** The chunk oids the indexes of a local remote name (every pack they name is there). */
function indexed(store: string): Set<string> {
  const oids = new Set<string>();
  for (const name of packFiles(store).filter((n) => n.endsWith('.idx'))) {
    const lines = readFileSync(join(store, 'packs', name), 'utf8').trim().split('\n');
    for (const l of lines.slice(1)) {
      if (l.startsWith('pack ')) expect(existsSync(join(store, 'packs', `${l.split(' ')[1]}.pack`))).toBe(true);
      else oids.add(l.split(' ')[0]);
    }
  }
  return oids;
}

/** Every chunk list on the remote names only indexed chunks; returns the objects listed. */
function listsComplete(store: string): string[] {
  const have = indexed(store);
  const lists = packFiles(store).filter((n) => n.endsWith('.chunks'));
  for (const name of lists) {
    for (const l of readFileSync(join(store, 'packs', name), 'utf8').trim().split('\n').slice(3)) expect(have.has(l.split(' ')[0])).toBe(true);
  }
  return lists.map((n) => n.slice(0, 64));
}

function overwrite(path: string, at: number, bytes: Buffer): void {
  const data = readFileSync(path);
  bytes.copy(data, at);
  writeFileSync(path, data);
}

describe('a big manifest stored as chunks', () => {
  it('is withdrawn (its list deleted) when a file it lists is lost, by fetch and by verify --remote; push sends both again', async () => {
    // 60,000 files of the same bytes: one small object, and a manifest of about 5 MiB, stored as chunks.
    const repo = gitRepo();
    const tree: Record<string, string | Buffer> = { 'data/lost.bin': randomBytes(2 * MiB) };
    for (let i = 0; i < 60_000; i++) tree[`data/part/${String(i).padStart(6, '0')}.txt`] = 'x';
    mkdirSync(join(repo, 'data/part'), { recursive: true });
    for (const [path, bytes] of Object.entries(tree)) writeFileSync(join(repo, path), bytes);
    const tracked = json(await ok(repo, ['track', 'data', '--json'])).items[0];
    const manifest: string = tracked.oid;
    expect(statSync(join(repo, '.dvs/cache', manifest.slice(0, 2), manifest.slice(2))).size).toBeGreaterThanOrEqual(4 * MiB);
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '-d', '--format', 'packed', 'origin', store]);
    await ok(repo, ['push']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
    const list = join(store, 'packs', `${manifest}.chunks`);
    expect(existsSync(list)).toBe(true);
    const lost = sha(tree['data/lost.bin']);
    const lostPath = join(store, lost.slice(0, 2), lost.slice(2)); // 1 to 4 MiB: loose
    const lostBytes = readFileSync(lostPath);

    // A clone's fetch finds the file gone: the manifest vouching for it must not stay there.
    rmSync(lostPath);
    const clone = tempDir('dvs-clone-');
    git(clone, 'clone', '-q', repo, '.');
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local'); // the committed path outside, confirmed
    const fetched = json(await dvs(clone, ['fetch', '--json']));
    expect(fetched.withdrawn).toEqual([{ path: 'data (manifest)', oid: manifest }]);
    expect(existsSync(list)).toBe(false);
    // The clone that has the data sends the file and the manifest again.
    await ok(repo, ['push']);
    expect(readFileSync(lostPath)).toEqual(lostBytes);
    expect(existsSync(list)).toBe(true);

    // The same loss found by verify --remote.
    rmSync(lostPath);
    const verified = json(await dvs(repo, ['verify', '--remote', '--json']));
    expect(verified.withdrawn).toEqual([{ path: 'data (manifest)', oid: manifest }]);
    expect(existsSync(list)).toBe(false);
    await ok(repo, ['push']);
    expect(existsSync(list) && existsSync(lostPath)).toBe(true);
  }, SLOW_MS);
});

describe('a directory of many files, its manifest generated into the cache (as track would leave it)', () => {
  it('a one-entry change sends less than 1 MiB; diff reads only the part of the manifests that differs', async () => {
    const repo = gitRepo();
    const store = join(tempDir(), 'store');
    await ok(repo, ['remote', 'add', '-d', '--format', 'packed', 'origin', store]);
    const cacheFile = (oid: string) => join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2));
    const put = (bytes: Buffer) => {
      const oid = sha(bytes);
      mkdirSync(join(cacheFile(oid), '..'), { recursive: true });
      if (!existsSync(cacheFile(oid))) writeFileSync(cacheFile(oid), bytes, { mode: 0o444 });
      return oid;
    };
    // 60,000 entries naming 100 small objects: a manifest of about 5.7 MiB, over the 4 MiB chunk threshold.
    const objects = Array.from({ length: 100 }, (_, k) => Buffer.from(`${k}\n`));
    const oids = objects.map(put);
    const changed = Buffer.from('changed\n');
    const count = 60_000;
    const version = (edit: boolean) => {
      const lines = ['dvs-manifest 1'];
      let size = 0;
      for (let i = 0; i < count; i++) {
        const path = `d${String(Math.floor(i / 1000)).padStart(3, '0')}/f${String(i).padStart(6, '0')}.bin`;
        const bytes = edit && i === count / 2 ? changed : objects[i % 100];
        lines.push(`${bytes === changed ? put(changed) : oids[i % 100]} ${bytes.length} - ${path}`);
        size += bytes.length;
      }
      const oid = put(Buffer.from(lines.join('\n') + '\n'));
      writeFileSync(join(repo, 'data.dvs'), `version: 1\nkind: dir\noid: sha256:${oid}\nsize: ${size}\nfiles: ${count}\n`);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', edit ? 'v2' : 'v1');
      return oid;
    };
    const v1 = version(false);
    expect(statSync(cacheFile(v1)).size).toBeGreaterThan(4 * MiB);
    expect(json(await dvs(repo, ['push', '--json']))).toMatchObject({ uploaded: 101, manifests: 1, failures: [] });
    const v2 = version(true);
    const before = storeBytes(store);
    const second = json(await dvs(repo, ['push', '--json']));
    expect(second).toMatchObject({ uploaded: 2, manifests: 1, failures: [] });
    // The chunk around the change (256 KiB on average, 1 MiB at most; the bytes are fixed, so is the
    // figure) and a list of some 12 chunks, not the 5.7 MiB.
    expect(second.bytes).toBeLessThan(MiB);
    expect(storeBytes(store) - before).toBeLessThan(MiB);
    expect(listsComplete(store).sort()).toEqual([v1, v2].sort());

    // Damage the old manifest in the cache far from the change: a diff that read it whole would stop
    // there (OBJECT_CORRUPTED); one that reads only the chunks around the change gives the answer.
    const path = cacheFile(v1);
    chmodSync(path, 0o644);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 5)] ^= 0x01;
    writeFileSync(path, bytes);
    const diff = json(await ok(repo, ['diff', 'HEAD~1', 'HEAD', '--json']));
    expect(diff.changes).toHaveLength(1);
    expect(diff.changes[0].files).toEqual([
      { path: `d030/f0${count / 2}.bin`, change: 'modified', oldOid: oids[0], newOid: sha(changed), oldSize: 2, newSize: changed.length, sizeDelta: changed.length - 2 },
    ]);
    expect(diff.summary.files).toEqual({ added: 0, deleted: 0, modified: 1, renamed: 0 });
  }, SLOW_MS);
});

describe('big files as chunks on a packed local remote', () => {
  it('an edit in the middle sends little; a clone rebuilds and verifies; an altered chunk is refused; gc keeps live chunks', async () => {
    const { repo, store } = await bigFileWithRemote(12 * MiB);
    const first = json(await dvs(repo, ['push', '--json']));
    expect(first).toMatchObject({ uploaded: 1, failures: [] });
    const v1 = sha(readFileSync(join(repo, 'big.bin')));
    expect(listsComplete(store)).toEqual([v1]);
    expect(existsSync(join(store, v1.slice(0, 2)))).toBe(false); // not loose
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'v1');

    const before = storeBytes(store);
    overwrite(join(repo, 'big.bin'), 6 * MiB, seededBytes(100 * 1024, 'edit'));
    await ok(repo, ['track', 'big.bin']);
    const second = json(await dvs(repo, ['push', '--json']));
    expect(second).toMatchObject({ uploaded: 1, failures: [] });
    // 100 KiB changed: the chunks around it (256 KiB on average, 1 MiB at most) and a list.
    expect(second.bytes).toBeLessThan(2 * MiB);
    expect(storeBytes(store) - before).toBeLessThan(2 * MiB);
    const v2 = sha(readFileSync(join(repo, 'big.bin')));
    expect(listsComplete(store).sort()).toEqual([v1, v2].sort());
    git(repo, 'commit', '-q', '-am', 'v2');

    // gc --remote keeps what the last commit needs (and its chunks), drops the old version's list.
    const gc = json(await dvs(repo, ['gc', '--remote', '--json']));
    expect(gc.removed.map((r: { oid: string }) => r.oid)).toContain(v1);
    expect(listsComplete(store)).toEqual([v2]);

    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    setDvsConfig(clone, { 'remote.origin.url': store }, 'config.local');
    expect(json(await dvs(clone, ['pull', '--json'])).fetch).toMatchObject({ fetched: 1, failures: [] });
    expect(sha(readFileSync(join(clone, 'big.bin')))).toBe(v2);
    expect(json(await dvs(clone, ['verify', '--remote', '--deep', '--json'])).problems).toEqual([]);

    // A flipped byte in a pack: a fresh clone refuses the object (nothing enters its cache).
    const biggest = packFiles(store).filter((n) => n.endsWith('.pack')).sort((a, b) => statSync(join(store, 'packs', b)).size - statSync(join(store, 'packs', a)).size)[0];
    const pack = join(store, 'packs', biggest);
    const bytes = readFileSync(pack);
    bytes[5 * MiB] ^= 0xff;
    writeFileSync(pack, bytes);
    const other = join(tempDir(), 'other');
    git(repo, 'clone', '-q', repo, other);
    setDvsConfig(other, { 'remote.origin.url': store }, 'config.local');
    const refused = await dvs(other, ['pull', '--json']);
    expect(refused.code).not.toBe(0);
    expect(json(refused).fetch.failures).toEqual([expect.objectContaining({ code: 'REMOTE_OBJECT_CORRUPTED' })]);
    expect(existsSync(join(other, 'big.bin'))).toBe(false);
    expect(existsSync(join(other, '.dvs/cache', v2.slice(0, 2), v2.slice(2)))).toBe(false);
  }, SLOW_MS);

  it('gc --remote repacks live chunks of an index mostly dead, and leaves none of them in the cache', async () => {
    const { repo, store } = await bigFileWithRemote(8 * MiB);
    await ok(repo, ['push']);
    const v1 = sha(readFileSync(join(repo, 'big.bin')));
    const firstIndexes = packFiles(store).filter((n) => n.endsWith('.idx'));
    // Most of the file rewritten: the first push's index keeps a quarter of live chunks.
    overwrite(join(repo, 'big.bin'), MiB, seededBytes(6 * MiB, 'rewrite'));
    await ok(repo, ['track', 'big.bin']);
    await ok(repo, ['push']);
    const v2 = sha(readFileSync(join(repo, 'big.bin')));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'v2');
    await ok(repo, ['gc', '--remote']);
    expect(packFiles(store).filter((n) => firstIndexes.includes(n))).toEqual([]); // repacked
    expect(listsComplete(store)).toEqual([v2]);
    // The chunks read back to be packed again were objects of the cache for a moment only.
    const cache = join(repo, '.dvs/cache');
    const cached = readdirSync(cache).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(cache, d)).map((n) => d + n));
    expect(cached.sort()).toEqual([v1, v2].sort());
  }, SLOW_MS);

  it('a push killed with SIGKILL leaves no chunk list naming missing chunks; running it again finishes', async () => {
    const { repo, store } = await bigFileWithRemote(40 * MiB);
    const child = spawn(process.execPath, [DVS, 'push', '-j', '1'], { cwd: repo, env: { ...process.env, ...GIT_ENV, CI: 'true' } });
    const done = new Promise((resolve) => child.on('close', resolve));
    const end = Date.now() + 120_000;
    while (Date.now() < end && !packFiles(store).some((n) => n.endsWith('.pack'))) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await done;
    expect(listsComplete(store)).toEqual([]);
    expect(json(await dvs(repo, ['push', '--json']))).toMatchObject({ uploaded: 1, failures: [] });
    expect(listsComplete(store)).toEqual([sha(readFileSync(join(repo, 'big.bin')))]);
  }, SLOW_MS);
});

describe('big files as chunks on a packed GCS remote', () => {
  let gcs: any;
  beforeAll(async () => {
    gcs = await startGcsServer();
    await (await makeGcsClient(gcs)).createBucket('dvs-chunks');
  }, 120_000);
  afterAll(async () => gcs?.stop());

  it('an edit in the middle of a big file: a few requests, a few chunks; a clone pulls it verified', async () => {
    const proxy = await startCountingProxy(gcs.url);
    try {
      const repo = gitRepo();
      writeFileSync(join(repo, 'big.bin'), seededBytes(12 * MiB, 'big-gcs'));
      await ok(repo, ['track', 'big.bin']);
      await ok(repo, ['remote', 'add', '-d', 'origin', `gs://dvs-chunks/r-${process.pid}`]);
      setDvsConfig(repo, { 'remote.origin.endpoint': proxy.url });
      await ok(repo, ['push']);
      overwrite(join(repo, 'big.bin'), 6 * MiB, seededBytes(100 * 1024, 'edit'));
      await ok(repo, ['track', 'big.bin']);
      proxy.reset();
      const pushed = json(await dvs(repo, ['push', '--json']));
      expect(pushed.bytes).toBeLessThan(2 * MiB);
      expect(proxy.count, proxy.log.join('\n')).toBeLessThanOrEqual(10);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'v2');
      const clone = join(tempDir(), 'clone');
      git(repo, 'clone', '-q', repo, clone);
      proxy.reset();
      expect(json(await dvs(clone, ['pull', '--json'])).fetch).toMatchObject({ fetched: 1, failures: [] });
      expect(readFileSync(join(clone, 'big.bin')).equals(readFileSync(join(repo, 'big.bin')))).toBe(true);
      // The list, the indexes, and the chunks in a few coalesced ranged reads.
      expect(proxy.count, proxy.log.join('\n')).toBeLessThanOrEqual(10);
    } finally {
      await proxy.close();
    }
  }, SLOW_MS);
});
