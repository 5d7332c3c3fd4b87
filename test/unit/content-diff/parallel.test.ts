/**
 * The worker-thread path only runs from compiled JavaScript, so this test transpiles the content-diff
 * module (and the two files it imports) into a scratch directory here, then checks that a parallel diff
 * gives exactly the sequential result.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetWriteFile } from 'hyparquet-writer';
import { cleanupTempDirs, PROJECT, tempDir } from '../../helpers.js';
import { write } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
// Unique per run: the whole suite may run twice at once on a shared checkout.
const build = join(here, `.build-${process.pid}-${Date.now()}`);
type Api = typeof import('../../../src/diff/content/index.js');
type Parallel = typeof import('../../../src/diff/content/parallel.js');
let api: Api;
let parallel: Parallel;

beforeAll(async () => {
  const files = [join(PROJECT, 'src/errors.ts'), join(PROJECT, 'src/error-codes.ts'), join(PROJECT, 'src/events.ts')];
  const dir = join(PROJECT, 'src/diff/content');
  for (const f of readdirSync(dir)) if (f.endsWith('.ts')) files.push(join(dir, f));
  for (const f of files) {
    const out = join(build, f.slice(join(PROJECT, 'src').length).replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    const js = ts.transpileModule(readFileSync(f, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(out, js.outputText);
  }
  api = (await import(pathToFileURL(join(build, 'diff/content/index.js')).href)) as Api;
  parallel = (await import(pathToFileURL(join(build, 'diff/content/parallel.js')).href)) as Parallel;
});

afterAll(() => {
  rmSync(build, { recursive: true, force: true });
  cleanupTempDirs();
});

describe('parallel scan in a worker thread', () => {
  const dir = tempDir();
  const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';

  async function both(a: string, b: string, options: object = {}) {
    const [sa, sb] = [await api.fileSource(a), await api.fileSource(b)];
    expect(parallel.canScanInWorker([{ source: sb, format: api.detectFormat(b)! }], true)).toBe(true);
    const seq = await api.diffContent(sa, sb, { ...options, parallel: false });
    const par = await api.diffContent(sa, sb, { ...options, parallel: true });
    expect(par).toEqual(seq);
    return par;
  }

  it('gives the sequential result for CSV, multiset and by key', async () => {
    const a = write(dir, 'a.csv', 'id,g,v\n' + rows(20_000, (i) => `${i},${i % 3},${i * 2}`));
    const b = write(dir, 'b.csv', 'id,g,v\n' + rows(20_000, (i) => `${i},${i % 3},${i % 50 === 0 ? -i - 1 : i * 2}`));
    const d = await both(a, b);
    expect(d.rowDiff).toMatchObject({ added: 400, removed: 400 });
    const k = await both(a, b, { key: 'id' });
    expect(k.rowDiff).toMatchObject({ changed: 400 });
    const est = await both(a, b, { maxMemoryBytes: 200_000 });
    expect(est.estimated).toBe(true);
  });

  it('normalises numbers in the worker as on this thread (normalizeNumbers)', async () => {
    const a = write(dir, 'n1.csv', 'id,v\n' + rows(3000, (i) => `${i},${i}`));
    const b = write(dir, 'n2.csv', 'id,v\n' + rows(3000, (i) => `${i},${i}.0`));
    expect((await both(a, b)).rowDiff).toMatchObject({ added: 3000, removed: 3000 });
    expect((await both(a, b, { normalizeNumbers: true })).rowDiff).toMatchObject({ added: 0, removed: 0 });
    expect((await both(a, b, { key: 'id', normalizeNumbers: true })).rowDiff).toMatchObject({ changed: 0 });
  });

  it('gives the sequential result for JSONL and Parquet', async () => {
    const a = write(dir, 'a.jsonl', rows(5000, (i) => JSON.stringify({ id: i, m: { x: i % 7 } })));
    const b = write(dir, 'b.jsonl', rows(5000, (i) => JSON.stringify({ id: i, m: { x: i % 8 } })));
    expect((await both(a, b)).rowDiff!.added).toBeGreaterThan(0);
    const pq = (name: string, k: number) => {
      const path = join(dir, name);
      parquetWriteFile({ filename: path, columnData: [{ name: 'id', data: Array.from({ length: 3000 }, (_, i) => i * k), type: 'INT32' }] });
      return path;
    };
    expect((await both(pq('a.parquet', 1), pq('b.parquet', 2), { key: 'id' })).rowDiff!.added).toBe(1500);
  });

  it('scans in a prestarted worker as in a new one', async () => {
    const a = write(dir, 'p1.csv', 'id,v\n' + rows(5000, (i) => `${i},${i}`));
    const b = write(dir, 'p2.csv', 'id,v\n' + rows(5000, (i) => `${i},${i % 9 === 0 ? -i : i}`));
    parallel.prestartScanWorker(parallel.PARALLEL_MIN_BYTES);
    expect((await both(a, b)).rowDiff).toMatchObject({ added: 555, removed: 555 });
    parallel.prestartScanWorker(parallel.PARALLEL_MIN_BYTES);
    expect((await both(a, b, { key: 'id' })).rowDiff).toMatchObject({ changed: 555 });
  });
});
