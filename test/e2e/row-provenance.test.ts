import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const NODE = process.execPath;

async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  expect(r.code, `dvs ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

const doc = (id: string, score: number, text: string) => JSON.stringify({ id, score, text, url: `https://example.com/${id}` }) + '\n';

// Two crawl dumps; the second holds a document of the first twice (the same record, fetched again), and
// a blank line shifts line numbers after it.
const SEPT = doc('s1', 0.91, 'the first page') + doc('s2', 0.42, 'a thin page') + doc('s3', 0.88, 'a shared page') + '\n' + doc('s4', 0.97, 'the last page');
const OCT = doc('s3', 0.88, 'a shared page') + doc('o2', 0.3, 'junk') + doc('o3', 0.86, 'an october page') + doc('s3', 0.88, 'a shared page');

const FILTER = `import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
const [out, min, ...inputs] = process.argv.slice(2);
mkdirSync('data', { recursive: true });
const rows = inputs.flatMap((f) => readFileSync(f, 'utf8').split('\\n').filter(Boolean)).filter((line) => JSON.parse(line).score >= Number(min));
writeFileSync(out, rows.map((l) => l + '\\n').join(''));
`;
const DEDUP = `import { readFileSync, writeFileSync } from 'node:fs';
const [input, out, key] = process.argv.slice(2);
const seen = new Set();
const kept = readFileSync(input, 'utf8').split('\\n').filter(Boolean).filter((line) => { const k = JSON.parse(line)[key]; return !seen.has(k) && seen.add(k); });
writeFileSync(out, kept.map((l) => l + '\\n').join(''));
`;

/** raw dumps → quality_filter (min_score 0.8) → dedup (key text), committed, with a directory remote. */
async function pipeline(): Promise<{ repo: string; store: string }> {
  const repo = gitRepo();
  writeTree(repo, { 'raw/cc-2024-09.jsonl': SEPT, 'raw/cc-2024-10.jsonl': OCT, 'scripts/filter.mjs': FILTER, 'scripts/dedup.mjs': DEDUP });
  await ok(repo, ['track', 'raw/cc-2024-09.jsonl', 'raw/cc-2024-10.jsonl']);
  git(repo, 'add', 'scripts');
  git(repo, 'commit', '-q', '-m', 'raw dumps');
  await ok(repo, ['transform', '--name', 'quality_filter', '-i', 'raw/cc-2024-09.jsonl', '-i', 'raw/cc-2024-10.jsonl', '-o', 'data/filtered.jsonl', '-p', 'min_score=0.8', '--', NODE, 'scripts/filter.mjs', 'data/filtered.jsonl', '0.8', 'raw/cc-2024-09.jsonl', 'raw/cc-2024-10.jsonl']);
  await ok(repo, ['transform', '--name', 'dedup', '-i', 'data/filtered.jsonl', '-o', 'data/clean.jsonl', '-p', 'key=text', '--', NODE, 'scripts/dedup.mjs', 'data/filtered.jsonl', 'data/clean.jsonl', 'text']);
  const store = join(tempDir(), 'store');
  await ok(repo, ['remote', 'add', '--default', 'storage', store]);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'pipeline');
  return { repo, store };
}

const objects = (store: string) => (existsSync(store) ? readdirSync(store).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(store, d)).map((f) => d + f)) : []);

describe('row provenance through the lineage graph', () => {
  it('traces a final row to its source line, a dropped row to the step that dropped it, and works from a fresh clone', async () => {
    const { repo, store } = await pipeline();
    // data/clean.jsonl: s1, s3 (kept from three copies of "a shared page"), s4, o3
    expect(read(repo, 'data/clean.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l).id)).toEqual(['s1', 's3', 's4', 'o3']);
    const pointer = read(repo, 'data/clean.jsonl.dvs');
    expect(pointer).toMatch(/rows: 4\n {6}row_index: sha256:[0-9a-f]{64}\n/);
    const indexOid = /row_index: sha256:([0-9a-f]{64})/.exec(pointer)![1];

    // Read-only traces run side by side.
    const [back, sharedRun, thin, copyRun, keptRun, mermaid, past, noRow, nobody] = await Promise.all([
      ok(repo, ['lineage', 'trace', 'data/clean.jsonl', '--row', '3']),
      ok(repo, ['lineage', 'trace', 'data/clean.jsonl', '--key', 'id=s3', '--json']),
      ok(repo, ['lineage', 'trace', '--source', 'raw/cc-2024-09.jsonl', '--row', '2']),
      ok(repo, ['lineage', 'trace', '--source', 'raw/cc-2024-10.jsonl', '--row', '4', '--json']),
      ok(repo, ['lineage', 'trace', '--source', 'raw/cc-2024-10.jsonl', '--row', '3', '--json']),
      ok(repo, ['lineage', 'trace', 'data/clean.jsonl', '--row', '3', '--mermaid']),
      dvs(repo, ['lineage', 'trace', 'data/clean.jsonl', '--row', '9']),
      dvs(repo, ['lineage', 'trace', 'data/clean.jsonl']),
      dvs(repo, ['lineage', 'trace', 'data/clean.jsonl', '--key', 'id=nobody']),
    ]);
    // Back: the last clean row came from the September dump's line 5 (after the blank line).
    expect(back.stdout).toBe(
      'data/clean.jsonl row 3, from:\n' +
        '  raw/cc-2024-09.jsonl row 4 (line 5)  (raw source)\n' +
        "    kept by quality_filter (min_score=0.8; this row's score 0.97) → data/filtered.jsonl line 3\n" +
        '    kept by dedup (key=text; this row\'s text "the last page") → data/clean.jsonl line 3\n',
    );
    // The shared page: the first of three copies was kept by dedup.
    const shared = json(sharedRun);
    expect(shared.row).toBe(2);
    expect(shared.branches[0].end).toMatchObject({ status: 'source', at: { path: 'raw/cc-2024-09.jsonl', row: 3, line: 3 } });
    expect(shared.branches[0].hops.map((h: any) => [h.transform, h.copy, h.copies])).toEqual([['quality_filter', 1, 1], ['dedup', 1, 3]]);
    expect(shared.branches[0].hops[0].values).toEqual([{ param: 'min_score', field: 'score', value: 0.88 }]);

    // Forward: a low-score row was dropped by the filter, with its parameter and this row's value.
    expect(thin.stdout).toBe("raw/cc-2024-09.jsonl row 2:\n  dropped by quality_filter (min_score=0.8; this row's score 0.42)\n");
    // The second October copy of the shared page passed the filter and was dropped by dedup as a copy of s3.
    const copy = json(copyRun);
    expect(copy.branches).toHaveLength(1);
    expect(copy.branches[0].end).toMatchObject({ status: 'dropped', transform: 'dedup', at: { path: 'data/filtered.jsonl', row: 6 } });
    expect(copy.branches[0].hops[1]).toMatchObject({ transform: 'dedup', to: null, copy: 3, copies: 3, duplicateOf: { path: 'data/clean.jsonl', row: 2 }, params: { key: 'text' } });
    // A kept source row ends in the final dataset.
    expect(json(keptRun).branches[0].end).toMatchObject({ status: 'kept', at: { path: 'data/clean.jsonl', row: 4 } });

    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    expect(mermaid.stdout).toContain('{{"dedup<br/>key=text');

    // Bad rows and options are errors a user can fix, with exit codes.
    expect([past.code, past.stderr]).toEqual([4, expect.stringContaining('dvs: error: data/clean.jsonl: no row 9 (it has 4 rows)')]);
    expect([noRow.code, nobody.code]).toEqual([2, 4]);

    // gc keeps the index with its data; push sends it.
    await ok(repo, ['gc']);
    expect(existsSync(join(repo, '.dvs/cache', indexOid.slice(0, 2), indexOid.slice(2)))).toBe(true);
    await ok(repo, ['push']);
    expect(objects(store)).toContain(indexOid);

    // A fresh clone traces at a revision without pulling any data: only the indexes are fetched.
    const clone = tempDir();
    git(clone, 'clone', '-q', repo, '.');
    await ok(clone, ['config', '--local', 'remote.storage.url', store]);
    const far = await ok(clone, ['lineage', 'trace', 'data/clean.jsonl', '--row', '3', '--rev', 'HEAD', '--json']);
    const result = json(far);
    expect(result.fetched).toBe(2);
    expect(result.branches[0].end.at).toMatchObject({ path: 'raw/cc-2024-09.jsonl', row: 4, line: 5 });
    expect(result.warnings.map((w: any) => w.code)).toEqual(['ROW_VALUES_UNREAD']);
    const cached = readdirSync(join(clone, '.dvs/cache')).filter((d) => /^[0-9a-f]{2}$/.test(d)).flatMap((d) => readdirSync(join(clone, '.dvs/cache', d)));
    expect(cached).toHaveLength(2);
  }, 240_000);

  it('indexes CSV with quoted newlines and a declared --row-id; a transform that rewrites rows keeps them by id', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/.keep': '', 'raw/people.csv': 'id,name,note\n1,Ann,"two\nlines"\n2,Bob,short\n3,Cy,"x"\n' });
    await ok(repo, ['track', 'raw/people.csv']);
    // Upper-cases names (so row contents change) and drops Bob: rows are matched by id.
    const SCRIPT = `const fs=require('fs');const t=fs.readFileSync('raw/people.csv','utf8');fs.writeFileSync('data/upper.csv','id,name,note\\n1,ANN,"two\\nlines"\\n3,CY,x\\n');`;
    await ok(repo, ['transform', '--name', 'upper', '-i', 'raw/people.csv', '-o', 'data/upper.csv', '--row-id', 'id', '--', NODE, '-e', SCRIPT]);
    const back = json(await ok(repo, ['lineage', 'trace', 'data/upper.csv', '--key', 'id=3', '--json']));
    expect(back.row).toBe(2);
    expect(back.branches[0].end.at).toMatchObject({ path: 'raw/people.csv', row: 3, line: 5 });
    expect(back.branches[0].hops[0].to).toMatchObject({ row: 2, line: 4 });
    const bob = await ok(repo, ['lineage', 'trace', '--source', 'raw/people.csv', '--row', '2']);
    expect(bob.stdout).toBe('raw/people.csv row 2 (line 4):\n  dropped by upper\n');
    // A source traced from itself: no index placed the row; its line is read from the file (header, quoted newline).
    const itself = json(await ok(repo, ['lineage', 'trace', 'raw/people.csv', '--row', '3', '--json']));
    expect(itself.branches[0].end).toMatchObject({ status: 'source', at: { path: 'raw/people.csv', row: 3, line: 5 } });
    // dvs repro re-runs the step with the --row-id its index was recorded with (the new input is stale).
    writeTree(repo, { 'raw/people.csv': 'id,name,note\n1,Ann,"two\nlines"\n2,Bob,short\n3,Cy,"x"\n4,Di,new\n' });
    await ok(repo, ['track', 'raw/people.csv']);
    expect(json(await ok(repo, ['repro', 'data/upper.csv', '--json'])).steps.map((s: any) => s.status)).toEqual(['ran']);
    const again = json(await ok(repo, ['lineage', 'trace', 'data/upper.csv', '--key', 'id=3', '--json']));
    expect(again.branches[0].end).toMatchObject({ status: 'source', at: { path: 'raw/people.csv', row: 3 } });
    // Without --row-id the rewritten rows match nothing: the trace says so rather than guessing.
    await ok(repo, ['transform', '--name', 'upper2', '-i', 'raw/people.csv', '-o', 'data/upper2.csv', '--', NODE, '-e', SCRIPT.replace('data/upper.csv', 'data/upper2.csv')]);
    const unmatched = json(await ok(repo, ['lineage', 'trace', 'data/upper2.csv', '--row', '1', '--json']));
    expect(unmatched.branches[0].end).toMatchObject({ status: 'created', transform: 'upper2' });
  }, 180_000);

  it('indexes gzip-compressed and Parquet files: a row traces from a Parquet output back to its .gz source line', async () => {
    const repo = gitRepo();
    const row = (id: string, score: number) => JSON.stringify({ id, score }) + '\n';
    // A blank line in the compressed text: positions are lines of the decompressed text.
    writeTree(repo, { 'data/.keep': '', 'raw/dump.jsonl.gz': gzipSync(row('a', 0.9) + row('b', 0.2) + '\n' + row('c', 0.85)) });
    await ok(repo, ['track', 'raw/dump.jsonl.gz']);
    const FILTER_GZ = `const fs=require('fs'),zlib=require('zlib');const rows=zlib.gunzipSync(fs.readFileSync('raw/dump.jsonl.gz')).toString().split('\\n').filter((l)=>l&&JSON.parse(l).score>=0.8);fs.writeFileSync('data/clean.jsonl',rows.map((l)=>l+'\\n').join(''));`;
    await ok(repo, ['transform', '--name', 'quality_filter', '-i', 'raw/dump.jsonl.gz', '-o', 'data/clean.jsonl', '-p', 'min_score=0.8', '--', NODE, '-e', FILTER_GZ]);
    // A format conversion: the Parquet rows hold the same records, matched by their record digests.
    const writer = pathToFileURL(resolve('node_modules/hyparquet-writer/src/node.js')).href;
    const TO_PARQUET = `import { readFileSync } from 'node:fs'; import { parquetWriteFile } from ${JSON.stringify(writer)};
const rows = readFileSync('data/clean.jsonl', 'utf8').split('\\n').filter(Boolean).map((l) => JSON.parse(l));
parquetWriteFile({ filename: 'data/clean.parquet', columnData: [{ name: 'id', data: rows.map((r) => r.id), type: 'STRING' }, { name: 'score', data: rows.map((r) => r.score), type: 'DOUBLE' }] });`;
    await ok(repo, ['transform', '--name', 'to_parquet', '-i', 'data/clean.jsonl', '-o', 'data/clean.parquet', '--', NODE, '--input-type=module', '-e', TO_PARQUET]);
    expect(read(repo, 'data/clean.parquet.dvs')).toMatch(/row_index: sha256:/);
    const [back, byKey, dropped] = await Promise.all([
      ok(repo, ['lineage', 'trace', 'data/clean.parquet', '--row', '2']),
      ok(repo, ['lineage', 'trace', 'data/clean.parquet', '--key', 'id=c', '--json']),
      ok(repo, ['lineage', 'trace', '--source', 'raw/dump.jsonl.gz', '--row', '2']),
    ]);
    expect(back.stdout).toBe(
      'data/clean.parquet row 2, from:\n' +
        '  raw/dump.jsonl.gz row 3 (line 4)  (raw source)\n' +
        "    kept by quality_filter (min_score=0.8; this row's score 0.85) → data/clean.jsonl line 2\n" +
        '    kept by to_parquet → row 2 of data/clean.parquet\n',
    );
    expect(json(byKey)).toMatchObject({ row: 2, branches: [{ end: { status: 'source', at: { path: 'raw/dump.jsonl.gz', row: 3, line: 4 } } }] });
    expect(dropped.stdout).toBe("raw/dump.jsonl.gz row 2:\n  dropped by quality_filter (min_score=0.8; this row's score 0.2)\n");
  }, 180_000);
  it('indexes directory outputs and inputs: a split into files, a step reading the directory, partitions', async () => {
    const repo = gitRepo();
    const d = (id: string, score: number) => JSON.stringify({ id, score }) + '\n';
    writeTree(repo, {
      'data/.keep': '',
      // A blank line shifts the lines after it; the partitions have CSV headers.
      'raw/cc.jsonl': d('d1', 0.9) + d('d2', 0.3) + d('d3', 0.8) + '\n' + d('d4', 0.7) + d('d5', 0.2) + d('d6', 0.95),
      'raw/parts/part-0.csv': 'id,v\na,1\nb,2\n',
      'raw/parts/part-1.csv': 'id,v\nc,3\n',
    });
    await ok(repo, ['track', 'raw/cc.jsonl', 'raw/parts']);
    // Every third row to test, the rest to train, each row rewritten (a "split" field): rows are named by id.
    const SPLIT = `const fs=require('fs');const rows=fs.readFileSync('raw/cc.jsonl','utf8').split('\\n').filter(Boolean).map((l)=>JSON.parse(l));fs.mkdirSync('out');
const w=(s,k)=>fs.writeFileSync('out/'+s+'.jsonl',rows.filter((_,i)=>(i%3===2)===k).map((r)=>JSON.stringify({...r,split:s})+'\\n').join(''));w('train',false);w('test',true);fs.writeFileSync('out/meta.txt','not rows');`;
    await ok(repo, ['transform', '--name', 'split', '-i', 'raw/cc.jsonl', '-o', 'out', '--row-id', 'id', '--', NODE, '-e', SPLIT]);
    const pointer = read(repo, 'out.dvs');
    expect(pointer).toMatch(/\n {2}row_id: id\n {2}inputs:\n/);
    expect(pointer).toMatch(/kind: dir\n {6}size: \d+\n {6}files: 3\n {6}rows: 6\n {6}row_index: sha256:[0-9a-f]{64}\n/);
    // Reads the directory, train before test (not the directory's order), and keeps rows as they are.
    const KEEP = `const fs=require('fs');const rows=['train','test'].flatMap((s)=>fs.readFileSync('out/'+s+'.jsonl','utf8').split('\\n').filter(Boolean)).filter((l)=>JSON.parse(l).score>=0.5);fs.writeFileSync('data/final.jsonl',rows.map((l)=>l+'\\n').join(''));`;
    await ok(repo, ['transform', '--name', 'keep', '-i', 'out', '-o', 'data/final.jsonl', '-p', 'min_score=0.5', '--', NODE, '-e', KEEP]);
    expect(read(repo, 'data/final.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l).id)).toEqual(['d1', 'd4', 'd3', 'd6']);
    // Partitions concatenated by a job that ran elsewhere (it kept v >= 2).
    writeTree(repo, { 'data/all.csv': 'id,v\nb,2\nc,3\n' });
    await ok(repo, ['lineage', 'record', '--name', 'concat', '-i', 'raw/parts', '-o', 'data/all.csv', '--command', 'spark-submit concat.py']);

    const [back, testRow, forward, fromFile, byKey, whole, past, part, partDropped] = await Promise.all([
      ok(repo, ['lineage', 'trace', 'data/final.jsonl', '--row', '4']),
      ok(repo, ['lineage', 'trace', 'out/test.jsonl', '--row', '1', '--json']),
      ok(repo, ['lineage', 'trace', '--source', 'raw/cc.jsonl', '--row', '5']),
      ok(repo, ['lineage', 'trace', '--source', 'out/train.jsonl', '--row', '2', '--json']),
      ok(repo, ['lineage', 'trace', 'out', '--key', 'id=d6', '--json']),
      dvs(repo, ['lineage', 'trace', 'out', '--row', '1']),
      dvs(repo, ['lineage', 'trace', 'out/test.jsonl', '--row', '3']),
      ok(repo, ['lineage', 'trace', 'data/all.csv', '--row', '2', '--json']),
      ok(repo, ['lineage', 'trace', '--source', 'raw/parts/part-0.csv', '--row', '1']),
    ]);
    // Back through the directory: the file of the directory and the line in it, then the raw line.
    expect(back.stdout).toBe(
      'data/final.jsonl row 4, from:\n' +
        '  raw/cc.jsonl row 6 (line 7)  (raw source)\n' +
        '    kept by split → out/test.jsonl line 2\n' +
        "    kept by keep (min_score=0.5; this row's score 0.95) → data/final.jsonl line 4\n",
    );
    const t = json(testRow);
    expect(t).toMatchObject({ path: 'out', file: 'out/test.jsonl', row: 1 });
    expect(t.branches[0].end).toMatchObject({ status: 'source', at: { path: 'raw/cc.jsonl', row: 3, line: 3 } });
    expect(t.branches[0].hops[0].to).toMatchObject({ path: 'out/test.jsonl', row: 1, line: 1, dataset: { path: 'out' } });
    // Forward: which file of the directory the source row went to, and which step dropped it after.
    expect(forward.stdout).toBe("raw/cc.jsonl row 5 (line 6):\n  kept by split → out/train.jsonl line 4\n  dropped by keep (min_score=0.5; this row's score 0.2)\n");
    expect(json(fromFile).branches).toEqual([expect.objectContaining({ end: { status: 'dropped', step: expect.any(String), transform: 'keep', at: expect.objectContaining({ path: 'out/train.jsonl', row: 2, line: 2, dataset: expect.objectContaining({ path: 'out' }) }) } })]);
    // --key searches the directory (here by the --row-id index alone).
    expect(json(byKey)).toMatchObject({ file: 'out/test.jsonl', row: 2, branches: [{ end: { at: { path: 'raw/cc.jsonl', row: 6, line: 7 } } }] });
    expect([whole.code, whole.stderr]).toEqual([2, expect.stringContaining('out is a directory: name the file the row is in')]);
    expect(whole.stderr).toContain('dvs lineage trace out/test.jsonl --row 1');
    expect([past.code, past.stderr]).toEqual([4, expect.stringContaining('out/test.jsonl: no row 3 (it has 2 rows)')]);
    // A directory input: the row's partition file and its line (after the CSV header).
    expect(json(part).branches[0].end).toMatchObject({ status: 'source', at: { path: 'raw/parts/part-1.csv', row: 1, line: 2, dataset: { path: 'raw/parts' } } });
    expect(partDropped.stdout).toBe('raw/parts/part-0.csv row 1 (line 2):\n  dropped by concat\n');
  }, 180_000);
});
