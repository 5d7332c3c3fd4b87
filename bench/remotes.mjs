// Remote benchmarks (issue: remotes): push then pull of 10,000 files of 10 KiB and of 2 GiB in 4 files,
// against a local-directory remote, against S3 (OpenStack Swift with s3api on loopback, when
// installed), against Azure Blob (Azurite, the emulator, on loopback) and against SSH/SFTP (Debian's
// OpenSSH sshd on loopback, when installed); pull of the 2 GiB against `cp` of the same files; a no-op
// push of an already pushed 100,000-file directory; `status --remote` after changing one file in it.
// HTTP (nginx serving the local remote's directory, when installed): pull only, a web remote is read-only.
// BENCH_QUICK=1 shrinks the data (1,000 small files, 256 MiB, 20,000 files) for a smoke run.
// Packed vs loose (docs/remote-format.md): push and pull of 5,000 × 10 KiB to a local directory, S3
// (Swift), GCS (the test server), Azure (Azurite) and SSH, in each format, beside `tar` + one upload and
// one download + extract of the same files, with the HTTP requests counted by a proxy in front of the
// server (BENCH_REMOTES=packs; BENCH_PACK_STORES=azure,ssh for only some stores).
// BENCH_REMOTES=http,s3,azure,ssh measures only those backends (the local push that fills nginx's
// directory still runs, unmeasured) and skips the 100,000-file section unless `local` is named.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dvs, gitRepo, mbps, median, sh } from './lib.mjs';

const MiB = 1 << 20;
// The AWS SDK nags about Node 20 whenever a client is made (dvs sets this for itself too).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function smallFiles(dir, count, size) {
  const block = randomBytes(size + count * 8);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `part-${String(i % 100).padStart(3, '0')}`);
    if (i < 100) mkdirSync(sub, { recursive: true });
    const buf = Buffer.from(block.subarray((i * 8) % (block.length - size), ((i * 8) % (block.length - size)) + size));
    buf.write(`file ${i} `, 0);
    writeFileSync(join(sub, `f${i}.bin`), buf);
  }
  return count * size;
}

function bigFile(path, bytes) {
  const block = randomBytes(16 * MiB);
  const fd = openSync(path, 'w');
  for (let left = bytes, i = 0; left > 0; left -= block.length, i++) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block, 0, Math.min(block.length, left));
  }
  closeSync(fd);
}

/** Time a command after a sync, so that writeback left by the previous step is not counted. Warm page
 * cache, like the core section (dropping it mostly measures reloading node and its modules). */
function synced(fn) {
  sh('sync');
  return fn();
}

export async function run({ work, log }) {
  const quick = process.env.BENCH_QUICK === '1';
  const rows = [];
  if (!process.env.BENCH_REMOTES || process.env.BENCH_REMOTES.split(',').includes('packs')) rows.push(...(await packRows({ work: join(work, 'packs'), log, quick })));
  if (process.env.BENCH_REMOTES === 'packs') return rows;
  const small = { count: quick ? 1000 : 10_000, size: 10 * 1024 };
  const big = { count: 4, size: (quick ? 64 : 512) * MiB };
  const only = process.env.BENCH_REMOTES?.split(',');
  const measured = (remote) => !only || only.includes(remote);
  let swift;
  let s3Bucket;
  let sshd;
  try {
    const { sshdAvailable, startSshd } = await import('../test/servers/sshd.mjs');
    if (!measured('ssh')) sshd = undefined;
    else if (sshdAvailable()) {
      log('starting OpenSSH sshd');
      sshd = await startSshd();
    } else log('OpenSSH server is not installed: SSH rows skipped (bash test/servers/sshd/install.sh)');
  } catch (err) {
    log(`sshd did not start (${err.message}); SSH rows skipped`);
    sshd = undefined;
  }
  let nginx;
  let azurite;
  if (measured('azure')) {
    const { startAzurite, makeBlobServiceClient } = await import('../test/servers/azurite.mjs');
    log('starting Azurite (blob service)');
    mkdirSync(join(work, 'azurite'), { recursive: true });
    azurite = await startAzurite({ dir: join(work, 'azurite') });
    await (await makeBlobServiceClient(azurite)).getContainerClient('dvs-bench').create();
  }
  if (measured('s3')) try {
    const { swiftAvailable, startSwift, makeS3Client } = await import('../test/servers/s3.mjs');
    if (swiftAvailable() && measured('s3')) {
      log('starting OpenStack Swift (s3api)');
      swift = await startSwift({ workdir: join(work, 'swift') });
      const client = await makeS3Client(swift);
      const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
      s3Bucket = 'dvs-bench';
      await client.send(new CreateBucketCommand({ Bucket: s3Bucket }));
      client.destroy();
    } else if (measured('s3')) log('Swift is not installed: S3 rows skipped (bash test/servers/swift/install.sh)');
  } catch (err) {
    log(`Swift did not start (${err.message}); S3 rows skipped`);
    swift = undefined;
  }

  try {
    const repo = gitRepo(join(work, 'repo'));
    const store = join(work, 'store');
    dvs(['remote', 'add', '-d', 'local', store], { cwd: repo });
    if (swift) {
      dvs(['remote', 'add', 's3', `s3://${s3Bucket}/bench`], { cwd: repo });
      dvs(['remote', 'modify', 's3', 'endpoint', swift.endpoint], { cwd: repo });
    }
    const s3Secrets = (dir) => {
      if (!swift) return;
      dvs(['remote', 'modify', '--local', 's3', 'access_key_id', swift.accessKeyId], { cwd: dir });
      dvs(['remote', 'modify', '--local', 's3', 'secret_access_key', swift.secretAccessKey], { cwd: dir });
    };
    if (sshd) dvs(['remote', 'add', 'ssh', sshd.url(join(work, 'store-ssh'))], { cwd: repo });
    // The key and the known_hosts file are this machine's settings: each clone names them.
    const sshLocal = (dir) => {
      if (!sshd) return;
      dvs(['remote', 'modify', '--local', 'ssh', 'key_file', sshd.keyFile], { cwd: dir });
      dvs(['remote', 'modify', '--local', 'ssh', 'known_hosts', sshd.knownHosts], { cwd: dir });
    };
    sshLocal(repo);
    if (azurite) dvs(['remote', 'add', 'azure', 'azure://dvs-bench/bench'], { cwd: repo });
    const secrets = (dir) => {
      s3Secrets(dir);
      if (azurite) dvs(['remote', 'modify', '--local', 'azure', 'connection_string', azurite.connectionString], { cwd: dir });
      sshLocal(dir);
    };
    secrets(repo);

    log(`generating ${small.count} files of 10 KiB and ${big.count} files of ${big.size / MiB} MiB`);
    const smallBytes = smallFiles(join(repo, 'small'), small.count, small.size);
    mkdirSync(join(repo, 'big'), { recursive: true });
    for (let i = 0; i < big.count; i++) bigFile(join(repo, 'big', `part-${i}.bin`), big.size);
    const bigBytes = big.count * big.size;
    dvs(['track', 'small', 'big'], { cwd: repo });
    sh('git add -A && git commit -q -m data', { cwd: repo });

    const { nginxAvailable, startNginx } = await import('../test/servers/nginx.mjs');
    if (measured('http') && nginxAvailable()) {
      log('starting nginx on the local remote\'s directory');
      nginx = await startNginx({ root: store });
      dvs(['remote', 'add', 'http', nginx.url('public')], { cwd: repo });
      sh('git add -A && git commit -q -m "http remote"', { cwd: repo });
    } else if (measured('http')) log('nginx is not installed: HTTP rows skipped (bash test/servers/nginx/install.sh)');

    const remotes = [['local', 'local directory'], ...(swift ? [['s3', 'S3 (Swift)']] : []), ...(azurite ? [['azure', 'Azure Blob (Azurite)']] : []), ...(sshd ? [['ssh', 'SSH (OpenSSH sftp)']] : []), ...(nginx ? [['http', 'HTTP (nginx)']] : [])];
    for (const [remote, label] of remotes) {
      for (const [what, target, files, bytes] of [
        [`${small.count.toLocaleString('en-US')} × 10 KiB`, 'small', small.count, smallBytes],
        [`${big.count} × ${big.size / MiB} MiB`, 'big', big.count, bigBytes],
      ]) {
        if (remote === 'local' && !measured('local')) {
          // Unmeasured: fills the directory nginx serves.
          if (nginx) dvs(['push', '-r', 'local', target], { cwd: repo });
          continue;
        }
        if (remote !== 'http') {
          log(`push ${what} to ${label}`);
          const push = synced(() => dvs(['push', '-r', remote, target], { cwd: repo }));
          log(`  ${(push.ms / 1000).toFixed(2)} s wall, ${push.cpuS?.toFixed(2)} s cpu`);
          rows.push({ name: `push ${what} to ${label}`, value: files / (push.ms / 1000), unit: 'files/s' });
          rows.push({ name: `push ${what} to ${label}`, value: mbps(bytes, push.ms), unit: 'MB/s' });
        }

        const clone = join(work, `clone-${remote}-${target}`);
        rmSync(clone, { recursive: true, force: true });
        sh(`git clone -q ${repo} ${clone}`);
        secrets(clone);
        log(`pull ${what} from ${label}`);
        const pull = synced(() => dvs(['pull', '-r', remote, target], { cwd: clone }));
        log(`  ${(pull.ms / 1000).toFixed(2)} s wall, ${pull.cpuS?.toFixed(2)} s cpu`);
        rows.push({ name: `pull ${what} from ${label}`, value: files / (pull.ms / 1000), unit: 'files/s' });
        rows.push({ name: `pull ${what} from ${label}`, value: mbps(bytes, pull.ms), unit: 'MB/s' });

        if (remote === 'local' && target === 'big') {
          // Medians of 3: pull into the clone with an empty cache and no data, against cp -r of the files.
          const pullMs = median(3, () => {
            rmSync(join(clone, '.dvs', 'cache'), { recursive: true, force: true });
            rmSync(join(clone, 'big'), { recursive: true, force: true });
            return synced(() => dvs(['pull', '-r', remote, target], { cwd: clone }).ms);
          });
          const dest = join(work, 'cp-dest');
          const cpMs = median(3, () => {
            rmSync(dest, { recursive: true, force: true });
            return synced(() => sh(`cp -r ${join(repo, 'big')} ${dest}`).ms);
          });
          rows.push({
            name: `pull ${what} from a local remote vs cp of the files`,
            value: pullMs / 1000,
            unit: 's',
            baseline: cpMs / 1000,
            baselineName: 'cp -r',
            ratio: pullMs / cpMs,
            target: '≤ 1.5×',
            pass: pullMs / cpMs <= 1.5,
          });
          rmSync(dest, { recursive: true, force: true });
          // Without reflinks (ext4) a default pull writes the bytes twice: into the cache, then a copy
          // into the workspace. With hardlink checkouts (read-only workspace files) it writes them once.
          dvs(['config', 'cache.type', 'hardlink,copy'], { cwd: clone });
          const linkedMs = median(3, () => {
            rmSync(join(clone, '.dvs', 'cache'), { recursive: true, force: true });
            rmSync(join(clone, 'big'), { recursive: true, force: true });
            return synced(() => dvs(['pull', '-r', remote, target], { cwd: clone }).ms);
          });
          rows.push({
            name: `pull ${what} from a local remote, cache.type hardlink,copy, vs cp`,
            value: linkedMs / 1000,
            unit: 's',
            baseline: cpMs / 1000,
            baselineName: 'cp -r',
            ratio: linkedMs / cpMs,
            target: '≤ 1.5×',
            pass: linkedMs / cpMs <= 1.5,
          });
        }
        rmSync(clone, { recursive: true, force: true });
      }
    }
    rmSync(join(work, 'repo'), { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
    rmSync(join(work, 'store-ssh'), { recursive: true, force: true });
    if (!measured('local')) return rows;

    // A pushed directory of many files: a no-op push, and status --remote after one change.
    const many = quick ? 20_000 : 100_000;
    const repo2 = gitRepo(join(work, 'many'));
    dvs(['remote', 'add', '-d', 'local', join(work, 'store-many')], { cwd: repo2 });
    log(`tracking and pushing ${many.toLocaleString('en-US')} files`);
    mkdirSync(join(repo2, 'data'), { recursive: true });
    for (let i = 0; i < many; i++) {
      const sub = join(repo2, 'data', `d${String(i % 256).padStart(3, '0')}`);
      if (i < 256) mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `f${i}.txt`), `row ${i}\n`);
    }
    dvs(['track', 'data'], { cwd: repo2 });
    dvs(['push'], { cwd: repo2 });
    const noop = median(5, () => dvs(['push'], { cwd: repo2 }).ms);
    rows.push({ name: `no-op push of a pushed ${many.toLocaleString('en-US')}-file directory`, value: noop / 1000, unit: 's', target: '< 2 s', pass: noop < 2000 });
    // Without this clone's record of the remote (a fresh clone): one existence check of the manifest.
    const noopCold = median(3, () => {
      rmSync(join(repo2, '.dvs', 'tmp', 'remotes'), { recursive: true, force: true });
      return dvs(['push'], { cwd: repo2 }).ms;
    });
    rows.push({ name: `no-op push, ${many.toLocaleString('en-US')} files, no local record of the remote`, value: noopCold / 1000, unit: 's', target: '< 2 s', pass: noopCold < 2000 });

    writeFileSync(join(repo2, 'data', 'd007', 'f7.txt'), 'changed\n');
    dvs(['track', 'data'], { cwd: repo2 });
    const status = median(3, () => dvs(['status', '--remote'], { cwd: repo2, allowFail: true }).ms);
    rows.push({ name: `status --remote after changing 1 of ${many.toLocaleString('en-US')} files`, value: status / 1000, unit: 's', target: '< 3 s', pass: status < 3000 });
    const statusCold = median(3, () => {
      rmSync(join(repo2, '.dvs', 'tmp', 'remotes'), { recursive: true, force: true });
      return dvs(['status', '--remote'], { cwd: repo2, allowFail: true }).ms;
    });
    rows.push({ name: `status --remote after changing 1 of ${many.toLocaleString('en-US')} files, no local record`, value: statusCold / 1000, unit: 's' });
  } finally {
    await swift?.stop();
    await nginx?.stop();
    await azurite?.stop();
    await sshd?.stop();
  }
  return rows;
}

/**
 * 5,000 × 10 KiB: push, then pull into a fresh clone, in the packed and the loose format, against `tar`
 * of the files + one upload of the tarball, and one download + `tar x`. Object stores sit behind a
 * counting proxy, so each row also says how many requests it took.
 */
async function packRows({ work, log, quick }) {
  const rows = [];
  const count = quick ? 1000 : 5000;
  // Servers and proxies in processes of their own: this harness blocks while dvs runs (spawnSync).
  const { startGcsProcess, makeGcsClient } = await import('../test/servers/gcs.mjs');
  const { startCountingProxyProcess } = await import('../test/servers/counting-proxy.mjs');
  const { swiftAvailable, startSwift, makeS3Client } = await import('../test/servers/s3.mjs');
  mkdirSync(work, { recursive: true });
  // BENCH_PACK_STORES=azure,ssh: only those stores (and only their servers started).
  const only = process.env.BENCH_PACK_STORES?.split(',');
  const gcs = await startGcsProcess({ dir: join(work, 'gcs-data') });
  const gcsClient = await makeGcsClient(gcs);
  await gcsClient.createBucket('dvs-packs');
  let swift;
  let s3;
  if (swiftAvailable() && (!only || only.includes('s3'))) {
    log('starting OpenStack Swift (s3api) for the pack rows');
    swift = await startSwift({ workdir: join(work, 'swift') });
    s3 = await makeS3Client(swift);
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new CreateBucketCommand({ Bucket: 'dvs-packs' }));
  }
  const { startAzurite, makeBlobServiceClient } = await import('../test/servers/azurite.mjs');
  const { sshdAvailable, startSshd } = await import('../test/servers/sshd.mjs');
  const azurite = await startAzurite({ dir: join(work, 'azurite-data') });
  await (await makeBlobServiceClient(azurite)).getContainerClient('dvs-packs').create();
  const sshd = sshdAvailable() ? await startSshd() : undefined;
  if (!sshd) log('OpenSSH server is not installed: SSH pack rows skipped');
  const proxies = [];
  try {
    const repo = gitRepo(join(work, 'repo'));
    log(`generating ${count} files of 10 KiB`);
    smallFiles(join(repo, 'small'), count, 10 * 1024);
    dvs(['track', 'small'], { cwd: repo });
    sh('git add -A && git commit -q -m data', { cwd: repo });
    const tarball = join(work, 'small.tar');

    const stores = [
      { kind: 'local', label: 'local directory' },
      ...(swift ? [{ kind: 's3', label: 'S3 (Swift)' }] : []),
      { kind: 'gcs', label: 'GCS (test server)' },
      { kind: 'azure', label: 'Azure Blob (Azurite)' },
      ...(sshd ? [{ kind: 'ssh', label: 'SSH (OpenSSH sftp)' }] : []),
    ].filter((s) => !only || only.includes(s.kind));
    const targets = { s3: () => swift.endpoint, gcs: () => gcs.url, azure: () => `http://127.0.0.1:${azurite.port}` };
    for (const store of stores) {
      const proxy = targets[store.kind] ? await startCountingProxyProcess(targets[store.kind]()) : undefined;
      if (proxy) proxies.push(proxy);
      const configure = (dir, name) => {
        if (store.kind === 's3') {
          dvs(['remote', 'modify', name, 'endpoint', proxy.url], { cwd: dir });
          dvs(['remote', 'modify', '--local', name, 'access_key_id', swift.accessKeyId], { cwd: dir });
          dvs(['remote', 'modify', '--local', name, 'secret_access_key', swift.secretAccessKey], { cwd: dir });
        } else if (store.kind === 'gcs') dvs(['remote', 'modify', name, 'endpoint', proxy.url], { cwd: dir });
        else if (store.kind === 'azure') dvs(['remote', 'modify', '--local', name, 'connection_string', `DefaultEndpointsProtocol=http;AccountName=${azurite.accountName};AccountKey=${azurite.accountKey};BlobEndpoint=${proxy.url}/${azurite.accountName};`], { cwd: dir });
        else if (store.kind === 'ssh') {
          dvs(['remote', 'modify', '--local', name, 'key_file', sshd.keyFile], { cwd: dir });
          dvs(['remote', 'modify', '--local', name, 'known_hosts', sshd.knownHosts], { cwd: dir });
        } else dvs(['config', '--local', `remote.${name}.url`, join(work, `store-${name}`)], { cwd: dir });
      };
      for (const format of ['packed', 'loose']) {
        const name = `${store.kind}-${format}`;
        const url = { s3: `s3://dvs-packs/${format}`, gcs: `gs://dvs-packs/${format}`, azure: `azure://dvs-packs/${format}`, ssh: sshd?.url(join(work, `store-${name}`)) }[store.kind] ?? join(work, `store-${name}`);
        dvs(['remote', 'add', '--format', format, name, url], { cwd: repo });
        configure(repo, name);
        await proxy?.reset();
        log(`push ${count} × 10 KiB to ${store.label}, ${format}`);
        const push = synced(() => dvs(['push', '-r', name, 'small'], { cwd: repo }));
        const pushRequests = await proxy?.count();
        sh('git add -A && git commit -q -m remote', { cwd: repo });
        const clone = join(work, `clone-${name}`);
        rmSync(clone, { recursive: true, force: true });
        sh(`git clone -q ${repo} ${clone}`);
        configure(clone, name);
        await proxy?.reset();
        log(`pull from ${store.label}, ${format}`);
        const pull = synced(() => dvs(['pull', '-r', name, 'small'], { cwd: clone }));
        const pullRequests = await proxy?.count();
        const what = `${count.toLocaleString('en-US')} × 10 KiB, ${store.label}, ${format}`;
        rows.push({ name: `push ${what}`, value: push.ms / 1000, unit: `s (${push.cpuS?.toFixed(1)} s cpu${pushRequests !== undefined ? `, ${pushRequests} requests` : ''})` });
        rows.push({ name: `pull ${what}`, value: pull.ms / 1000, unit: `s (${pull.cpuS?.toFixed(1)} s cpu${pullRequests !== undefined ? `, ${pullRequests} requests` : ''})` });
      }
      // The baseline: tar + one upload of the tarball; one download + tar x.
      if (store.kind === 'azure' || store.kind === 'ssh') continue;
      const t0 = Date.now();
      sh(`tar cf ${tarball} small`, { cwd: repo });
      if (store.kind === 'local') sh(`cp ${tarball} ${join(work, 'tar-store.tar')}`);
      else if (store.kind === 's3') {
        const { Upload } = await import('@aws-sdk/lib-storage');
        const { createReadStream } = await import('node:fs');
        await new Upload({ client: s3, params: { Bucket: 'dvs-packs', Key: 'small.tar', Body: createReadStream(tarball) }, partSize: 16 * MiB, queueSize: 4 }).done();
      } else await gcsClient.bucket('dvs-packs').upload(tarball, { destination: 'small.tar', resumable: true });
      const tarPush = Date.now() - t0;
      const out = join(work, `untar-${store.kind}`);
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const t1 = Date.now();
      const fetched = join(work, `fetched-${store.kind}.tar`);
      if (store.kind === 'local') sh(`cp ${join(work, 'tar-store.tar')} ${fetched}`);
      else if (store.kind === 's3') {
        const { GetObjectCommand } = await import('@aws-sdk/client-s3');
        const r = await s3.send(new GetObjectCommand({ Bucket: 'dvs-packs', Key: 'small.tar' }));
        writeFileSync(fetched, Buffer.from(await r.Body.transformToByteArray()));
      } else await gcsClient.bucket('dvs-packs').file('small.tar').download({ destination: fetched, validation: false });
      sh(`tar xf ${fetched} -C ${out}`);
      const tarPull = Date.now() - t1;
      rows.push({ name: `tar + one upload, ${count.toLocaleString('en-US')} × 10 KiB, ${store.label}`, value: tarPush / 1000, unit: 's' });
      rows.push({ name: `one download + tar x, ${count.toLocaleString('en-US')} × 10 KiB, ${store.label}`, value: tarPull / 1000, unit: 's' });
    }
  } finally {
    for (const p of proxies) await p.close();
    s3?.destroy();
    await swift?.stop();
    await gcs.stop();
    await azurite.stop();
    await sshd?.stop();
  }
  return rows;
}
