import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectCache } from '../../src/objects/cache.js';
import { hashFileInSlices, hashFileSync, stampOf } from '../../src/objects/hash.js';
import { StateCache } from '../../src/objects/state.js';
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

describe('state cache', () => {
  it('returns an oid only for the exact stamp it was recorded with', () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const stamp = stampOf(statSync(file, { bigint: true }));
    const state = StateCache.open(join(dir, 'state.sqlite'));
    state.set(stamp, 'c'.repeat(64), true);
    state.flush();
    expect(state.get(stamp)).toBe('c'.repeat(64));
    expect(state.get({ ...stamp, size: stamp.size + 1 })).toBeUndefined();
    expect(state.get({ ...stamp, mtimeNs: stamp.mtimeNs + 1n })).toBeUndefined();
    state.close();
    const reopened = StateCache.open(join(dir, 'state.sqlite'));
    expect(reopened.get(stamp)).toBe('c'.repeat(64));
    reopened.close();
  });

  it('does not record a file modified a moment ago (racy timestamps)', () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const stamp = stampOf(statSync(file, { bigint: true }));
    const state = StateCache.open(join(dir, 'state.sqlite'));
    state.set(stamp, 'd'.repeat(64));
    expect(state.get(stamp)).toBeUndefined();
    state.close();
  });

  it('throws away an unreadable database instead of failing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'state.sqlite'), 'this is not sqlite at all, just junk bytes '.repeat(100));
    const state = StateCache.open(join(dir, 'state.sqlite'));
    expect(state.get({ dev: 1, ino: 1, size: 1, mtimeNs: 1n })).toBeUndefined();
    state.close();
  });
});
