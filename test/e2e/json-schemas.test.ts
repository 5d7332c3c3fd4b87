// Every verb's --json output, from real runs in real repositories, against its JSON Schema in
// docs/schemas/ (generated from the result types by `npm run schemas`). The schemas close their objects,
// so a renamed or added field fails here before an integrator's parser meets it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, PROJECT, tempDir, writeTree } from '../helpers.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();
function validator(verb: string): ValidateFunction {
  let v = validators.get(verb);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(PROJECT, 'docs', 'schemas', `${verb}.json`), 'utf8')));
    validators.set(verb, v);
  }
  return v;
}

/** Which outputs were checked against which schema, so the last test can say none was left out. */
const checked = new Map<string, number>();

/** Run `dvs <args> --json`, and validate what it prints against the schema of `verb` (error.json when it fails). */
async function valid(cwd: string, verb: string, args: string[], expectFailure = false): Promise<any> {
  // After `--` the words are a command's (transform): --json goes before them.
  const end = args.indexOf('--');
  const r = await dvs(cwd, end < 0 ? [...args, '--json'] : [...args.slice(0, end), '--json', ...args.slice(end)]);
  let out: unknown;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    throw new Error(`dvs ${args.join(' ')} --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  const schema = r.code !== 0 && (out as { error?: unknown }).error ? 'error' : verb;
  if (expectFailure) expect(schema, `dvs ${args.join(' ')} should fail`).toBe('error');
  else expect(schema, `dvs ${args.join(' ')} failed: ${r.stdout}`).toBe(verb);
  const validate = validator(schema);
  const ok = validate(out);
  expect(ok ? [] : validate.errors, `dvs ${args.join(' ')} --json against docs/schemas/${schema}.json`).toEqual([]);
  checked.set(schema, (checked.get(schema) ?? 0) + 1);
  return out;
}

afterAll(() => cleanupTempDirs());

describe('--json outputs match docs/schemas/', () => {
  let repo: string;
  let store: string;

  beforeAll(() => {
    repo = gitRepo({}, { init: false });
    store = join(tempDir('dvs-store-'), 'store');
  });

  it('init, track, status, remote, config, push', async () => {
    await valid(repo, 'init', ['init']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'dvs init');
    writeTree(repo, {
      'data/raw.csv': 'id,x,quality\n1,a,0.9\n2,b,0.2\n3,c,0.7\n',
      'data/images/a.txt': 'a\n',
      'data/images/sub/b.txt': 'b\n',
    });
    await valid(repo, 'track', ['track', 'data/raw.csv', 'data/images']);
    await valid(repo, 'status', ['status']);
    writeTree(repo, { 'data/images/c.txt': 'c\n' });
    await valid(repo, 'status', ['status', '--granular']);
    await valid(repo, 'remote', ['remote', 'add', '--default', 'store', store]);
    await valid(repo, 'remote', ['remote', 'list']);
    await valid(repo, 'config', ['config', 'core.remote']);
    await valid(repo, 'config', ['config']);
    await valid(repo, 'push', ['push']);
    await valid(repo, 'status', ['status', '--remote']);
    await valid(repo, 'track', ['track', 'data/images']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data v1');
  }, 180_000);

  it('diff (with and without contents), checkout, fetch, pull, verify', async () => {
    writeTree(repo, { 'data/raw.csv': 'id,x,quality\n1,a,0.9\n2,B,0.2\n4,d,0.8\n' });
    await valid(repo, 'track', ['track', 'data/raw.csv']);
    git(repo, 'commit', '-q', '-a', '-m', 'data v2');
    await valid(repo, 'diff', ['diff', 'HEAD~1', 'HEAD']);
    await valid(repo, 'diff', ['diff', 'HEAD~1', 'HEAD', '--content']);
    await valid(repo, 'hash', ['hash', '--records', 'data/raw.csv']);
    await valid(repo, 'hash', ['hash', '--records', '--ordered', '--rev', 'HEAD~1', 'data/raw.csv']);
    // A directory of tables: a partitioned one gets its totals, a file that is not tabular is listed apart.
    writeTree(repo, { 'data/parts/part-0.csv': 'a,b\n1,x\n', 'data/parts/part-1.csv': 'a,b\n2,y\n' });
    await valid(repo, 'track', ['track', 'data/parts']);
    git(repo, 'commit', '-q', '-m', 'parts v1');
    writeTree(repo, { 'data/parts/part-2.csv': 'a,b\n3,z\n', 'data/parts/notes.txt': 'n\n' });
    await valid(repo, 'track', ['track', 'data/parts']);
    git(repo, 'commit', '-q', '-m', 'parts v2');
    const parts = await valid(repo, 'diff', ['diff', 'HEAD~1', 'HEAD', '--content']);
    expect((parts as any).changes[0].tables[0].content.dataset.rows).toEqual({ before: 2, after: 3, delta: 1 });
    await valid(repo, 'push', ['push']);
    writeTree(repo, { 'data/images/a.txt': 'changed\n' });
    await valid(repo, 'checkout', ['checkout', '--dry-run']);
    await valid(repo, 'checkout', ['checkout', '--force']);
    await valid(repo, 'fetch', ['fetch', '--rev', 'HEAD~1']);
    await valid(repo, 'pull', ['pull']);
    await valid(repo, 'verify', ['verify']);
    await valid(repo, 'verify', ['verify', '--remote']);
    await valid(repo, 'cache', ['cache', 'dir']);
  }, 180_000);

  it('transform, lineage, run, audit', async () => {
    await valid(repo, 'transform', ['transform', '--name', 'filter', '-i', 'data/raw.csv', '-o', 'data/clean.csv', '-p', 'min=0.5', '--', 'sh', '-c', 'head -n 3 data/raw.csv > data/clean.csv']);
    await valid(repo, 'lineage', ['lineage', 'show', 'data/clean.csv']);
    await valid(repo, 'lineage', ['lineage', 'trace', 'data/clean.csv', '--row', '1']);
    await valid(repo, 'lineage', ['lineage', 'trace', '--source', 'data/raw.csv', '--row', '1']);
    writeTree(repo, { 'data/made-elsewhere.csv': 'id\n1\n' });
    await valid(repo, 'lineage', ['lineage', 'record', '--name', 'spark', '--input', 'data/raw.csv', '--output', 'data/made-elsewhere.csv', '--command', 'spark-submit job.py']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'derived data');
    await valid(repo, 'repro', ['repro', '--dry-run', 'data/clean.csv']);
    await valid(repo, 'repro', ['repro', 'data/clean.csv']);
    await valid(repo, 'repro', ['repro', '--check', 'data/clean.csv']);
    await valid(repo, 'run', ['run', 'start', 'run-1', '--model', 'm', '-d', 'data/clean.csv', '-p', 'lr=0.1']);
    await valid(repo, 'run', ['run', 'finish', 'run-1', '-m', 'acc=0.5']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'run-1');
    await valid(repo, 'run', ['run', 'start', 'run-2', '--model', 'm', '-d', 'data/raw.csv', '-p', 'lr=0.2']);
    await valid(repo, 'run', ['run', 'finish', 'run-2', '-m', 'acc=0.7']);
    await valid(repo, 'run', ['run', 'list']);
    await valid(repo, 'run', ['run', 'show', 'run-1']);
    await valid(repo, 'run', ['run', 'compare', 'run-1', 'run-2']);
    await valid(repo, 'audit', ['audit', 'log']);
    await valid(repo, 'audit', ['audit', 'report', 'data/clean.csv']);
    await valid(repo, 'audit', ['audit', 'verify']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'run-2');
  }, 180_000);

  it('list, get, import, update (another repository)', async () => {
    const here = gitRepo();
    const out = join(tempDir(), 'raw.csv');
    await valid(here, 'list', ['list', repo]);
    await valid(here, 'list', ['list', repo, 'data/images', '--recursive']);
    await valid(here, 'get', ['get', repo, 'data/raw.csv', '-o', out]);
    await valid(here, 'import', ['import', repo, 'data/raw.csv', '-o', 'raw.csv']);
    await valid(here, 'update', ['update', 'raw.csv']);
  }, 180_000);

  it('move, unprotect, remove, gc, install, uninstall', async () => {
    await valid(repo, 'move', ['move', 'data/made-elsewhere.csv', 'data/elsewhere.csv']);
    await valid(repo, 'unprotect', ['unprotect', 'data/raw.csv']);
    await valid(repo, 'remove', ['remove', 'data/images/sub/b.txt']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'edits');
    await valid(repo, 'gc', ['gc', '--dry-run']);
    await valid(repo, 'gc', ['gc', '--force']);
    await valid(repo, 'gc', ['gc', '--remote', 'store', '--dry-run']);
    await valid(repo, 'install', ['install']);
    await valid(repo, 'uninstall', ['uninstall']);
  }, 180_000);

  it('track --append-only, checkpoint, lock, locks, unlock', async () => {
    writeTree(repo, { 'stream/2024-08/a.jsonl': 'a\n' });
    await valid(repo, 'track', ['track', '--append-only', 'stream']);
    writeTree(repo, { 'stream/2024-09/b.jsonl': 'b\n' });
    await valid(repo, 'checkpoint', ['checkpoint', 'stream', '-m', 'September']);
    await valid(repo, 'checkpoint', ['checkpoint', '--list']);
    await valid(repo, 'lock', ['lock', 'stream/2024-09']);
    await valid(repo, 'locks', ['locks']);
    await valid(repo, 'unlock', ['unlock', 'stream/2024-09']);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'stream');
  }, 180_000);

  it('failures print the error shape', async () => {
    await valid(repo, 'push', ['push', '-r', 'nowhere'], true);
    await valid(repo, 'status', ['status', 'no/such/path'], true);
    await valid(tempDir(), 'status', ['status'], true);
  }, 60_000);

  it('checked every schema in docs/schemas/ against a real output', () => {
    // @ts-expect-error: a plain ES module of the project's scripts, without types
    return import('../../scripts/schemas.mjs').then(({ OUTPUT_TYPES }: { OUTPUT_TYPES: Record<string, string> }) => {
      expect(Object.keys(OUTPUT_TYPES).filter((verb) => !checked.has(verb))).toEqual([]);
    });
  });

  it('are strict enough to catch a renamed field', async () => {
    const out = await valid(repo, 'status', ['status']);
    const renamed = JSON.parse(JSON.stringify(out).replace('"entries"', '"items"'));
    expect(validator('status')(renamed)).toBe(false);
    const extra = { ...out, entries: out.entries.map((e: object) => ({ ...e, dataPath: 'x' })) };
    expect(out.entries.length).toBeGreaterThan(0);
    expect(validator('status')(extra)).toBe(false);
  });
});
