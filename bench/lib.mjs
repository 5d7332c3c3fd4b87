// Shared helpers for the benchmark sections. Each section is a module exporting
// `async function run(ctx)` that returns an array of results:
//   { name, value, unit, baseline?, baselineName?, ratio?, target?, pass? }
// `ctx` = { work: a scratch directory for this section, dvs(args, opts) -> {code, ms, stdout, stderr, peakRssMb},
//           time(fn) -> ms, sh(cmd, opts) -> {ms, stdout}, gitRepo(dir), log(msg) }
import { spawnSync, execSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DVS = join(PROJECT, 'bin', 'dvs.js');

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Run the CLI; returns wall time and peak RSS (from /usr/bin/time when present). */
export function dvs(args, { cwd, env = {}, allowFail = false } = {}) {
  const useTime = spawnSync('sh', ['-c', 'command -v /usr/bin/time'], { encoding: 'utf8' }).status === 0;
  const cmd = useTime ? '/usr/bin/time' : process.execPath;
  const argv = useTime ? ['-f', '__RSS_KB=%M __CPU_S=%U+%S', process.execPath, DVS, ...args] : [DVS, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...GIT_ENV, CI: 'true', ...env }, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /__RSS_KB=(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 && !allowFail) throw new Error(`dvs ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const cpu = /__CPU_S=([\d.]+)\+([\d.]+)/.exec(r.stderr ?? '');
  return { code: r.status, ms, stdout: r.stdout, stderr: r.stderr, peakRssMb: m ? Number(m[1]) / 1024 : undefined, cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined };
}

export function sh(cmd, { cwd } = {}) {
  const t0 = process.hrtime.bigint();
  const stdout = execSync(cmd, { cwd, encoding: 'utf8', shell: '/bin/bash', maxBuffer: 1 << 30, env: { ...process.env, ...GIT_ENV } });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout };
}

export function freshDir(path) {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

export function gitRepo(dir) {
  freshDir(dir);
  sh('git init -q -b main && git commit -q --allow-empty -m init', { cwd: dir });
  dvs(['init'], { cwd: dir });
  sh('git commit -q -m "dvs init"', { cwd: dir });
  return dir;
}

/** Drop the page cache when allowed (root), so cold-read numbers mean something; else a no-op. */
export function dropCaches() {
  try {
    execSync('sync && echo 3 > /proc/sys/vm/drop_caches', { stdio: 'ignore', shell: '/bin/bash' });
    return true;
  } catch {
    return false;
  }
}

export function mbps(bytes, ms) {
  return bytes / 1e6 / (ms / 1000);
}

/** Median of n timed runs of fn (fn returns ms). */
export function median(n, fn) {
  const xs = [];
  for (let i = 0; i < n; i++) xs.push(fn());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}
