import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/objects/cache.js';
import { copyAndHash, hashFileInSlices, hashFileSync, stampOf } from '../../src/objects/hash.js';
import { storeFileSync } from '../../src/objects/store-file.js';
import { StatCache } from '../../src/objects/stat-cache.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('hashing and the cache', () => {
  const dir = tempDir();
  const data = Buffer.alloc(5 * 1024 * 1024 + 123);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
  const src = join(dir, 'src.bin');
  writeFileSync(src, data);
  const expected = createHash('sha256').update(data).digest('hex');

  it('hashes the same in the sliced and the synchronous paths', async () => {
    expect((await hashFileInSlices(src)).oid).toBe(expected);
    expect(hashFileSync(src, Buffer.alloc(64 * 1024)).oid).toBe(expected);
  });

  it('stores a file under its hash, read-only, with no temp files left', async () => {
    const cache = new ObjectCache(join(dir, 'cache'));
    const r = await cache.addFile(src);
    expect(r.oid).toBe(expected);
    expect(r.placed).toBe(true);
    const obj = cache.pathOf(expected);
    expect(obj).toBe(join(dir, 'cache', expected.slice(0, 2), expected.slice(2)));
    expect(readFileSync(obj).equals(data)).toBe(true);
    expect(statSync(obj).mode & 0o777).toBe(0o444);
    expect((await cache.addFile(src)).placed).toBe(false);
    expect(readFileSync(obj).length).toBe(data.length);
    expect(readdirSync(cache.tmpDir)).toEqual([]);
  });

  it('stores by copy or by hard link, and reports the stamp of the object it created', () => {
    const buffer = Buffer.alloc(64 * 1024);
    const copyCache = new ObjectCache(join(dir, 'cache-copy'));
    const copied = storeFileSync(copyCache, src, buffer, 'copy');
    expect(copied).toMatchObject({ oid: expected, placed: true, stable: true });
    const copyStat = statSync(copyCache.pathOf(expected), { bigint: true });
    expect(copyStat.ino).not.toBe(statSync(src, { bigint: true }).ino);
    expect(copied.objectStamp).toEqual(stampOf(copyStat));
    expect(storeFileSync(copyCache, src, buffer, 'copy')).toMatchObject({ oid: expected, placed: false, objectStamp: undefined });

    const linked = join(dir, 'to-link.bin');
    writeFileSync(linked, data);
    const linkCache = new ObjectCache(join(dir, 'cache-link'));
    const r = storeFileSync(linkCache, linked, buffer, 'hardlink');
    expect(r).toMatchObject({ oid: expected, placed: true });
    const objStat = statSync(linkCache.pathOf(expected), { bigint: true });
    // The same inode, now read-only in both places; its stamp is the one hashed.
    expect(objStat.ino).toBe(statSync(linked, { bigint: true }).ino);
    expect(Number(objStat.mode) & 0o777).toBe(0o444);
    expect(r.objectStamp).toEqual(stampOf(objStat));
    expect(readdirSync(linkCache.tmpDir)).toEqual([]);
  });

  it('copyAndHash copies and hashes, overlapped for old files and one after the other for just-written ones', async () => {
    const old = join(dir, 'old.bin');
    writeFileSync(old, data);
    utimesSync(old, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    for (const [source, dest] of [[old, join(dir, 'copy-old.bin')], [src, join(dir, 'copy-new.bin')]]) {
      const r = await copyAndHash(source, dest);
      expect(r.oid).toBe(expected);
      expect(r.size).toBe(data.length);
      expect(readFileSync(dest).equals(data)).toBe(true);
      expect(statSync(dest).mode & 0o777).toBe(0o444);
      expect(r.copyStamp).toEqual(stampOf(statSync(dest, { bigint: true })));
      await expect(copyAndHash(source, dest)).rejects.toMatchObject({ code: 'EEXIST' });
    }
  });

  it('refuses to read back an object whose bytes do not match its name', () => {
    const cache = new ObjectCache(join(dir, 'cache2'));
    const oid = cache.addBuffer('hello\n');
    const path = cache.pathOf(oid);
    chmodSync(path, 0o644);
    writeFileSync(path, 'hellO\n');
    expect(() => cache.readVerified(oid, 'test')).toThrow(/corrupted/);
    expect(existsSync(path)).toBe(true);
  });
});

describe('stat cache', () => {
  it('returns an oid only for the exact stamp it was recorded with', () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const stamp = stampOf(statSync(file, { bigint: true }));
    const state = StatCache.open(join(dir, 'state.sqlite'));
    state.set(stamp, 'c'.repeat(64), true);
    state.flush();
    expect(state.get(stamp)).toBe('c'.repeat(64));
    expect(state.get({ ...stamp, size: stamp.size + 1 })).toBeUndefined();
    expect(state.get({ ...stamp, mtimeNs: stamp.mtimeNs + 1n })).toBeUndefined();
    state.close();
    const reopened = StatCache.open(join(dir, 'state.sqlite'));
    expect(reopened.get(stamp)).toBe('c'.repeat(64));
    reopened.close();
  });

  it('does not record a file modified a moment ago (racy timestamps)', () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const stamp = stampOf(statSync(file, { bigint: true }));
    const state = StatCache.open(join(dir, 'state.sqlite'));
    state.set(stamp, 'd'.repeat(64));
    expect(state.get(stamp)).toBeUndefined();
    state.close();
  });

  it('throws away an unreadable database instead of failing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.sqlite'), 'this is not sqlite at all, just junk bytes '.repeat(100));
    const state = StatCache.open(join(dir, 'state.sqlite'));
    expect(state.get({ dev: 1, ino: 1, size: 1, mtimeNs: 1n })).toBeUndefined();
    state.close();
  });
});
