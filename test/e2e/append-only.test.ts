// Append-only datasets (issue 15): the pointer key, refusals, checkpoints, merges of appends from two
// branches, and partition locks on a local remote and on the project's GCS server.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';
import { startGcsServer, makeGcsClient } from '../servers/gcs.mjs';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { makeBlobServiceClient, startAzurite } from '../servers/azurite.mjs';

afterAll(cleanupTempDirs);
// Dozens of CLI runs per test: room for a slow, busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 60_000 });

const BOB = { GIT_AUTHOR_NAME: 'Bob', GIT_AUTHOR_EMAIL: 'bob@example.com' };

async function ok(repo: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(repo, args, { env });
  expect(r.code, `dvs ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

async function stream(install = false) {
  const repo = gitRepo();
  if (install) await ok(repo, ['install']);
  writeTree(repo, { 'stream/2024-08/a.jsonl': '{"a":1}\n' });
  const t = json(await ok(repo, ['track', '--append-only', 'stream', '--json']));
  expect(t.items[0].appendOnly).toBe(true);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'stream');
  return repo;
}

describe('append-only directories', () => {
  it('takes new files, hashing only them, and refuses a changed or removed file with nothing written', async () => {
    const repo = await stream();
    expect(read(repo, 'stream.dvs')).toMatch(/\nfiles: 1\nappend_only: true\n/);
    writeTree(repo, { 'stream/2024-08/b.jsonl': '{"b":2}\n', 'stream/2024-09/c.jsonl': '{"c":3}\n' });
    const t = json(await ok(repo, ['track', 'stream', '--json']));
    expect(t.items[0]).toMatchObject({ changed: true, appendOnly: true, appended: 2, hashedFiles: 2, files: 3 });
    git(repo, 'commit', '-q', '-m', 'append');
    const pointer = read(repo, 'stream.dvs');

    // Same size, other bytes: found by the hash, still refused.
    writeFileSync(join(repo, 'stream/2024-08/a.jsonl'), '{"a":9}\n');
    writeTree(repo, { 'stream/2024-10/d.jsonl': 'new\n' });
    const changed = await dvs(repo, ['track', 'stream']);
    expect(changed.code).toBe(5);
    expect(changed.stderr).toContain('dvs: error: stream: append-only, but files it recorded were changed or removed: 2024-08/a.jsonl (modified); nothing was written');
    expect(read(repo, 'stream.dvs')).toBe(pointer);
    expect(git(repo, 'status', '--porcelain')).toBe('');

    writeFileSync(join(repo, 'stream/2024-08/a.jsonl'), '{"a":1}\n');
    rmSync(join(repo, 'stream/2024-08/b.jsonl'));
    const gone = json(await dvs(repo, ['track', 'stream', '--json']));
    expect(gone.error.code).toBe('APPEND_ONLY_VIOLATION');
    expect(gone.error.data.problems).toEqual([{ path: '2024-08/b.jsonl', reason: 'gone' }]);
    expect(read(repo, 'stream.dvs')).toBe(pointer);

    // Inside the directory too: a recorded file changed is refused, a new one is taken.
    writeFileSync(join(repo, 'stream/2024-08/b.jsonl'), 'other\n');
    expect((await dvs(repo, ['track', 'stream/2024-08/b.jsonl'])).code).toBe(5);
    // dvs remove of a recorded file inside it is refused the same way.
    const removed = await dvs(repo, ['remove', 'stream/2024-08/a.jsonl']);
    expect(removed.code).toBe(5);
    expect(removed.stderr).toContain('2024-08/a.jsonl (deleted); nothing was written');
    expect(read(repo, 'stream.dvs')).toBe(pointer);
    // Only a directory as a whole can be declared.
    const file = await dvs(repo, ['track', '--append-only', 'stream/2024-10/d.jsonl']);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('--append-only applies to a tracked directory as a whole');
  });

  it('checkpoints name the files added since the last one; --list shows them', async () => {
    const repo = await stream();
    const one = json(await ok(repo, ['checkpoint', 'stream', '-m', 'August', '--json']));
    expect(one.checkpoint).toMatchObject({ path: 'stream', message: 'August', files: 1, added: 1, names: ['2024-08/a.jsonl'] });
    expect(one.staged.some((f: string) => f.startsWith('.dvs/audit/'))).toBe(true);
    writeTree(repo, { 'stream/2024-09/x.jsonl': 'x\n', 'stream/2024-09/y.jsonl': 'y\n' });
    const two = json(await ok(repo, ['checkpoint', 'stream', '-m', 'September', '--json']));
    expect(two.checkpoint).toMatchObject({ files: 3, added: 2, names: ['2024-09/x.jsonl', '2024-09/y.jsonl'] });
    expect(two.hashedFiles).toBe(2);
    // The pointer and the event are staged: a commit records the checkpoint.
    expect(git(repo, 'diff', '--cached', '--name-only')).toMatch(/\.dvs\/audit\/.*\.json\n(.|\n)*stream\.dvs/);
    const list = await ok(repo, ['checkpoint', '--list', 'stream']);
    expect(list.stdout).toMatch(/stream {2}1 file \(1 file added\) {2}[0-9a-f]{10} {2}Test User <test@example.com> {2}August\n.*stream {2}3 files \(2 files added\) .* {2}September\n$/);
    const noMessage = await dvs(repo, ['checkpoint', 'stream']);
    expect(noMessage.code).toBe(2);
    writeTree(repo, { 'plain/a': 'a' });
    await ok(repo, ['track', 'plain']);
    const plain = await dvs(repo, ['checkpoint', 'plain', '-m', 'x']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('not an append-only directory');
  });

  it('three checkpoints from two branches merge cleanly; changing one partition on both sides conflicts, naming it', async () => {
    const repo = await stream(true);
    await ok(repo, ['checkpoint', 'stream', '-m', 'one']);
    git(repo, 'commit', '-q', '-m', 'checkpoint one');
    git(repo, 'checkout', '-q', '-b', 'alice');
    writeTree(repo, { 'stream/2024-09/alice.jsonl': 'alice\n' });
    await ok(repo, ['checkpoint', 'stream', '-m', 'two (alice)']);
    git(repo, 'commit', '-q', '-m', 'checkpoint two');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'stream/2024-10/bob.jsonl': 'bob\n', 'stream/2024-09/bob.jsonl': 'bob\n' });
    await ok(repo, ['checkpoint', 'stream', '-m', 'three (main)']);
    git(repo, 'commit', '-q', '-m', 'checkpoint three');
    git(repo, 'merge', '-q', '--no-edit', 'alice');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    const pointer = read(repo, 'stream.dvs');
    expect(pointer).toContain('files: 4\nappend_only: true\n');
    expect(read(repo, 'stream/2024-09/alice.jsonl')).toBe('alice\n');
    const list = json(await ok(repo, ['checkpoint', '--list', '--json']));
    expect(list.checkpoints.map((c: any) => c.message).sort()).toEqual(['one', 'three (main)', 'two (alice)']);
    // The next checkpoint names what neither earlier checkpoint had.
    writeTree(repo, { 'stream/2024-11/z.jsonl': 'z\n' });
    const four = json(await ok(repo, ['checkpoint', 'stream', '-m', 'four', '--json']));
    expect(four.checkpoint.names).toEqual(['2024-11/z.jsonl']);
    git(repo, 'commit', '-q', '-m', 'checkpoint four');

    // Both sides write the same new name with different bytes in 2024-12: a conflict of that partition.
    git(repo, 'checkout', '-q', '-b', 'carol');
    writeTree(repo, { 'stream/2024-12/part.jsonl': 'carol\n' });
    await ok(repo, ['track', 'stream']);
    git(repo, 'commit', '-q', '-m', 'carol');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'stream/2024-12/part.jsonl': 'dave\n', 'stream/2025-01/ok.jsonl': 'ok\n' });
    await ok(repo, ['track', 'stream']);
    git(repo, 'commit', '-q', '-m', 'dave');
    const m = spawnSync('git', ['merge', '--no-edit', 'carol'], { cwd: repo, encoding: 'utf8' });
    expect(m.status).not.toBe(0);
    expect(m.stdout + m.stderr).toContain('dvs: conflict in stream.dvs: append-only, and these partitions were changed (not only appended to) or got different files under one name: 2024-12');
  });
});

/** Two clones of one repository sharing a remote; Bob's commands run as another Git identity. */
async function clones(remoteUrl: string, options: string[][] = [], local: string[][] = []) {
  const a = await stream();
  await ok(a, ['remote', 'add', '--default', 'store', remoteUrl]);
  for (const o of options) await ok(a, ['remote', 'modify', 'store', ...o]);
  for (const o of local) await ok(a, ['remote', 'modify', '--local', 'store', ...o]);
  git(a, 'add', '-A');
  git(a, 'commit', '-q', '-m', 'remote');
  await ok(a, ['push']);
  const b = join(tempDir(), 'b');
  git(tempDir(), 'clone', '-q', a, b);
  if (!remoteUrl.includes('://')) await ok(b, ['config', '--local', 'remote.store.url', remoteUrl]);
  for (const o of local) await ok(b, ['remote', 'modify', '--local', 'store', ...o]);
  await ok(b, ['pull']);
  return { a, b };
}

async function lockStory(a: string, b: string, full: boolean) {
  // Two clones race for one partition: exactly one wins.
  const race = await Promise.all([dvs(a, ['lock', 'stream/2024-08', '--json']), dvs(b, ['lock', 'stream/2024-08', '--json'], { env: BOB })]);
  expect(race.map((r) => r.code).sort()).toEqual([0, 5]);
  const loser = race.find((r) => r.code === 5)!;
  expect(json(loser).error.code).toBe('LOCK_HELD');
  // Make Alice (clone A) the holder whichever won.
  if (race[1].code === 0) {
    await ok(b, ['unlock', 'stream/2024-08'], BOB);
    await ok(a, ['lock', 'stream/2024-08']);
  }
  const locks = json(await ok(b, ['locks', '--json'], BOB));
  expect(locks.locks).toMatchObject([{ path: 'stream/2024-08', dataset: 'stream', owner: 'Test User <test@example.com>', mine: false, files: 1 }]);

  // Bob's track of an append to the locked partition is refused, nothing written.
  writeTree(b, { 'stream/2024-08/bob.jsonl': 'bob\n' });
  const pointer = read(b, 'stream.dvs');
  const t = await dvs(b, ['track', 'stream'], { env: BOB });
  expect(t.code).toBe(5);
  expect(t.stderr).toContain('dvs: error: stream/2024-08/bob.jsonl: not tracked: stream/2024-08 is locked by Test User <test@example.com>');
  expect(read(b, 'stream.dvs')).toBe(pointer);
  rmSync(join(b, 'stream/2024-08/bob.jsonl'));
  if (!full) {
    const forced = json(await ok(b, ['unlock', '--force', 'stream/2024-08', '--json'], BOB));
    expect(forced).toMatchObject({ forced: true, lock: { path: 'stream/2024-08' } });
    return;
  }
  // Another partition is free.
  writeTree(b, { 'stream/2024-09/bob.jsonl': 'bob\n' });
  await ok(b, ['track', 'stream'], BOB);

  // A change Bob committed before the lock cannot be pushed while Alice holds it.
  await ok(a, ['unlock', 'stream/2024-08']);
  writeTree(b, { 'stream/2024-08/early.jsonl': 'early\n' });
  await ok(b, ['track', 'stream'], BOB);
  writeTree(a, { 'stream/2024-08/alice.jsonl': 'alice\n' });
  await ok(a, ['track', 'stream']);
  await ok(a, ['lock', 'stream/2024-08']);
  const p = await dvs(b, ['push'], { env: BOB });
  expect(p.code).toBe(5);
  expect(p.stderr).toContain('Not pushed: this version of stream changes stream/2024-08');
  // An older version (only files the lock lists) may go: the pre-push hook sends history.
  git(b, 'checkout', 'HEAD', '--', 'stream.dvs');
  await ok(b, ['push'], BOB);
  // Alice's own push goes through.
  await ok(a, ['push']);

  // Bob cannot release Alice's lock without --force.
  const u = await dvs(b, ['unlock', 'stream/2024-08'], { env: BOB });
  expect(u.code).toBe(5);
  expect(u.stderr).toContain('is locked by Test User <test@example.com>, not by you (Bob <bob@example.com>)');
  const forced = json(await ok(b, ['unlock', '--force', 'stream/2024-08', '--json'], BOB));
  expect(forced.forced).toBe(true);
  expect(json(await ok(a, ['locks', '--json'])).locks).toEqual([]);
  await ok(b, ['push'], BOB);
  const none = await dvs(a, ['unlock', 'stream/2024-08']);
  expect(none.code).toBe(4);
}

describe('partition locks', () => {
  it('on a local remote (link-based create-only): a race has one winner; track, push and unlock honour the lock', async () => {
    const store = tempDir();
    const { a, b } = await clones(store);
    await lockStory(a, b, true);
    expect(existsSync(join(store, 'dvs-locks'))).toBe(true);
    expect(readdirSync(join(store, 'tmp')).length).toBe(0);
  });

  describe('on the GCS test server (ifGenerationMatch=0)', () => {
    let server: any;
    beforeAll(async () => {
      server = await startGcsServer({ dir: tempDir() });
      const client = await makeGcsClient(server);
      await client.createBucket('locks');
    });
    afterAll(async () => server?.stop());

    it('a race has one winner; track, push and unlock honour the lock', async () => {
      const { a, b } = await clones('gs://locks/team', [['endpoint', server.url]]);
      await lockStory(a, b, false);
    });
  });

  describe('on Azurite (Put Blob with If-None-Match: *)', () => {
    let server: any;
    beforeAll(async () => {
      server = await startAzurite();
      await (await makeBlobServiceClient(server)).getContainerClient('locks').create();
    }, 120_000);
    afterAll(async () => server?.stop());

    it('a race has one winner; track and unlock honour the lock', async () => {
      const { a, b } = await clones('azure://locks/team', [], [['connection_string', server.connectionString]]);
      await lockStory(a, b, false);
    });
  });

  // Swift's s3api (2.30) has no conditional PUT: dvs says so and writes no lock, rather than pretend.
  describe.skipIf(!swiftAvailable())('on S3 (OpenStack Swift, no If-None-Match: *)', () => {
    let swift: any;
    let client: any;
    beforeAll(async () => {
      swift = await startSwift();
      client = await makeS3Client(swift);
      const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
      await client.send(new CreateBucketCommand({ Bucket: 'locks' }));
    }, 120_000);
    afterAll(async () => swift?.stop());

    it('refuses to lock (exit 7), leaves no record, and tracking still works', async () => {
      const repo = await stream();
      await ok(repo, ['remote', 'add', '--default', 'store', 's3://locks/team']);
      await ok(repo, ['remote', 'modify', 'store', 'endpoint', swift.endpoint]);
      await ok(repo, ['remote', 'modify', '--local', 'store', 'access_key_id', 'test:tester']);
      await ok(repo, ['remote', 'modify', '--local', 'store', 'secret_access_key', 'testing']);
      const r = await dvs(repo, ['lock', 'stream/2024-08', '--json']);
      expect(r.code).toBe(7);
      expect(json(r).error).toMatchObject({ code: 'LOCKS_UNSUPPORTED' });
      expect(json(r).error.message).toContain('does not support create-only writes (PUT with If-None-Match: *; the server answered 501)');
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'locks', Prefix: 'team/dvs-locks/' }));
      expect(listed.Contents ?? []).toEqual([]);
      expect(json(await ok(repo, ['locks', '--json'])).locks).toEqual([]);
      writeTree(repo, { 'stream/2024-09/b.jsonl': 'b\n' });
      await ok(repo, ['track', 'stream']);
      await ok(repo, ['push']);
    });
  });
});
