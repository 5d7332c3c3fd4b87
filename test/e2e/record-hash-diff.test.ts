// `dvs diff --content` says "same records, different files" for a re-partitioned or converted dataset,
// and `dvs run compare` tells a re-encoding from a data change, both by the record hash (docs/record-hash.md).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, writeTree } from '../helpers.js';
import { csv, parquet, recordHash, ROWS } from './record-hash-fixtures.js';

afterAll(cleanupTempDirs);

describe('dvs diff --content and dvs run compare use the record hash', () => {
  it('diff: a re-partitioned directory and a CSV converted to Parquet are "same records, different files"; a real change is diffed', async () => {
    const repo = gitRepo();
    mkdirSync(join(repo, 'data'));
    writeTree(repo, { 'data/all.csv': csv(ROWS), 'table.csv': csv(ROWS) });
    await dvs(repo, ['track', 'data', 'table.csv']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'one file');

    // One file → five partitions; table.csv → table.parquet under a new name.
    rmSync(join(repo, 'data/all.csv'));
    for (let p = 0; p < 5; p++) writeTree(repo, { [`data/part-${p}.csv`]: csv(ROWS.slice(p * 48, (p + 1) * 48)) });
    expect((await dvs(repo, ['remove', 'table.csv'])).code).toBe(0);
    parquet(join(repo, 'table.parquet'), ROWS);
    await dvs(repo, ['track', 'data', 'table.parquet']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 're-encoded');

    const r = await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content']);
    expect(r.code, r.stderr).toBe(0);
    const digest = (await recordHash(repo, 'data')).digest as string;
    expect(r.stdout).toContain(`    same records, different files (240 records; record hash ${digest.slice(0, 12)})\n`);
    expect(r.stdout).toContain(`    same records, different files (as table.parquet, 240 records; record hash ${digest.slice(0, 12)})\n`);
    expect(r.stdout).toContain(`    same records, different files (as table.csv, 240 records; record hash ${digest.slice(0, 12)})\n`);
    expect(r.stdout).not.toContain('rows:');
    const j = json(await dvs(repo, ['diff', 'HEAD~1', 'HEAD', '--content', '--json']));
    const byPath = Object.fromEntries(j.changes.map((c: any) => [c.path, c]));
    expect(byPath['data'].sameRecords).toEqual({ rows: 240, digest, with: null });
    expect(byPath['data'].content).toBeUndefined();
    expect(byPath['table.parquet'].sameRecords).toEqual({ rows: 240, digest, with: 'table.csv' });

    // One changed value: no "same records", the content diff shows the change.
    writeTree(repo, { 'data/part-3.csv': csv(ROWS.slice(144, 192).map((x) => (x.id === 150 ? { ...x, score: -1 } : x))) });
    const changed = await dvs(repo, ['diff', '--content', '-t', 'data']);
    expect(changed.stdout).not.toContain('same records');
    expect(changed.stdout).toContain('removed 1 rows, added 1');
  }, 240_000);

  it('run compare: re-encoded data is not a data change; a changed value is', async () => {
    const repo = gitRepo({ 'train.py': 'v1\n' });
    mkdirSync(join(repo, 'data'));
    writeTree(repo, { 'data/train.csv': csv(ROWS) });
    const run = async (id: string) => {
      await dvs(repo, ['track', 'data']);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', `data for ${id}`);
      expect((await dvs(repo, ['run', 'start', id, '--model', 'm', '-d', 'data'])).code).toBe(0);
      await dvs(repo, ['run', 'finish', id, '-m', 'acc=0.8']);
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', `run ${id}`);
    };
    await run('base');
    rmSync(join(repo, 'data/train.csv'));
    parquet(join(repo, 'data/part-0.parquet'), ROWS.slice(0, 100));
    parquet(join(repo, 'data/part-1.parquet'), ROWS.slice(100));
    await run('parquet');
    parquet(join(repo, 'data/part-1.parquet'), ROWS.slice(100).map((x) => (x.id === 200 ? { ...x, name: 'changed' } : x)));
    await run('edited');

    const same = json(await dvs(repo, ['run', 'compare', 'base', 'parquet', '--json']));
    const d = same.datasets[0];
    expect(d.change).toBe('modified');
    expect(d.records).toMatchObject({ same: true, before: { rows: 240 }, after: { rows: 240 } });
    expect(d.records.before.digest).toBe(d.records.after.digest);
    expect(d.content).toBeNull();
    const text = (await dvs(repo, ['run', 'compare', 'base', 'parquet'])).stdout;
    expect(text).toContain('      records: the same 240 records: re-encoded (re-partitioned, converted or reordered), not a data change\n');

    const edited = json(await dvs(repo, ['run', 'compare', 'parquet', 'edited', '--json'])).datasets[0];
    expect(edited.records.same).toBe(false);
    expect(edited.content.rowDiff).toMatchObject({ added: 1, removed: 1 });
    expect((await dvs(repo, ['run', 'compare', 'parquet', 'edited'])).stdout).toMatch(/ {6}records: changed \(record hash [0-9a-f]{12} → [0-9a-f]{12}\): a real data change\n/);
  }, 240_000);
});
