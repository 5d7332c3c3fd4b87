// The record hash end to end (docs/record-hash.md): `dvs hash --records` is the same for one CSV, CSV
// partitions and Parquet, and changes with one value; --ordered sees row order; --rev reads the cache,
// and the per-object cache answers the second time.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, writeTree } from '../helpers.js';
import { csv, parquet, recordHash, ROWS } from './record-hash-fixtures.js';

afterAll(cleanupTempDirs);

describe('dvs hash --records', () => {
  it('is the same for one CSV, CSV partitions and Parquet; one changed value changes it; --ordered sees row order', async () => {
    const repo = gitRepo();
    mkdirSync(join(repo, 'parts'));
    mkdirSync(join(repo, 'pq'));
    writeTree(repo, {
      'one.csv': csv(ROWS),
      'parts/part-0.csv': csv(ROWS.slice(0, 50)),
      'parts/part-1.csv': csv(ROWS.slice(50, 120), ['score', 'name', 'id']),
      'parts/part-2.csv': csv(ROWS.slice(120, 121)),
      'parts/part-3.csv': csv(ROWS.slice(121), ['name', 'id', 'score']),
      'changed.csv': csv(ROWS.map((r) => (r.id === 77 ? { ...r, score: r.score + 0.001 } : r))),
      'reordered.csv': csv([...ROWS].reverse()),
      'notes.txt': 'not data\n',
    });
    parquet(join(repo, 'pq/a.parquet'), ROWS.slice(0, 130));
    parquet(join(repo, 'pq/b.parquet'), ROWS.slice(130));

    const one = await recordHash(repo, 'one.csv');
    expect(one).toMatchObject({ path: 'one.csv', rev: null, algorithm: 'dvs-records/1', ordered: false, rows: 240, files: 1, formats: ['csv'] });
    expect(one.digest).toMatch(/^[0-9a-f]{64}$/);
    const parts = await recordHash(repo, 'parts');
    expect(parts).toMatchObject({ digest: one.digest, rows: 240, files: 4 });
    expect(await recordHash(repo, 'pq')).toMatchObject({ digest: one.digest, rows: 240, files: 2, formats: ['parquet'] });
    expect((await recordHash(repo, 'changed.csv')).digest).not.toBe(one.digest);

    // Order: the reversed file has the same multiset, not the same sequence; partitions in path order do.
    expect((await recordHash(repo, 'reordered.csv')).digest).toBe(one.digest);
    const ordered = await recordHash(repo, 'one.csv', '--ordered');
    expect(ordered.ordered).toBe(true);
    expect(ordered.digest).not.toBe(one.digest);
    expect((await recordHash(repo, 'reordered.csv', '--ordered')).digest).not.toBe(ordered.digest);
    expect((await recordHash(repo, 'parts', '--ordered')).digest).toBe(ordered.digest);

    // The text output: the digest and the path, like sha256sum, then what was hashed. Non-tabular files
    // are left out with a warning; a path with none is an input error.
    writeTree(repo, { 'parts/README.txt': 'about\n' });
    const withReadme = await dvs(repo, ['hash', '--records', 'parts']);
    expect(withReadme.stdout).toBe(`${one.digest}  parts\n240 records in 4 files (csv), in any order; dvs-records/1 multiset\n`);
    expect(withReadme.stderr).toContain('dvs: warning: 1 file(s) that are not tabular data left out of the record hash (first: parts/README.txt)');
    const none = await dvs(repo, ['hash', '--records', 'notes.txt']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('dvs: error: notes.txt: no CSV, TSV, JSON Lines or Parquet file');
    const noFlag = await dvs(repo, ['hash', 'one.csv']);
    expect(noFlag.code).toBe(2);
    writeTree(repo, { 'broken.csv': 'a,b\n"unterminated,1\n' });
    const broken = await dvs(repo, ['hash', '--records', 'broken.csv']);
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/^dvs: error: broken\.csv: cannot read its records \(unterminated quoted field/);
  }, 120_000);

  it('hashes tracked data at a revision from the cache, and answers from the per-object cache the second time', async () => {
    const repo = gitRepo();
    mkdirSync(join(repo, 'data'));
    writeTree(repo, { 'data/a.csv': csv(ROWS.slice(0, 100)), 'data/b.csv': csv(ROWS.slice(100)) });
    await dvs(repo, ['track', 'data']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    rmSync(join(repo, 'data'), { recursive: true }); // read from the cache, not the workspace
    const first = await recordHash(repo, 'data', '--rev', 'HEAD');
    expect(first).toMatchObject({ path: 'data', rev: head, rows: 240, files: 2, cached: 0 });
    const again = await recordHash(repo, 'data', '--rev', 'HEAD');
    expect(again).toMatchObject({ digest: first.digest, cached: 2 });
    const orderedFirst = await recordHash(repo, 'data', '--rev', 'HEAD', '--ordered');
    expect(orderedFirst.cached).toBe(0);
    expect(await recordHash(repo, 'data', '--rev', 'HEAD', '--ordered')).toMatchObject({ digest: orderedFirst.digest, cached: 1 });
    // A file inside the tracked directory at that revision.
    expect((await recordHash(repo, 'data/a.csv', '--rev', 'HEAD')).rows).toBe(100);
  }, 120_000);
});
