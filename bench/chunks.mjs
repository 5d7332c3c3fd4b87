// Content-defined chunks of big files on packed remotes (docs/remote-format.md, "Chunks"; issue 14).
// 1. The average chunk size, chosen by measurement: for 64 KiB, 256 KiB and 1 MiB averages (min = avg/4,
//    max = 4 × avg), the bytes a push would send (new chunks + the new chunk list) and the list's length
//    after a 1 MiB overwrite in the middle of a 1 GiB file and after a 10 MiB append; in process, with
//    dvs's own chunker (dist/objects/chunker.js).
// 2. The real thing: `dvs push` of a 1 GiB file to a packed local remote, to S3 (OpenStack Swift) and to
//    GCS (the test server), each object store behind a counting proxy, then of the 1 MiB overwrite and of
//    the 10 MiB append: bytes sent (the local remote's growth, or the request bodies on the wire) and
//    requests; the first push beside the loose format.
// 3. A directory manifest of 1,000,000 entries (BENCH_MANIFEST_ENTRIES), generated: a one-file change,
//    then push: bytes sent; diff (bench/manifest.mjs, which runs it with 10,000,000 entries on its own).
// BENCH_QUICK=1: a 256 MiB file and 100,000 manifest entries. BENCH_CHUNKS=sweep,push,manifest picks parts.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dvs, gitRepo, PROJECT, sh } from './lib.mjs';
import { manifestRows } from './manifest.mjs';

const MiB = 1 << 20;
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function randomFile(path, bytes) {
  const fd = openSync(path, 'w');
  for (let left = bytes; left > 0; left -= 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, left)));
  closeSync(fd);
}

function patch(path, at, bytes) {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
}

function append(path, bytes) {
  const fd = openSync(path, 'a');
  writeSync(fd, bytes);
  closeSync(fd);
}

function dirBytes(dir) {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

export async function run({ work, log }) {
  const quick = process.env.BENCH_QUICK === '1';
  const parts = (process.env.BENCH_CHUNKS ?? 'sweep,push,manifest').split(',');
  const size = (quick ? 256 : 1024) * MiB;
  const rows = [];
  mkdirSync(work, { recursive: true });
  if (parts.includes('sweep')) rows.push(...(await sweep(work, size, log)));
  if (parts.includes('push')) rows.push(...(await pushes(work, size, log)));
  if (parts.includes('manifest')) rows.push(...(await manifestRows(work, Number(process.env.BENCH_MANIFEST_ENTRIES ?? (quick ? 100_000 : 1_000_000)), log)));
  return rows;
}

/** The chunks of a file, read in 8 MiB blocks, with `edit(offset, block)` applied on the way. */
function chunksOf(ChunkStream, params, path, extra) {
  const s = new ChunkStream(params);
  const fd = openSync(path, 'r');
  const block = Buffer.allocUnsafe(8 * MiB);
  for (let at = 0; ; ) {
    const n = readSync(fd, block, 0, block.length, at);
    if (n === 0) break;
    s.push(block.subarray(0, n));
    at += n;
  }
  closeSync(fd);
  if (extra) s.push(extra);
  return s.end().chunks;
}

async function sweep(work, size, log) {
  const { ChunkStream } = await import(join(PROJECT, 'dist/objects/chunker.js'));
  const rows = [];
  const file = join(work, 'sweep.bin');
  const edited = join(work, 'sweep-edited.bin');
  log(`generating ${size / MiB} MiB`);
  randomFile(file, size);
  sh(`cp ${file} ${edited}`);
  patch(edited, size / 2, randomBytes(MiB));
  const tail = randomBytes(10 * MiB);
  for (const avg of [64 << 10, 256 << 10, 1 << 20]) {
    const params = { min: avg / 4, avg, max: avg * 4 };
    log(`chunking with a ${avg >> 10} KiB average`);
    const t0 = process.cpuUsage();
    const before = chunksOf(ChunkStream, params, file);
    const cpu = process.cpuUsage(t0);
    const have = new Set(before.map((c) => c.oid));
    const listBytes = (chunks) => 100 + chunks.length * 72; // the header lines, and "<64 hex> <length>\n" (≈ 72 bytes) per chunk
    for (const [what, chunks] of [['1 MiB overwrite in the middle', chunksOf(ChunkStream, params, edited)], ['10 MiB append', chunksOf(ChunkStream, params, file, tail)]]) {
      const fresh = chunks.filter((c) => !have.has(c.oid));
      const sent = fresh.reduce((s, c) => s + c.length, 0) + listBytes(chunks);
      rows.push({ name: `${avg >> 10} KiB average, ${size / MiB} MiB file, ${what}: bytes a push sends (new chunks + list)`, value: sent / MiB, unit: `MiB (${fresh.length} new chunks, list of ${chunks.length} chunks = ${(listBytes(chunks) / 1024).toFixed(0)} KiB)` });
    }
    rows.push({ name: `${avg >> 10} KiB average: chunking speed`, value: size / MiB / ((cpu.user + cpu.system) / 1e6), unit: `MiB/s cpu (mean chunk ${(size / before.length / 1024).toFixed(0)} KiB)` });
  }
  return rows;
}

async function pushes(work, size, log) {
  const rows = [];
  const { startCountingProxyProcess } = await import('../test/servers/counting-proxy.mjs');
  const { swiftAvailable, startSwift, makeS3Client } = await import('../test/servers/s3.mjs');
  const { startGcsProcess, makeGcsClient } = await import('../test/servers/gcs.mjs');
  // Object stores behind counting proxies (processes of their own: this harness blocks while dvs runs).
  let swift;
  let s3Proxy;
  if (swiftAvailable()) {
    log('starting OpenStack Swift (s3api)');
    swift = await startSwift({ workdir: join(work, 'swift') });
    const s3 = await makeS3Client(swift);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new CreateBucketCommand({ Bucket: 'dvs-chunks' }));
    s3.destroy();
    s3Proxy = await startCountingProxyProcess(swift.endpoint);
  }
  log('starting the GCS test server');
  const gcs = await startGcsProcess({ dir: join(work, 'gcs-data') });
  await (await makeGcsClient(gcs)).createBucket('dvs-chunks');
  const gcsProxy = await startCountingProxyProcess(gcs.url);
  try {
    const repo = gitRepo(join(work, 'repo'));
    const big = join(repo, 'big.bin');
    log(`generating a ${size / MiB} MiB file`);
    randomFile(big, size);
    const track = dvs(['track', 'big.bin'], { cwd: repo });
    rows.push({ name: `track ${size / MiB} MiB (chunking is not part of track)`, value: track.ms / 1000, unit: `s (${track.cpuS?.toFixed(1)} s cpu)` });
    const remotes = [
      { name: 'local-packed', url: join(work, 'store-packed'), format: 'packed' },
      { name: 'local-loose', url: join(work, 'store-loose'), format: 'loose' },
      ...(swift ? [{ name: 's3-packed', url: 's3://dvs-chunks/packed', format: 'packed', proxy: s3Proxy }] : []),
      { name: 'gcs-packed', url: 'gs://dvs-chunks/packed', format: 'packed', proxy: gcsProxy },
    ];
    for (const r of remotes) {
      dvs(['remote', 'add', '--format', r.format, r.name, r.url], { cwd: repo });
      if (r.proxy) dvs(['remote', 'modify', r.name, 'endpoint', r.proxy.url], { cwd: repo });
      if (r.proxy === s3Proxy && swift) {
        dvs(['remote', 'modify', '--local', r.name, 'access_key_id', swift.accessKeyId], { cwd: repo });
        dvs(['remote', 'modify', '--local', r.name, 'secret_access_key', swift.secretAccessKey], { cwd: repo });
      } else if (!r.proxy) dvs(['config', '--local', `remote.${r.name}.url`, r.url], { cwd: repo });
    }
    const push = async (r, what) => {
      await r.proxy?.reset();
      const before = r.proxy ? 0 : dirBytes(r.url);
      log(`push (${what}) to ${r.name}`);
      const p = dvs(['push', '-r', r.name, '--json'], { cwd: repo });
      const out = JSON.parse(p.stdout);
      // Bytes sent: the remote's growth (local) or the request bodies counted on the wire.
      const grew = r.proxy ? await r.proxy.bytesUp() : dirBytes(r.url) - before;
      const requests = r.proxy ? await r.proxy.count() : undefined;
      return { p, out, grew, requests };
    };
    const first = {};
    for (const r of remotes) {
      const x = await push(r, 'first');
      first[r.name] = x;
      rows.push({ name: `first push of ${size / MiB} MiB, ${r.name}`, value: x.p.ms / 1000, unit: `s (${x.p.cpuS?.toFixed(1)} s cpu${x.requests !== undefined ? `, ${x.requests} requests` : ''})` });
    }
    const edits = [
      ['1 MiB overwrite in the middle', () => patch(big, size / 2, randomBytes(MiB)), 4, 10],
      ['10 MiB append', () => append(big, randomBytes(10 * MiB)), 12, undefined],
    ];
    for (const [what, edit, barMiB, barRequests] of edits) {
      edit();
      dvs(['track', 'big.bin'], { cwd: repo });
      for (const r of remotes.filter((x) => x.format === 'packed')) {
        const x = await push(r, what);
        const sent = (x.grew ?? x.out.bytes) / MiB;
        const pass = sent <= barMiB && (barRequests === undefined || x.requests === undefined || x.requests <= barRequests);
        rows.push({
          name: `${what} of ${size / MiB} MiB, push to ${r.name}: bytes sent`,
          value: sent,
          unit: `MiB (push reports ${(x.out.bytes / MiB).toFixed(2)} MiB${x.requests !== undefined ? `; ${x.requests} requests` : ''}; ${(x.p.ms / 1000).toFixed(1)} s)`,
          target: `≤ ${barMiB} MiB${barRequests ? `, ≤ ${barRequests} requests` : ''}`,
          pass,
        });
      }
    }
  } finally {
    await s3Proxy?.close();
    await gcsProxy.close();
    await swift?.stop();
    await gcs.stop();
  }
  return rows;
}
