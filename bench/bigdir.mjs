// status and checkout of a tracked directory of millions of files (issue 14's 10M-entry directory, which
// push and diff handle, read by the commands that compare it with the workspace). BENCH_BIGDIR_FILES real
// empty files (default 1,000,000; BENCH_QUICK=1: 200,000) in folders of 1,000, and their manifest
// generated straight into the cache with a pointer naming it, which is what `dvs track` would leave.
// BENCH_BIGDIR_ENTRIES (default 10,000,000; 0 skips it): status of a directory of that many entries that is
// not in the workspace (nothing on disk: the manifest alone, read to count the objects the cache lacks).
//
// Rows: wall time, CPU and peak RSS of each command, and peak RSS per entry; the memory bar is that it is
// bounded (tens of bytes per entry), not a time.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dvs, gitRepo, sh } from './lib.mjs';
import { putObject } from './manifest.mjs';

export async function run({ work, log }) {
  const quick = process.env.BENCH_QUICK === '1';
  const files = Number(process.env.BENCH_BIGDIR_FILES ?? (quick ? 200_000 : 1_000_000));
  const entries = Number(process.env.BENCH_BIGDIR_ENTRIES ?? (quick ? 0 : 10_000_000));
  const rows = [];
  if (files > 0) rows.push(...onDisk(work, files, log));
  if (entries > 0) rows.push(...notOnDisk(work, entries, log));
  return rows;
}

const pathOf = (i) => `d${String(Math.floor(i / 1000)).padStart(5, '0')}/f${String(i).padStart(8, '0')}.bin`;

/** A repository whose `data` directory's pointer names a generated manifest of `n` empty files. */
function repoWithManifest(dir, n, log) {
  const repo = gitRepo(dir);
  const empty = putObject(repo, () => {}).oid;
  log(`generating a manifest of ${n.toLocaleString('en-US')} entries`);
  const manifest = putObject(repo, (emit) => {
    emit(Buffer.from('dvs-manifest 1\n'));
    let lines = [];
    for (let i = 0; i < n; i++) {
      lines.push(`${empty} 0 - ${pathOf(i)}\n`);
      if (lines.length === 10_000) {
        emit(Buffer.from(lines.join('')));
        lines = [];
      }
    }
    emit(Buffer.from(lines.join('')));
  });
  writeFileSync(join(repo, 'data.dvs'), `version: 1\nkind: dir\noid: sha256:${manifest.oid}\nsize: 0\nfiles: ${n}\n`);
  writeFileSync(join(repo, '.gitignore'), '/data\n');
  sh('git add -A && git commit -q -m data', { cwd: repo });
  return { repo, manifestBytes: manifest.size };
}

function row(name, n, r, check) {
  const failed = r.code !== 0 ? (/heap out of memory/.test(r.stderr) ? 'failed: out of memory; ' : `failed: exit ${r.code}; `) : '';
  const perEntry = r.peakRssMb !== undefined ? ((r.peakRssMb * 1024 * 1024) / n).toFixed(0) : '?';
  return {
    name,
    value: r.ms / 1000,
    unit: `s (${failed}${r.cpuS?.toFixed(1)} s CPU, peak ${r.peakRssMb?.toFixed(0)} MiB = ${perEntry} B/entry)`,
    pass: r.code === 0 && check(r),
  };
}

function onDisk(work, n, log) {
  const count = n.toLocaleString('en-US');
  const { repo } = repoWithManifest(join(work, 'ondisk'), n, log);
  log(`creating ${count} empty files`);
  for (let d = 0; d * 1000 < n; d++) {
    const dir = join(repo, 'data', pathOf(d * 1000).split('/')[0]);
    mkdirSync(dir, { recursive: true });
    for (let i = d * 1000; i < Math.min(n, (d + 1) * 1000); i++) writeFileSync(join(repo, 'data', pathOf(i)), '');
  }
  const rows = [];
  const status = (what, check) => {
    log(`status (${what})`);
    const r = dvs(['status', '--json'], { cwd: repo, allowFail: true });
    rows.push(row(`dvs status, ${count}-file directory (${what})`, n, r, () => check(JSON.parse(r.stdout).entries[0])));
  };
  const checkout = (what, check) => {
    log(`checkout (${what})`);
    const r = dvs(['checkout', '--force', '--json'], { cwd: repo, allowFail: true });
    rows.push(row(`dvs checkout --force, ${count}-file directory (${what})`, n, r, () => check(JSON.parse(r.stdout))));
  };
  const unchanged = (e) => e.workspace === 'unchanged';
  status('first: every file looked up', unchanged);
  status('again: the snapshot vouches', unchanged);
  const changed = pathOf(Math.floor(n / 2));
  writeFileSync(join(repo, 'data', changed), 'changed\n');
  rmSync(join(repo, 'data', pathOf(n - 1)));
  writeFileSync(join(repo, 'data', 'new.txt'), 'new\n');
  status('one file modified, one deleted, one added', (e) => e.changes.modified.join() === changed && e.changes.deleted.join() === pathOf(n - 1) && e.changes.added.join() === 'new.txt');
  checkout('restores the modified and the deleted file, deletes the added one', (c) => c.added.length === 1 && c.modified.length === 1 && c.deleted.length === 1 && c.failures.length === 0);
  status('after the checkout', unchanged);
  checkout('nothing to do', (c) => c.added.length + c.modified.length + c.deleted.length === 0 && c.failures.length === 0);
  return rows;
}

function notOnDisk(work, n, log) {
  const count = n.toLocaleString('en-US');
  const { repo, manifestBytes } = repoWithManifest(join(work, 'absent'), n, log);
  const rows = [];
  log('status (directory not in the workspace)');
  let r = dvs(['status', '--json'], { cwd: repo, allowFail: true });
  rows.push(row(`dvs status, ${count}-entry directory not in the workspace (manifest ${(manifestBytes / (1 << 20)).toFixed(0)} MiB)`, n, r, () => JSON.parse(r.stdout).entries[0].workspace === 'missing'));
  return rows;
}
