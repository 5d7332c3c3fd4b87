// Partition locks (issue 15) on a local remote, the project's GCS server, Azurite and Swift (S3): two
// clones racing for one lock, and track, push and unlock honouring a lock someone else holds.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, setDvsConfig, tempDir, writeTree } from '../helpers.js';
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

/**
 * Two clones of one repository sharing a remote; Bob's commands run as another Git identity. Settings
 * beyond `dvs remote add` are written to the config files as `dvs remote modify` writes them (its own
 * tests are in remotes*.test.ts): `options` committed, `local` (secrets) in each clone's config.local.
 */
async function clones(remoteUrl: string, options: Record<string, string> = {}, local: Record<string, string> = {}) {
  const a = await stream();
  await ok(a, ['remote', 'add', '--default', 'store', remoteUrl]);
  const store = (settings: Record<string, string>) => Object.fromEntries(Object.entries(settings).map(([k, v]) => [`remote.store.${k}`, v]));
  if (Object.keys(options).length) setDvsConfig(a, store(options));
  // A directory remote named by the committed config is confirmed by each clone (docs/security.md).
  const secrets = { ...(remoteUrl.includes('://') ? {} : { 'remote.store.url': remoteUrl }), ...store(local) };
  if (Object.keys(local).length) setDvsConfig(a, secrets, 'config.local');
  git(a, 'add', '-A');
  git(a, 'commit', '-q', '-m', 'remote');
  await ok(a, ['push']);
  const b = join(tempDir(), 'b');
  git(tempDir(), 'clone', '-q', a, b);
  if (Object.keys(secrets).length) setDvsConfig(b, secrets, 'config.local');
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
      const { a, b } = await clones('gs://locks/team', { endpoint: server.url });
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
      const { a, b } = await clones('azure://locks/team', {}, { connection_string: server.connectionString });
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
      setDvsConfig(repo, { 'remote.store.endpoint': swift.endpoint });
      setDvsConfig(repo, { 'remote.store.access_key_id': 'test:tester', 'remote.store.secret_access_key': 'testing' }, 'config.local');
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
