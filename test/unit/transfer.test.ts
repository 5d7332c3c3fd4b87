import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/events.js';
import { RemoteError } from '../../src/remotes/errors.js';
import { LocalBackend } from '../../src/remotes/local.js';
import type { CallOptions, RemoteBackend, RemoteSpec } from '../../src/remotes/types.js';
import { objectKey, oidOfKey } from '../../src/remotes/types.js';
import { canonicalUrl, parseRemoteUrl } from '../../src/remotes/url.js';
import { KnownObjects } from '../../src/transfer/known.js';
import { findPresent, listObjects, statObjects } from '../../src/transfer/presence.js';
import { processQueue, type QueueSettings } from '../../src/transfer/queue.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

const settings = (over: Partial<QueueSettings> = {}): QueueSettings => ({ jobs: 4, retries: 3, stallMs: 0, backoffMs: 1, ...over });
const retriable = () => new RemoteError('REMOTE_SERVER_ERROR', 'HTTP 503', { reason: 'server', retriable: true });
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const items = (keys: string[], size = 10) => keys.map((key) => ({ key, size, value: key }));

describe('the transfer queue', () => {
  it('dedupes by key and never runs more than `jobs` at once', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const r = await processQueue('upload', items(['a', 'b', 'a', 'c', 'd', 'e', 'b', 'f']), async (v) => {
      seen.push(v);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((res) => setTimeout(res, 5));
      inFlight--;
    }, settings({ jobs: 2 }));
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(most).toBe(2);
    expect(r.done).toHaveLength(6);
    expect(r.failed).toHaveLength(0);
  });

  it('retries retriable failures with backoff, then succeeds', async () => {
    const attempts = new Map<string, number>();
    const r = await processQueue('download', items(['x', 'y']), async (v) => {
      const n = (attempts.get(v) ?? 0) + 1;
      attempts.set(v, n);
      if (v === 'x' && n < 3) throw retriable();
    }, settings());
    expect(attempts.get('x')).toBe(3);
    expect(attempts.get('y')).toBe(1);
    expect(r.done.map((d) => d.item.key).sort()).toEqual(['x', 'y']);
  });

  it('gives up after transfer.retries and keeps going with the rest, reporting the tally once', async () => {
    const attempts = new Map<string, number>();
    const r = await processQueue('upload', items(['bad', 'missing', 'ok1', 'ok2']), async (v) => {
      attempts.set(v, (attempts.get(v) ?? 0) + 1);
      if (v === 'bad') throw retriable();
      if (v === 'missing') throw new RemoteError('REMOTE_OBJECT_MISSING', 'not there', { reason: 'not-found' });
    }, settings({ retries: 2 }));
    expect(attempts.get('bad')).toBe(3); // first try + 2 retries
    expect(attempts.get('missing')).toBe(1); // not retriable
    expect(r.done.map((d) => d.item.key).sort()).toEqual(['ok1', 'ok2']);
    expect(r.failed.map((f) => [f.item.key, f.error.code]).sort()).toEqual([['bad', 'REMOTE_SERVER_ERROR'], ['missing', 'REMOTE_OBJECT_MISSING']]);
  });

  it('stops everything on a fatal error and throws it once', async () => {
    const started: string[] = [];
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const run = processQueue('upload', items(keys), async (v, call) => {
      started.push(v);
      if (v === 'k3') throw new RemoteError('REMOTE_AUTH', 'refused the credentials', { reason: 'auth', fatal: true });
      await new Promise<void>((res, rej) => {
        const t = setTimeout(res, 200);
        call.signal.addEventListener('abort', () => {
          clearTimeout(t);
          rej(new Error('aborted'));
        });
      });
    }, settings({ jobs: 4 }));
    await expect(run).rejects.toMatchObject({ code: 'REMOTE_AUTH' });
    expect(started.length).toBeLessThan(10);
  });

  it('retries an unreachable endpoint only briefly before failing fatally', async () => {
    let attempts = 0;
    const t0 = Date.now();
    const run = processQueue('query', items(['a']), async () => {
      attempts++;
      throw new RemoteError('REMOTE_UNREACHABLE', 'Cannot reach', { reason: 'unreachable', retriable: true, fatal: true });
    }, settings({ retries: 10 }));
    await expect(run).rejects.toMatchObject({ code: 'REMOTE_UNREACHABLE' });
    expect(attempts).toBe(3);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('abandons an attempt that stalls, and retries it', async () => {
    let attempts = 0;
    const r = await processQueue('download', items(['slow']), async (_v, call) => {
      attempts++;
      if (attempts === 1) {
        await new Promise<void>((_res, rej) => call.signal.addEventListener('abort', () => rej(new Error('aborted'))));
      }
    }, settings({ stallMs: 50 }));
    expect(attempts).toBe(2);
    expect(r.done).toHaveLength(1);
  });

  it('moves on from a request that ignores the abort signal', async () => {
    let attempts = 0;
    const t0 = Date.now();
    const r = await processQueue('query', items(['deaf']), async () => {
      attempts++;
      if (attempts === 1) await new Promise((res) => setTimeout(res, 5_000).unref());
    }, settings({ stallMs: 50 }));
    expect(r.done).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('counts bytes once even when an attempt moved some before failing', async () => {
    const events: ProgressEvent[] = [];
    let attempts = 0;
    await processQueue('upload', items(['a'], 100), async (_v, call: CallOptions) => {
      attempts++;
      call.onBytes?.(60);
      if (attempts === 1) throw retriable();
      call.onBytes?.(40);
    }, settings({ onProgress: (e) => events.push(e) }));
    const last = events[events.length - 1];
    expect(last).toMatchObject({ phase: 'upload', done: 1, total: 1, bytes: 100, totalBytes: 100 });
  });
});

describe('the record of objects known to be on a remote', () => {
  it('appends what it learns, rewrites on removal, skips torn lines', () => {
    const tmp = tempDir();
    const url = 's3://bucket/prefix';
    const a = sha('a');
    const b = sha('b');
    const k = KnownObjects.load(tmp, url);
    k.add(a);
    k.add(b);
    k.flush();
    const file = join(tmp, 'remotes', readdirName(join(tmp, 'remotes')));
    expect(readFileSync(file, 'utf8')).toContain(`# dvs: objects known to be on ${url}\n`);
    // A crash in the middle of an append leaves a short line: ignored.
    appendFileSync(file, a.slice(0, 20));
    const again = KnownObjects.load(tmp, url);
    expect(again.has(a) && again.has(b)).toBe(true);
    expect(again.size).toBe(2);
    again.delete(a);
    again.flush();
    const third = KnownObjects.load(tmp, url);
    expect(third.has(a)).toBe(false);
    expect(third.has(b)).toBe(true);
  });

  it('is dropped when the remote epoch changed (another clone deleted objects)', () => {
    const tmp = tempDir();
    const k = KnownObjects.load(tmp, 'gs://b/p');
    k.adoptEpoch('e1');
    k.add(sha('x'));
    k.flush();
    const same = KnownObjects.load(tmp, 'gs://b/p');
    expect(same.epoch).toBe('e1');
    same.adoptEpoch('e1');
    expect(same.has(sha('x'))).toBe(true);
    same.adoptEpoch('e2');
    expect(same.has(sha('x'))).toBe(false);
    same.flush();
    expect(KnownObjects.load(tmp, 'gs://b/p').epoch).toBe('e2');
    // This clone changing the epoch itself keeps what it knows.
    const mine = KnownObjects.load(tmp, 'gs://b/p');
    mine.add(sha('y'));
    mine.adoptEpoch('e3', true);
    expect(mine.has(sha('y'))).toBe(true);
  });

  it('remembers what the remote lost until a good copy is seen there, across epochs', () => {
    const tmp = tempDir();
    const [gone, bad, fine] = [sha('gone'), sha('bad'), sha('fine')];
    const k = KnownObjects.load(tmp, 'gs://b/lost');
    k.adoptEpoch('e1');
    for (const oid of [gone, bad, fine]) k.add(oid);
    k.flush();
    const later = KnownObjects.load(tmp, 'gs://b/lost');
    later.markLost(gone, 'missing');
    later.markLost(bad, 'bad');
    later.flush(); // appended: the later lines win on replay
    const back = KnownObjects.load(tmp, 'gs://b/lost');
    expect([back.has(gone), back.isLost(gone), back.isBad(gone)]).toEqual([false, true, false]);
    expect([back.has(bad), back.isBad(bad), back.has(fine)]).toEqual([false, true, true]);
    // An existence check ends "missing" but not "bad": a name there says nothing about its bytes.
    back.add(gone);
    back.add(bad);
    expect([back.has(gone), back.isLost(gone), back.has(bad), back.isBad(bad)]).toEqual([true, false, false, true]);
    // Another clone deleted objects: what was believed present is dropped (kept as "was there"), what
    // is known lost stays lost.
    back.adoptEpoch('e2');
    back.flush();
    const after = KnownObjects.load(tmp, 'gs://b/lost');
    expect([after.has(fine), after.wasKnown(fine), after.isBad(bad)]).toEqual([false, true, true]);
    after.confirm(bad); // uploaded or downloaded, verified
    after.add(fine);
    after.flush();
    const last = KnownObjects.load(tmp, 'gs://b/lost');
    expect([last.isLost(bad), last.has(bad), last.wasKnown(fine), last.has(fine), last.lostCount]).toEqual([false, true, false, true, 0]);
  });
});

function readdirName(dir: string): string {
  return readdirSync(dir)[0];
}

describe('finding what a remote has', () => {
  /** A real local backend that counts the requests made to it. */
  function countingBackend(root: string) {
    const spec: RemoteSpec = { name: 'r', url: root, location: { scheme: 'local', path: root }, options: {}, sources: {}, root, timeoutSeconds: 30 };
    const inner = new LocalBackend(spec);
    const counts = { stat: 0, list: 0 };
    const backend: RemoteBackend = Object.assign(Object.create(inner), {
      statBatchSize: 1,
      listPageSize: 1000,
      network: true,
      stat: (oids: readonly string[], call: CallOptions) => {
        counts.stat++;
        return inner.stat(oids);
      },
      list: (shard: string | undefined, call: CallOptions) => {
        counts.list++;
        return inner.list(shard);
      },
    });
    return { backend, counts };
  }

  function fill(root: string, n: number): string[] {
    const oids: string[] = [];
    for (let i = 0; i < n; i++) {
      const oid = sha(`object ${i}`);
      mkdirSync(join(root, oid.slice(0, 2)), { recursive: true });
      writeFileSync(join(root, oid.slice(0, 2), oid.slice(2)), `object ${i}`);
      oids.push(oid);
    }
    return oids;
  }

  it('asks about each object when few are asked for', async () => {
    const root = tempDir();
    const there = fill(root, 5);
    const { backend, counts } = countingBackend(root);
    const present = await statObjects({ backend, settings: settings() }, [...there, sha('absent')]);
    expect([...present.keys()].sort()).toEqual([...there].sort());
    expect(present.get(there[0])).toBe('object 0'.length);
    expect(counts.stat).toBe(6);
  });

  it('lists the shards instead when many objects are asked about on a small remote', async () => {
    const root = tempDir();
    const there = fill(root, 300);
    const absent = Array.from({ length: 700 }, (_, i) => sha(`absent ${i}`));
    const { backend, counts } = countingBackend(root);
    const present = await findPresent({ backend, settings: settings() }, [...there, ...absent]);
    expect(present.size).toBe(300);
    expect(counts.stat).toBe(0);
    expect(counts.list).toBeLessThanOrEqual(256);
  });

  it('asks about each object, however many, when the remote cannot list (a web server)', async () => {
    const root = tempDir();
    const there = fill(root, 300);
    const absent = Array.from({ length: 700 }, (_, i) => sha(`absent ${i}`));
    const { backend, counts } = countingBackend(root);
    const unlistable = Object.assign(Object.create(backend), { list: undefined }) as RemoteBackend;
    const present = await findPresent({ backend: unlistable, settings: settings() }, [...there, ...absent]);
    expect(present.size).toBe(300);
    expect(counts.stat).toBe(1000);
    expect(counts.list).toBe(0);
    await expect(listObjects({ backend: unlistable, settings: settings() })).rejects.toThrow(/cannot be listed/);
  });
});

describe('a local remote storing pack files', () => {
  const call: CallOptions = { signal: new AbortController().signal };
  const setup = () => {
    const root = tempDir('local-packs');
    const spec: RemoteSpec = { name: 'r', url: join(root, 'remote'), location: { scheme: 'local', path: join(root, 'remote') }, options: {}, sources: {}, root, timeoutSeconds: 30 };
    return { root, backend: new LocalBackend(spec) };
  };

  it('links a temporary source (a pack this push built) instead of copying it, and still refuses altered bytes', async () => {
    const { root, backend } = setup();
    const body = Buffer.from('dvs-pack 1\n\0some objects');
    const name = `${createHash('sha256').update(body).digest('hex')}.pack`;
    const tmp = join(root, 'built.pack');
    writeFileSync(tmp, body, { mode: 0o444 });
    await backend.putPackFile(name, { oid: name.slice(0, 64), path: tmp, size: body.length, temporary: true });
    const stored = join(root, 'remote', 'packs', name);
    expect(statSync(stored).ino).toBe(statSync(tmp).ino);
    expect(readFileSync(stored)).toEqual(body);

    // A temp file whose bytes do not hash to the name is refused, linked or not: nothing is stored.
    const other = join(root, 'other.pack');
    writeFileSync(other, 'dvs-pack 1\n\0altered', { mode: 0o444 });
    const wanted = sha('dvs-pack 1\n\0intended');
    await expect(backend.putPackFile(`${wanted}.pack`, { oid: wanted, path: other, size: 21, temporary: true })).rejects.toMatchObject({ code: 'SOURCE_CORRUPTED' });
    expect(readdirSync(join(root, 'remote', 'packs'))).toEqual([name]);
    expect(readdirSync(join(root, 'remote', 'tmp'))).toEqual([]);
  });

  it('copies a source that is not temporary (a cache object is never linked to a remote)', async () => {
    const { root, backend } = setup();
    const body = Buffer.from('dvs-pack 1\n\0kept');
    const name = `${createHash('sha256').update(body).digest('hex')}.pack`;
    const src = join(root, 'kept.pack');
    writeFileSync(src, body, { mode: 0o444 });
    await backend.putPackFile(name, { oid: name.slice(0, 64), path: src, size: body.length });
    const stored = join(root, 'remote', 'packs', name);
    expect(statSync(stored).ino).not.toBe(statSync(src).ino);
    expect(readFileSync(stored)).toEqual(body);
  });
});

describe('remote URLs and keys', () => {
  it('parses the schemes', () => {
    expect(parseRemoteUrl('s3://bucket/a/b/', '/repo')).toEqual({ scheme: 's3', bucket: 'bucket', prefix: 'a/b' });
    expect(parseRemoteUrl('gs://bucket', '/repo')).toEqual({ scheme: 'gcs', bucket: 'bucket', prefix: '' });
    expect(parseRemoteUrl('../store', '/repo/x')).toEqual({ scheme: 'local', path: '/repo/store' });
    expect(parseRemoteUrl('file:///srv/store', '/repo')).toEqual({ scheme: 'local', path: '/srv/store' });
    expect(() => parseRemoteUrl('webdav://x/y', '/repo')).toThrow(/unsupported remote URL scheme/);
    expect(parseRemoteUrl('azure://data-sets/team/v1', '/repo')).toEqual({ scheme: 'azure', container: 'data-sets', prefix: 'team/v1' });
    expect(() => parseRemoteUrl('s3://B_ad/x', '/repo')).toThrow(/not a valid bucket name/);
    expect(canonicalUrl({ scheme: 's3', bucket: 'b', prefix: 'p' }, 'http://127.0.0.1:9000')).toBe('s3://b/p @ http://127.0.0.1:9000');
  });

  it('parses HTTP(S) URLs: origin and path, no trailing slash; refuses credentials and queries', () => {
    expect(parseRemoteUrl('https://Data.Example.org/sets//v3/', '/repo')).toEqual({ scheme: 'http', url: 'https://data.example.org/sets/v3' });
    expect(parseRemoteUrl('HTTP://127.0.0.1:8080', '/repo')).toEqual({ scheme: 'http', url: 'http://127.0.0.1:8080' });
    expect(canonicalUrl(parseRemoteUrl('http://h:81/a/', '/repo'))).toBe('http://h:81/a');
    expect(() => parseRemoteUrl('https://me:secret@h/a', '/repo')).toThrow(/carries credentials/);
    expect(() => parseRemoteUrl('https://me:secret@h/a', '/repo')).not.toThrow(/secret/);
    expect(() => parseRemoteUrl('https://h/a?sig=1', '/repo')).toThrow(/no query/);
    // Dot segments are resolved as a browser would, before anything is requested.
    expect(parseRemoteUrl('https://h/a/%2e%2e/b', '/repo')).toEqual({ scheme: 'http', url: 'https://h/b' });
    expect(() => parseRemoteUrl('https://', '/repo')).toThrow(/invalid remote URL/);
  });

  it('maps oids to keys and back, ignoring anything else', () => {
    const oid = sha('x');
    expect(objectKey('team/data', oid)).toBe(`team/data/${oid.slice(0, 2)}/${oid.slice(2)}`);
    expect(objectKey('', oid)).toBe(`${oid.slice(0, 2)}/${oid.slice(2)}`);
    expect(oidOfKey('team/data', objectKey('team/data', oid))).toBe(oid);
    expect(oidOfKey('', objectKey('', oid))).toBe(oid);
    expect(oidOfKey('team/data', 'team/data/dvs-epoch')).toBeUndefined();
    expect(oidOfKey('team/data', objectKey('other', oid))).toBeUndefined();
  });
});
