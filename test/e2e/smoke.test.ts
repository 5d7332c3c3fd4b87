import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { cleanupTempDirs, dvs, git, gitRepo, read, tempDir, writeTree, type RunResult } from '../helpers.js';

// The smoke subset: the everyday commands, end to end, on whichever Node runs the tests. .ci/run runs
// the whole suite on one Node line and this file on the others (README: Requirements). Every command's
// stderr must be empty: no warnings from Node or from a dependency (the AWS SDK's Node 20 notice).
const SWIFT = swiftAvailable();
const BUCKET = 'dvs-smoke';
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
let swift: Awaited<ReturnType<typeof startSwift>> | undefined;

beforeAll(async () => {
  if (!SWIFT) return;
  swift = await startSwift();
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await (await makeS3Client(swift)).send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await swift?.stop();
  cleanupTempDirs();
});

/** Run dvs; it must succeed and print nothing on stderr. */
async function clean(repo: string, args: string[], env?: Record<string, string>): Promise<RunResult> {
  const r = await dvs(repo, args, { env });
  expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
  return r;
}

function csv(rows: number): string {
  return ['id,kind,score', ...Array.from({ length: rows }, (_, i) => `${i},${i % 3 ? 'b' : 'a'},${i / 4}`)].join('\n') + '\n';
}

/** Push to `remote`, drop the cache and the data, pull them back. */
async function roundTrip(repo: string, remote: string, env?: Record<string, string>): Promise<void> {
  expect((await clean(repo, ['push', '-r', remote], env)).stdout).toMatch(/Pushed \d+ objects?/);
  rmSync(join(repo, '.dvs', 'cache'), { recursive: true, force: true });
  rmSync(join(repo, 'data'), { recursive: true, force: true });
  await clean(repo, ['pull', '-r', remote], env);
  expect(read(repo, 'data/table.csv')).toBe(csv(40));
}

describe(`smoke on Node ${process.versions.node}`, () => {
  it('init, track, status, checkout, diff --content; push and pull through a local remote', async () => {
    const repo = gitRepo({}, { init: false });
    await clean(repo, ['init']);
    git(repo, 'commit', '-q', '-m', 'dvs init');
    writeTree(repo, { 'data/table.csv': csv(50), 'data/notes.txt': 'v1\n' });
    await clean(repo, ['track', 'data']);
    git(repo, 'commit', '-q', '-m', 'v1');
    expect((await clean(repo, ['status', '--json'])).stdout).toContain('"clean": true');

    writeTree(repo, { 'data/table.csv': csv(40) });
    await clean(repo, ['track', 'data']);
    git(repo, 'commit', '-q', '-m', 'v2');
    const diff = await clean(repo, ['diff', 'HEAD~1', 'HEAD', '--content']);
    expect(diff.stdout).toContain('rows: 50 → 40 (-10)');

    rmSync(join(repo, 'data', 'notes.txt'));
    await clean(repo, ['checkout']);
    expect(read(repo, 'data/notes.txt')).toBe('v1\n');

    const store = tempDir();
    await clean(repo, ['remote', 'add', 'local', store]);
    await roundTrip(repo, 'local');
    expect(existsSync(join(repo, '.dvs', 'cache'))).toBe(true);
  });

  it.skipIf(!SWIFT)('push and pull through the S3 test server, with nothing on stderr (no AWS SDK notice on Node 20)', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/table.csv': csv(40) });
    await clean(repo, ['track', 'data']);
    git(repo, 'commit', '-q', '-m', 'data');
    await clean(repo, ['remote', 'add', 's3', `s3://${BUCKET}/smoke`]);
    await clean(repo, ['remote', 'modify', 's3', 'endpoint', swift!.endpoint]);
    await roundTrip(repo, 's3', { AWS_ACCESS_KEY_ID: swift!.accessKeyId, AWS_SECRET_ACCESS_KEY: swift!.secretAccessKey });
  });

  it('dvs --version tells Node 20 users, and only them, what to do', async () => {
    const r = await dvs(tempDir(), ['--version']);
    expect(r.code).toBe(0);
    if (NODE_MAJOR < 22) {
      expect(r.stderr).toMatch(/^dvs: warning: Node 20\.\d+\.\d+ reached its end of life/);
      expect(r.stderr).toContain('hint: install Node 24 or 22');
    } else {
      expect(r.stderr).toBe('');
    }
  });
});
