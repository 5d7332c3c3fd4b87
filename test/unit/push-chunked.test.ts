// pushChunked (src/transfer/chunks.ts) against a real local remote: an object cut for the first time
// is packed in the read that cuts it (PackWriter), one whose list is kept is read again to be packed
// (buildPack); both give the same packs and entries. A cache object that does not hash to its oid gets
// no chunk list on the remote and none kept here, on either path.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/objects/cache.js';
import { LocalBackend } from '../../src/remotes/local.js';
import type { RemoteSpec } from '../../src/remotes/types.js';
import { chunkListDir, hasChunkList } from '../../src/transfer/chunk-list.js';
import { pushChunked } from '../../src/transfer/chunks.js';
import { parseIndex } from '../../src/transfer/pack-format.js';
import { PackCatalogue } from '../../src/transfer/packs.js';
import { cleanupTempDirs, seeded, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const MiB = 1 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');


describe('pushing big objects as chunks', () => {
  const setup = () => {
    const root = tempDir('push-chunked');
    const cache = new ObjectCache(join(root, 'cache'));
    const listDir = chunkListDir(join(root, 'tmp'));
    const remote = (name: string) => {
      const path = join(root, name);
      const spec: RemoteSpec = { name, url: path, location: { scheme: 'local', path }, options: {}, sources: {}, root, timeoutSeconds: 30 };
      const ctx = { backend: new LocalBackend(spec), settings: { jobs: 4, retries: 0, stallMs: 0 } };
      return { path, ctx, catalogue: new PackCatalogue(ctx, join(root, `${name}.packs`)) };
    };
    const put = (bytes: Buffer, oid = sha(bytes)) => {
      const path = cache.pathOf(oid);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, bytes, { mode: 0o444 });
      return { oid, size: bytes.length, path };
    };
    return { root, cache, listDir, remote, put };
  };

  /** Each object of the remote's index with the name of its pack, offset and length. */
  const entriesOf = (remotePath: string) => {
    const dir = join(remotePath, 'packs');
    const idx = readdirSync(dir).filter((n) => n.endsWith('.idx'));
    expect(idx).toHaveLength(1);
    const index = parseIndex(readFileSync(join(dir, idx[0]), 'utf8'));
    return index.entries.map((e) => `${e.oid} ${index.packs[e.pack].name} ${e.offset} ${e.length}`).sort();
  };

  it('packs in the cutting read what a second read would pack: the same packs, entries and list', async () => {
    const { cache, listDir, remote, put } = setup();
    // Two objects sharing their first 3 MiB: the shared chunks go once.
    const a = seeded(40 * MiB, 1);
    const b = Buffer.concat([a.subarray(0, 3 * MiB), seeded(9 * MiB, 2)]);
    const objects = [put(a), put(b)];
    const first = remote('first');
    expect(hasChunkList(listDir, objects[0].oid)).toBe(false);
    const r1 = await pushChunked(first.ctx, cache, first.catalogue, listDir, objects);
    expect(r1.failed).toEqual([]);
    expect(r1.stored.map((s) => s.oid)).toEqual(objects.map((o) => o.oid));
    // The lists are kept now: this push reads the chunks again to pack them.
    expect(hasChunkList(listDir, objects[0].oid)).toBe(true);
    const second = remote('second');
    const r2 = await pushChunked(second.ctx, cache, second.catalogue, listDir, objects);
    expect(r2.failed).toEqual([]);
    expect(entriesOf(first.path)).toEqual(entriesOf(second.path));
    const files = (p: string) => readdirSync(join(p, 'packs')).filter((n) => !n.endsWith('.idx')).sort();
    expect(files(first.path)).toEqual(files(second.path));
    expect(files(first.path).filter((n) => n.endsWith('.pack')).length).toBeGreaterThan(2);
    for (const o of objects) expect(readFileSync(join(first.path, 'packs', `${o.oid}.chunks`))).toEqual(readFileSync(join(second.path, 'packs', `${o.oid}.chunks`)));
    // No temp file left in the cache.
    expect(readdirSync(cache.tmpDir)).toEqual([]);
  });

  it('stores no list for a cache object that does not hash to its oid, cut for the first time or not', async () => {
    const { cache, listDir, remote, put } = setup();
    const good = seeded(6 * MiB, 3);
    const bad = seeded(6 * MiB, 4);
    const damaged = put(bad, sha(good)); // the bytes of `bad` under the name of `good`
    const target = remote('r');
    const r = await pushChunked(target.ctx, cache, target.catalogue, listDir, [damaged]);
    expect(r.stored).toEqual([]);
    expect(r.failed).toEqual([expect.objectContaining({ oid: damaged.oid, error: expect.objectContaining({ code: 'SOURCE_CORRUPTED' }) })]);
    expect(readdirSync(join(target.path, 'packs')).filter((n) => n.endsWith('.chunks'))).toEqual([]);
    expect(hasChunkList(listDir, damaged.oid)).toBe(false);
    expect(readdirSync(cache.tmpDir)).toEqual([]);

    // A list kept from good bytes, then the cache copy damaged: the chunks read again are checked.
    const fresh = setup();
    const obj = fresh.put(good);
    const other = fresh.remote('other');
    expect((await pushChunked(other.ctx, fresh.cache, other.catalogue, fresh.listDir, [obj])).failed).toEqual([]);
    chmodSync(obj.path, 0o644);
    const altered = Buffer.from(good);
    altered[5 * MiB] ^= 1;
    writeFileSync(obj.path, altered);
    const third = fresh.remote('third');
    const r3 = await pushChunked(third.ctx, fresh.cache, third.catalogue, fresh.listDir, [obj]);
    expect(r3.stored).toEqual([]);
    expect(r3.failed).toEqual([expect.objectContaining({ oid: obj.oid })]);
    expect(readdirSync(join(third.path, 'packs')).filter((n) => n.endsWith('.chunks'))).toEqual([]);
  });
});
