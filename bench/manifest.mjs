// A directory of 10 million files (issue 14: "a one-file change in a directory of 10 million files:
// push sends < 1 MiB"; `dvs diff` of it reads only what changed). BENCH_MANIFEST_ENTRIES sets the count
// (BENCH_QUICK=1: 1,000,000).
//
// The directory is not made of 10 million real files: its manifest (about 1 GB of text) is generated
// straight into the cache, with a pointer naming it, which is what `dvs track` would leave behind; every
// entry is the empty file except one. Scanning and hashing 10 million files measures the file system,
// not what this bench is about: what a push sends, and what a diff reads, for a huge manifest.
//
// Steps: push the first version to a packed local remote, and to packed S3 (Swift) and GCS (the test
// server) remotes behind counting proxies; change the one entry; push again (bytes sent: the push's own
// count and, on the wire, the remote's growth or the proxy's count of request bodies; files written on the
// local remote, requests through the proxies); `dvs diff HEAD~1 HEAD` (wall, CPU, peak memory); the same
// diff after the chunk lists this clone kept are deleted (it computes them again, reading both manifests
// once). BENCH_MANIFEST_STORES=local (or local,gcs …) limits the remotes.
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dvs, gitRepo, sh } from './lib.mjs';

const MiB = 1 << 20;

export async function run({ work, log }) {
  const quick = process.env.BENCH_QUICK === '1';
  return manifestRows(work, Number(process.env.BENCH_MANIFEST_ENTRIES ?? (quick ? 1_000_000 : 10_000_000)), log);
}

/** Bytes and files under `dir`. */
function tally(dir) {
  let bytes = 0;
  let files = 0;
  if (!existsSync(dir)) return { bytes, files };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      const t = tally(join(dir, e.name));
      bytes += t.bytes;
      files += t.files;
    } else {
      bytes += statSync(join(dir, e.name)).size;
      files++;
    }
  }
  return { bytes, files };
}

/** Put an object into the cache under its hash: `write(emit)` calls emit(buffer) with its bytes in order. */
export function putObject(repo, write) {
  const tmp = join(repo, '.dvs/cache', `bench-${process.pid}.tmp`);
  mkdirSync(join(repo, '.dvs/cache'), { recursive: true });
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  let size = 0;
  write((buf) => {
    hash.update(buf);
    writeSync(fd, buf);
    size += buf.length;
  });
  closeSync(fd);
  const oid = hash.digest('hex');
  mkdirSync(join(repo, '.dvs/cache', oid.slice(0, 2)), { recursive: true });
  const dest = join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2));
  chmodSync(tmp, 0o444);
  renameSync(tmp, dest);
  return { oid, size };
}

export async function manifestRows(work, entries, log) {
  const rows = [];
  const count = entries.toLocaleString('en-US');
  const repo = gitRepo(join(work, 'manifest-repo'));
  const store = join(work, 'manifest-store');
  dvs(['remote', 'add', '-d', '--format', 'packed', 'origin', store], { cwd: repo });
  dvs(['config', '--local', 'remote.origin.url', store], { cwd: repo });
  const objectStores = await startObjectStores(work, repo, log);
  try {
    await measure();
  } finally {
    await objectStores.stop();
  }
  return rows;

  async function measure() {
    const empty = putObject(repo, () => {}).oid;
    const writeVersion = (changed) => {
      log(`generating a manifest of ${count} entries`);
      let total = 0;
      // Paths in byte order by construction, 1,000 files per folder; written in pieces (10M lines are
      // more than one JavaScript string may hold).
      const manifest = putObject(repo, (emit) => {
        emit(Buffer.from('dvs-manifest 1\n'));
        let lines = [];
        for (let i = 0; i < entries; i++) {
          const path = `d${String(Math.floor(i / 1000)).padStart(5, '0')}/f${String(i).padStart(8, '0')}.bin`;
          if (changed && i === Math.floor(entries / 2)) {
            lines.push(`${changed.oid} ${changed.size} - ${path}\n`);
            total += changed.size;
          } else lines.push(`${empty} 0 - ${path}\n`);
          if (lines.length === 10_000) {
            emit(Buffer.from(lines.join('')));
            lines = [];
          }
        }
        emit(Buffer.from(lines.join('')));
      });
      writeFileSync(join(repo, 'data.dvs'), `version: 1\nkind: dir\noid: sha256:${manifest.oid}\nsize: ${total}\nfiles: ${entries}\n`);
      sh(`git add -A && git commit -q -m "data ${changed ? 'v2' : 'v1'}"`, { cwd: repo });
      return manifest.size;
    };
    const push = (what) => {
      const before = tally(store);
      log(`push (${what})`);
      const p = dvs(['push', '--json'], { cwd: repo });
      const after = tally(store);
      return { p, reported: JSON.parse(p.stdout).bytes, grew: after.bytes - before.bytes, written: after.files - before.files };
    };
    const run = (x) => `${(x.ms / 1000).toFixed(1)} s, ${x.cpuS?.toFixed(1)} s CPU, peak ${x.peakRssMb?.toFixed(0)} MiB`;

    const size = writeVersion(undefined);
    const first = push('first');
    rows.push({ name: `first push of a ${count}-entry directory (manifest ${(size / MiB).toFixed(0)} MiB)`, value: first.reported / MiB, unit: `MiB sent (${run(first.p)})` });
    for (const remote of objectStores.remotes) {
      const sent = await remote.push('first');
      rows.push({ name: `first push of a ${count}-entry directory to ${remote.label}`, value: sent.bytes / MiB, unit: `MiB on the wire (${sent.requests} requests; ${run(sent.p)})` });
    }
    const changed = Buffer.from('changed\n');
    const changedOid = putObject(repo, (emit) => emit(changed)).oid;
    writeVersion({ oid: changedOid, size: changed.length });
    const second = push('one-file change');
    rows.push({
      name: `one-file change in a ${count}-entry directory, push: bytes sent`,
      value: second.grew / MiB,
      unit: `MiB (push reports ${(second.reported / MiB).toFixed(2)} MiB; ${second.written} files written on the remote; ${run(second.p)})`,
      target: '< 1 MiB',
      pass: second.grew < MiB,
    });
    for (const remote of objectStores.remotes) {
      const sent = await remote.push('one-file change');
      rows.push({
        name: `one-file change in a ${count}-entry directory, push to ${remote.label}: bytes sent`,
        value: sent.bytes / MiB,
        unit: `MiB on the wire (push reports ${(sent.reported / MiB).toFixed(2)} MiB; ${sent.requests} requests; ${run(sent.p)})`,
        target: '< 1 MiB',
        pass: sent.bytes < MiB,
      });
    }

    const diff = (what) => {
      log(`diff (${what})`);
      const d = dvs(['diff', 'HEAD~1', 'HEAD', '--json'], { cwd: repo, allowFail: true });
      if (d.code !== 0) {
        // Before diff read only what changed, it ran out of memory here: say so, and keep the rows above.
        const why = /heap out of memory/.test(d.stderr) ? 'out of memory' : `exit ${d.code}`;
        rows.push({ name: `dvs diff of the two versions (${what})`, value: d.ms / 1000, unit: `s (failed: ${why}; ${run(d)})`, target: 'the one modified file', pass: false });
        return;
      }
      const out = JSON.parse(d.stdout);
      const files = out.changes[0]?.files ?? [];
      const right = files.length === 1 && files[0].change === 'modified' && files[0].newOid === changedOid;
      rows.push({ name: `dvs diff of the two versions (${what})`, value: d.ms / 1000, unit: `s (${run(d)}; ${files.length} file(s) changed)`, target: 'the one modified file', pass: right });
    };
    diff('chunk lists kept by the pushes');
    rmSync(join(repo, '.dvs/tmp/chunk-lists'), { recursive: true, force: true });
    diff('no chunk lists kept: computed');
    diff('chunk lists computed by the previous diff');
  }
}

/**
 * Packed remotes on S3 (Swift, when installed) and GCS (the test server), each behind a counting proxy
 * in a process of its own (this harness blocks while dvs runs). `push(what)` pushes HEAD to one of them
 * and says what went over the wire.
 */
async function startObjectStores(work, repo, log) {
  const only = process.env.BENCH_MANIFEST_STORES?.split(',');
  const wanted = (kind) => !only || only.includes(kind);
  const { startCountingProxyProcess } = await import('../test/servers/counting-proxy.mjs');
  const remotes = [];
  const stops = [];
  const add = async (name, label, url, target, configure) => {
    const proxy = await startCountingProxyProcess(target);
    stops.push(() => proxy.close());
    dvs(['remote', 'add', '--format', 'packed', name, url], { cwd: repo });
    configure(proxy.url);
    remotes.push({
      label,
      async push(what) {
        await proxy.reset();
        log(`push (${what}) to ${label}`);
        const p = dvs(['push', '-r', name, '--json'], { cwd: repo });
        return { p, reported: JSON.parse(p.stdout).bytes, bytes: await proxy.bytesUp(), requests: await proxy.count() };
      },
    });
  };
  try {
    if (wanted('s3')) {
      const { swiftAvailable, startSwift, makeS3Client } = await import('../test/servers/s3.mjs');
      if (swiftAvailable()) {
        log('starting OpenStack Swift (s3api)');
        const swift = await startSwift({ workdir: join(work, 'swift') });
        stops.push(() => swift.stop());
        const s3 = await makeS3Client(swift);
        const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
        await s3.send(new CreateBucketCommand({ Bucket: 'dvs-manifest' }));
        s3.destroy();
        await add('s3', 'S3 (Swift)', 's3://dvs-manifest/packed', swift.endpoint, (url) => {
          dvs(['remote', 'modify', 's3', 'endpoint', url], { cwd: repo });
          dvs(['remote', 'modify', '--local', 's3', 'access_key_id', swift.accessKeyId], { cwd: repo });
          dvs(['remote', 'modify', '--local', 's3', 'secret_access_key', swift.secretAccessKey], { cwd: repo });
        });
      } else log('Swift is not installed: S3 rows skipped (bash test/servers/swift/install.sh)');
    }
    if (wanted('gcs')) {
      const { startGcsProcess, makeGcsClient } = await import('../test/servers/gcs.mjs');
      const gcs = await startGcsProcess({ dir: join(work, 'gcs-data') });
      stops.push(() => gcs.stop());
      await (await makeGcsClient(gcs)).createBucket('dvs-manifest');
      await add('gcs', 'GCS (test server)', 'gs://dvs-manifest/packed', gcs.url, (url) => dvs(['remote', 'modify', 'gcs', 'endpoint', url], { cwd: repo }));
    }
  } catch (err) {
    for (const stop of stops.reverse()) await stop();
    throw err;
  }
  return {
    remotes,
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
