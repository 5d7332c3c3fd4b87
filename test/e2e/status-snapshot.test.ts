import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPointer } from '../../dist/pointer/io.js';
import { Repo } from '../../dist/repo/repo.js';
import { workspaceTempName } from '../../dist/base/temp-names.js';
import { compareWorkspace } from '../../dist/workspace/compare.js';
import { cleanupTempDirs, dvsOk, git, gitRepo } from '../helpers.js';

afterAll(cleanupTempDirs);

// A status of a directory that matches its pointer is answered by its snapshot (the stamps of its files
// in manifest order, and the hash of its file list) without keeping a record per file
// (workspace/dir-oids.ts, snapshotStillHolds). These tests make changes that keep every file's stamp,
// so that only the file list can tell them, and check the answer against a comparison made with no
// snapshot at all. They load the built modules (dist/): the hash pool starts workers from there.

const past = new Date(Date.now() - 3600_000);
const NAMES = ['a-b', 'a.txt', 'a/x', 'a/y/z', 'a0', 'b/a.b/c', 'b/a/c', 'é', 'z/\u{1F600}', 'z/\uFFFD-no'];

function write(root: string, rel: string, text: string): void {
  const abs = join(root, 'data', rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
  utimesSync(abs, past, past); // older than the racy window: the snapshot vouches for it
}

async function trackedRepo(): Promise<string> {
  const repo = gitRepo();
  for (let i = 0; i < 300; i++) write(repo, `d${i % 7}/f${String(i).padStart(3, '0')}.bin`, `file ${i}\n`);
  for (const rel of NAMES) write(repo, rel, `named ${rel}\n`);
  await dvsOk(repo, ['track', 'data']);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'data');
  return repo;
}

/** The comparison with the snapshot in place, then the same with the state cache gone (every file read). */
async function withAndWithout(root: string) {
  const open = async () => {
    const repo = Repo.open(root);
    const state = await repo.statCache();
    try {
      const hasSnapshot = state.getDirectory('data') !== undefined;
      const result = await compareWorkspace(repo, 'data', readPointer(repo.root, 'data.dvs'), { state });
      return { hasSnapshot, result };
    } finally {
      state.close();
    }
  };
  const snap = await open();
  rmSync(join(root, '.dvs', 'tmp'), { recursive: true, force: true });
  const fresh = await open();
  expect(snap.hasSnapshot).toBe(true);
  expect(fresh.hasSnapshot).toBe(false);
  const none = { added: [], removed: [], modified: [], modeOnly: [] };
  const shape = (r: typeof snap.result) => ({ workspace: r.workspace, currentOid: r.currentOid, changes: r.changes ?? none, temps: r.temps ?? [], warnings: r.warnings.map((w) => w.path).sort() });
  expect(shape(snap.result)).toEqual(shape(fresh.result));
  return snap.result;
}

/** `data` compared with its pointer through the repository's state cache (which records a snapshot). */
async function compareData(root: string): Promise<string> {
  const repo = Repo.open(root);
  const state = await repo.statCache();
  try {
    return (await compareWorkspace(repo, 'data', readPointer(repo.root, 'data.dvs'), { state })).workspace;
  } finally {
    state.close();
  }
}

describe('status from a directory snapshot', () => {
  it('answers "unchanged" from the snapshot alone, reading no file', async () => {
    const repo = await trackedRepo();
    const r = await withAndWithout(repo);
    expect(r.workspace).toBe('unchanged');
    // The full comparison hands back the files it listed; the snapshot check keeps none.
    expect(r.current).toBeUndefined();
  });

  it('sees changes that keep every stamp: a rename in place, an executable bit, a name swap', async () => {
    const repo = await trackedRepo();
    await withAndWithout(repo); // the snapshot is current
    // A rename keeps the file's inode, size and mtime; between its neighbours it keeps its place too.
    renameSync(join(repo, 'data', 'd3/f003.bin'), join(repo, 'data', 'd3/f003a.bin'));
    let r = await withAndWithout(repo);
    expect(r.changes).toMatchObject({ added: ['d3/f003a.bin'], removed: ['d3/f003.bin'] });

    await dvsOk(repo, ['track', 'data']);
    await withAndWithout(repo);
    chmodSync(join(repo, 'data', 'a.txt'), 0o755); // ctime changes, the stamp (mtime, size, inode) does not
    r = await withAndWithout(repo);
    expect(r.changes).toMatchObject({ modified: ['a.txt'], modeOnly: ['a.txt'] });

    await dvsOk(repo, ['track', 'data']);
    await withAndWithout(repo);
    // Two files of one size trade names: the same set of stamps, in another order.
    renameSync(join(repo, 'data', 'd1/f001.bin'), join(repo, 'data', 'swap'));
    renameSync(join(repo, 'data', 'd1/f008.bin'), join(repo, 'data', 'd1/f001.bin'));
    renameSync(join(repo, 'data', 'swap'), join(repo, 'data', 'd1/f008.bin'));
    r = await withAndWithout(repo);
    expect(r.changes).toMatchObject({ modified: ['d1/f001.bin', 'd1/f008.bin'] });
  }, 60_000);

  it('keeps the snapshot in a file of its own; a torn or foreign one is no snapshot', async () => {
    const repo = await trackedRepo();
    await withAndWithout(repo);
    await withAndWithout(repo); // the second run found a snapshot (asserted inside), written by the first
    const dir = join(repo, '.dvs', 'tmp', 'snapshots');
    const [name] = readdirSync(dir);
    const file = join(dir, name);
    const whole = readFileSync(file);
    expect(whole.subarray(0, 20).toString()).toBe('dvs-snapshot 1\ndata\n');
    const check = async () => {
      const r = Repo.open(repo);
      const state = await r.statCache();
      try {
        return state.getDirectory('data');
      } finally {
        state.close();
      }
    };
    expect((await check())?.mtimes.length).toBe(300 + NAMES.length);
    writeFileSync(file, whole.subarray(0, whole.length - 7)); // torn: not a whole number of stamps
    expect(await check()).toBeUndefined();
    writeFileSync(file, Buffer.concat([Buffer.from('dvs-snapshot 1\nother\n'), whole.subarray(20)])); // another directory's
    expect(await check()).toBeUndefined();
    // With no snapshot the comparison reads the files, finds them unchanged and records one again.
    rmSync(file);
    expect(await compareData(repo)).toBe('unchanged');
    expect(readFileSync(file)).toEqual(whole);
  });

  it('a snapshot write removes the temp file a killed write of it left', async () => {
    const root = await trackedRepo();
    const dir = join(root, '.dvs', 'tmp', 'snapshots');
    const [name] = readdirSync(dir); // the one track recorded
    writeFileSync(join(dir, workspaceTempName(name)), readFileSync(join(dir, name)).subarray(0, 100)); // cut short by a kill -9
    const other = join(dir, workspaceTempName('0'.repeat(32) + '.snapshot')); // another directory's: kept
    writeFileSync(other, '');
    rmSync(join(dir, name)); // no snapshot: the comparison reads the files and records one again
    expect(await compareData(root)).toBe('unchanged');
    expect(readdirSync(dir).sort()).toEqual([basename(other), name].sort());
  });

  it('a .dvsignore inside the tracked directory applies below it, and only there', async () => {
    const repo = gitRepo();
    write(repo, 'keep.log', 'top\n');
    write(repo, 'sub/a.bin', 'a\n');
    write(repo, 'sub/skip.log', 'ignored\n');
    write(repo, 'sub/deep/skip.log', 'ignored too\n');
    write(repo, 'sub/.dvsignore', '*.log\n');
    await dvsOk(repo, ['track', 'data']);
    // keep.log, sub/a.bin and sub/.dvsignore itself: not the two skip.log
    expect(readPointer(repo, 'data.dvs').files).toBe(3);
    expect((await withAndWithout(repo)).workspace).toBe('unchanged');
    write(repo, 'sub/new.log', 'still ignored\n');
    expect((await withAndWithout(repo)).workspace).toBe('unchanged');
    write(repo, 'new.log', 'not ignored up here\n');
    expect((await withAndWithout(repo)).changes!.added).toEqual(['new.log']);
  });

  it('sees a file added, a file removed, an empty folder made and a temp file left', async () => {
    const repo = await trackedRepo();
    await withAndWithout(repo);
    write(repo, 'z/new', 'new\n');
    rmSync(join(repo, 'data', 'b/a/c'));
    mkdirSync(join(repo, 'data', 'empty'));
    writeFileSync(join(repo, 'data', 'a', '.x.dvs-tmp-1234'), 'left by a killed checkout');
    const r = await withAndWithout(repo);
    expect(r.changes!.added).toContain('z/new');
    expect(r.changes!.removed).toEqual(['b/a/c']);
  });
});
