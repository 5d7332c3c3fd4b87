import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManifestCursor, readManifest, type ManifestEntry } from '../../dist/objects/manifest.js';
import { readPointer } from '../../dist/pointer/io.js';
import { Repo } from '../../dist/repo/repo.js';
import { compareWorkspace } from '../../dist/workspace/compare.js';
import { scanDirectory } from '../../dist/workspace/scan.js';
import { planCheckout } from '../../dist/workspace/checkout-plan.js';
import { selectTargets } from '../../dist/workspace/targets.js';
import { cleanupTempDirs, dvs, dvsOk, git, gitRepo, json } from '../helpers.js';

afterAll(cleanupTempDirs);

// A directory with a big manifest is compared with the workspace as one merge walk of the sorted
// workspace against the sorted manifest (workspace/compare-stream.ts), never holding either whole. These
// tests force that path on a small directory (streamAbove: 0) and check it gives exactly what the
// in-memory comparison gives, in every state a status meets. They load the built modules (dist/): the
// hash pool starts workers from there.

const past = new Date(Date.now() - 3600_000);

/** Names whose byte order differs from a per-folder sort that forgets folders sort as "name/". */
const TRICKY = ['a-b', 'a.txt', 'a/x', 'a/y/z', 'a0', 'a/-', 'b/a.b/c', 'b/a/c', 'b/a-c', 'é', 'z/\u{1F600}', 'z/\uFFFD-no'];

function write(root: string, rel: string, text: string): void {
  const abs = join(root, 'data', rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
  utimesSync(abs, past, past); // older than the racy window: the snapshot vouches for it
}

async function trackedRepo(files: number): Promise<string> {
  const repo = gitRepo();
  for (let i = 0; i < files; i++) write(repo, `d${String(i % 37).padStart(2, '0')}/sub${i % 3}/f${i}.bin`, `file ${i}\n`);
  for (const rel of TRICKY) write(repo, rel, `tricky ${rel}\n`);
  write(repo, 'run.sh', '#!/bin/sh\n');
  chmodSync(join(repo, 'data', 'run.sh'), 0o755);
  await dvsOk(repo, ['track', 'data']);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'data');
  return repo;
}

/** Both comparisons of `data` with its pointer, each from the same stat-cache state (its snapshot row saved and put back). */
async function bothWays(root: string) {
  const repo = Repo.open(root);
  const pointer = readPointer(repo.root, 'data.dvs');
  const state = await repo.statCache();
  try {
    const saved = state.getDirectory('data');
    const inMemory = await compareWorkspace(repo, 'data', pointer, { state });
    const snapAfterMemory = state.getDirectory('data');
    if (saved) state.setDirectorySnapshot('data', saved.manifest, saved.listing, builderOf(state, saved));
    const streamed = await compareWorkspace(repo, 'data', pointer, { state, changesOnly: true, streamAbove: 0 });
    const snapAfterStream = state.getDirectory('data');
    return { inMemory, streamed, snapAfterMemory, snapAfterStream };
  } finally {
    state.flush();
  }
}

function builderOf(state: Awaited<ReturnType<Repo['statCache']>>, snap: NonNullable<ReturnType<Awaited<ReturnType<Repo['statCache']>>['getDirectory']>>) {
  const b = state.snapshotBuilder();
  b.copyFrom(snap, snap.mtimes.length);
  return b;
}

function expectSame(r: Awaited<ReturnType<typeof bothWays>>) {
  const { inMemory, streamed } = r;
  expect(streamed.workspace).toBe(inMemory.workspace);
  expect(streamed.currentOid).toBe(inMemory.currentOid);
  expect(streamed.changes ?? { added: [], removed: [], modified: [], modeOnly: [] }).toEqual(inMemory.changes ?? { added: [], removed: [], modified: [], modeOnly: [] });
  expect(streamed.temps ?? []).toEqual(inMemory.temps ?? []);
  expect(streamed.warnings.map((w) => w.path).sort()).toEqual(inMemory.warnings.map((w) => w.path).sort());
  // The snapshot each leaves behind vouches for the same files; except that a file written less than
  // the racy window (0.1 s) before the in-memory comparison ran may be vouched for by the streamed one,
  // which ran later.
  const a = r.snapAfterStream;
  const b = r.snapAfterMemory;
  expect(a?.manifest).toBe(b?.manifest);
  expect(a?.listing).toBe(b?.listing);
  expect(a?.mtimes.length).toBe(b?.mtimes.length);
  for (let i = 0; b && a && i < b.mtimes.length; i++) {
    if (b.numbers[3 * i + 2] === -1) continue;
    expect([a.numbers[3 * i], a.numbers[3 * i + 1], a.numbers[3 * i + 2], a.mtimes[i]]).toEqual([b.numbers[3 * i], b.numbers[3 * i + 1], b.numbers[3 * i + 2], b.mtimes[i]]);
  }
}

describe('streamed comparison of a directory with its manifest', () => {
  it('walks the workspace in manifest order (byte order of whole paths)', async () => {
    const repo = await trackedRepo(50);
    const r = Repo.open(repo);
    const rels = scanDirectory(r, 'data').files.map((f) => f.rel);
    const listed: string[] = [];
    readManifest(r.cache, readPointer(r.root, 'data.dvs').oid, 'data', (e) => listed.push(e.path));
    expect(rels).toEqual(listed);
    expect(rels.indexOf('a-b')).toBeLessThan(rels.indexOf('a/-'));
    expect(rels.indexOf('a/y/z')).toBeLessThan(rels.indexOf('a0'));
  });

  it('gives what the in-memory comparison gives: unchanged, then every kind of change, then changed back', async () => {
    const repo = await trackedRepo(3000);
    expectSame(await bothWays(repo)); // the snapshot from track vouches for every file
    rmSync(join(repo, '.dvs', 'tmp', 'state.sqlite'), { force: true });
    expectSame(await bothWays(repo)); // no snapshot, no stat cache: every file hashed
    write(repo, 'd05/sub1/f5.bin', 'changed\n');
    write(repo, 'a/x', 'changed too\n');
    rmSync(join(repo, 'data', 'a-b'));
    rmSync(join(repo, 'data', 'd36'), { recursive: true });
    rmSync(join(repo, 'data', 'z', '\u{1F600}'));
    write(repo, 'a/new', 'new\n');
    write(repo, 'zz-new/deep/file', 'new\n');
    write(repo, 'a0-', 'new\n');
    chmodSync(join(repo, 'data', 'run.sh'), 0o644);
    chmodSync(join(repo, 'data', 'd01/sub1/f1.bin'), 0o755);
    writeFileSync(join(repo, 'data', 'a', '.x.dvs-tmp-1234'), 'left by a killed checkout'); // a temp name? kept as the scan sees it
    const modified = await bothWays(repo);
    expectSame(modified);
    expect(modified.streamed.workspace).toBe('modified');
    expect(modified.streamed.changes!.modeOnly).toEqual(['d01/sub1/f1.bin', 'run.sh']);
    expect(modified.streamed.changes!.removed).toContain('d36/sub0/f36.bin');
    await dvsOk(repo, ['checkout', '--force', 'data']);
    expectSame(await bothWays(repo));
    expect((await bothWays(repo)).streamed.workspace).toBe('unchanged');
  }, 120_000);

  it('an empty directory, and one whose every file is gone', async () => {
    const repo = await trackedRepo(10);
    rmSync(join(repo, 'data'), { recursive: true });
    mkdirSync(join(repo, 'data'));
    const r = await bothWays(repo);
    expectSame(r);
    expect(r.streamed.changes!.removed.length).toBe(10 + TRICKY.length + 1);
  });
});

/** The checkout plans of `data` (and of `sub` inside it), in memory and as a stream, from the same stat-cache state. */
async function bothPlans(root: string, options: { force?: boolean; relink?: boolean; sub?: string } = {}) {
  const repo = Repo.open(root);
  const { targets } = selectTargets(repo, repo.root, [options.sub ? `data/${options.sub}` : 'data']);
  const state = await repo.statCache();
  try {
    const inMemory = await planCheckout(repo, targets, { state, force: options.force, relink: options.relink });
    const streamed = await planCheckout(repo, targets, { state, force: options.force, relink: options.relink, streamAbove: 0 });
    return { inMemory, streamed };
  } finally {
    state.flush();
  }
}

describe('streamed checkout plan of a directory', () => {
  it('plans what the in-memory planner plans: nothing to do, every kind of change, refusals without --force, a folder inside, nothing there', async () => {
    const repo = await trackedRepo(2000);
    const same = async (options: Parameters<typeof bothPlans>[1] = {}) => {
      const { inMemory, streamed } = await bothPlans(repo, options);
      expect(streamed).toEqual(inMemory);
      return streamed;
    };
    expect((await same()).targets[0].unchanged).toBe(2000 + TRICKY.length + 1);
    write(repo, 'd05/sub1/f5.bin', 'changed, saved nowhere\n');
    write(repo, 'a/x', 'tricky a/x\n'.replace('a/x', 'a-b')); // the bytes of another file: saved in the cache
    rmSync(join(repo, 'data', 'd36'), { recursive: true });
    write(repo, 'a/new', 'new, saved nowhere\n');
    write(repo, 'zz-new/deep/file', 'tricky a0\n'); // saved in the cache
    chmodSync(join(repo, 'data', 'run.sh'), 0o644);
    const refused = await same();
    expect(refused.failures.map((f) => f.path).sort()).toEqual(['data/a/new', 'data/d05/sub1/f5.bin']);
    await same({ force: true });
    await same({ relink: true });
    await same({ sub: 'a' });
    await same({ sub: 'd36' });
    rmSync(join(repo, 'data'), { recursive: true });
    expect((await same()).targets[0].creates.length).toBe(2000 + TRICKY.length + 1);
    writeFileSync(join(repo, 'data'), 'a file where the folder goes\n');
    await same();
    await same({ force: true });
  }, 120_000);
});

describe('status of a directory with a manifest above the streaming threshold (16 MiB)', () => {
  it('counts the objects the cache lacks as it streams the manifest: partial, then missing', async () => {
    const repo = gitRepo();
    const cache = join(repo, '.dvs', 'cache');
    const put = (bytes: Buffer) => {
      const oid = createHash('sha256').update(bytes).digest('hex');
      mkdirSync(join(cache, oid.slice(0, 2)), { recursive: true });
      writeFileSync(join(cache, oid.slice(0, 2), oid.slice(2)), bytes);
      return oid;
    };
    const empty = put(Buffer.alloc(0));
    const absent = createHash('sha256').update('not in the cache').digest('hex');
    const lines = ['dvs-manifest 1'];
    const n = 200_000; // about 18 MiB of lines
    for (let i = 0; i < n; i++) lines.push(`${i === 1234 || i === n - 1 ? absent : empty} 0 - d${String(i % 500).padStart(3, '0')}/f${String(i).padStart(7, '0')}`);
    // Sorted as the spec wants: by path.
    const body = lines.slice(1).sort((a, b) => (a.slice(69) < b.slice(69) ? -1 : 1));
    const manifest = put(Buffer.from([lines[0], ...body].join('\n') + '\n'));
    writeFileSync(join(repo, 'data.dvs'), `version: 1\nkind: dir\noid: sha256:${manifest}\nsize: 0\nfiles: ${n}\n`);
    const st = json(await dvs(repo, ['status', '--json']));
    expect(st.entries[0]).toMatchObject({ workspace: 'missing', cache: 'partial', missingObjects: 2 });
    rmSync(join(cache, empty.slice(0, 2), empty.slice(2)));
    expect(json(await dvs(repo, ['status', '--json'])).entries[0]).toMatchObject({ cache: 'missing', missingObjects: n });
  }, 120_000);
});

describe('ManifestCursor', () => {
  it('hands out every entry in order across block boundaries, and checks the bytes at the end', async () => {
    const repo = await trackedRepo(300);
    const r = Repo.open(repo);
    const oid = readPointer(r.root, 'data.dvs').oid;
    const all: ManifestEntry[] = [];
    readManifest(r.cache, oid, 'data', (e) => all.push(e));
    for (const block of [1, 7, 64, 100, 4096]) {
      const cursor = new ManifestCursor(r.cache, oid, 'data', block);
      const got: ManifestEntry[] = [];
      expect(cursor.peek()).toEqual(all[0]);
      for (let e = cursor.next(); e !== undefined; e = cursor.next()) got.push(e);
      expect(got).toEqual(all);
      expect(cursor.index).toBe(all.length);
      cursor.close();
    }
  });
});
