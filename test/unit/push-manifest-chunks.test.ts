// A push reads a big directory manifest once: while it is read for the objects it lists
// (expandNeeds), it is also cut into chunks, and the chunk list kept is the one a separate read
// (chunkListOf) would compute. A damaged manifest keeps no list.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandNeeds } from '../../src/ops/remote/scope.js';
import { Repo } from '../../src/repo/repo.js';
import { chunkListOf, hasChunkList, loadChunkList } from '../../src/transfer/chunk-list.js';
import { cleanupTempDirs, gitRepo, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('expandNeeds with chunkManifest', () => {
  const setup = () => {
    const root = gitRepo();
    const repo = Repo.open(root);
    const put = (bytes: Buffer) => {
      const oid = sha(bytes);
      const path = repo.cache.pathOf(oid);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, bytes, { mode: 0o444 });
      return oid;
    };
    const small = ['a\n', 'b\n', 'c\n'].map((s) => put(Buffer.from(s)));
    // 60,000 entries: about 5.6 MiB, over the 4 MiB chunk threshold.
    const lines = ['dvs-manifest 1'];
    for (let i = 0; i < 60_000; i++) lines.push(`${small[i % 3]} 2 - d${String(Math.floor(i / 1000)).padStart(3, '0')}/f${String(i).padStart(6, '0')}.bin`);
    const manifest = Buffer.from(lines.join('\n') + '\n');
    const oid = put(manifest);
    const pointer = { dataPath: 'data', pointer: { kind: 'dir' as const, oid, size: 120_000, files: 60_000 } };
    return { root, repo, oid, manifest, pointer };
  };

  it('cuts the manifest in the read that lists its objects, keeping the list a separate read would compute', () => {
    const { root, repo, oid, pointer } = setup();
    const dir = join(root, 'lists');
    const asked: string[] = [];
    const needs = expandNeeds(repo, [pointer], undefined, { chunkManifest: (m) => (asked.push(m), dir) });
    expect(asked).toEqual([oid]);
    expect(needs.dirs[0].objects?.size).toBe(3);
    const kept = loadChunkList(dir, oid);
    expect(kept).toBeDefined();
    expect(kept!.chunks.length).toBeGreaterThan(5);
    expect(kept).toEqual(chunkListOf(join(tempDir(), 'fresh'), oid, repo.cache.pathOf(oid)));
  });

  it('keeps no list for a manifest that does not hash to its name', () => {
    const { root, repo, oid, manifest, pointer } = setup();
    const path = repo.cache.pathOf(oid);
    chmodSync(path, 0o644);
    const damaged = Buffer.from(manifest);
    damaged[damaged.length - 10] ^= 1;
    writeFileSync(path, damaged);
    const dir = join(root, 'lists');
    const needs = expandNeeds(repo, [pointer], undefined, { chunkManifest: () => dir });
    expect(needs.dirs[0].objects).toBeUndefined();
    expect(hasChunkList(dir, oid)).toBe(false);
  });
});
