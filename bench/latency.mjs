// Interactive latency (issue 17): the commands people run many times a day, on one dataset of 20,000
// files of 4 KiB + 2 × 256 MiB. Five figures, each the median of BENCH_RUNS runs (default 10), wall
// and CPU (user+system, from /usr/bin/time), for every Node named in BENCH_NODES (paths to `node`
// binaries, colon-separated; default: the Node running the benchmark):
//   - `dvs status` on that dataset                        bar ≤ 300 ms on Node 22+
//   - `dvs diff HEAD~1 HEAD` (10 files modified, 1 added)   bar ≤ 300 ms
//   - the post-checkout hook with nothing to do            bar ≤ 150 ms
//     (a switch between commits that differ in no pointer, among 1,000 pointers)
//   - the post-checkout hook with 1 of 1,000 pointers changed (no bar; the issue measured 260–316 ms)
//   - `dvs status` in a repository with no pointers       bar ≤ 150 ms
//   - and, for scale, `node -e 0`: Node's own start, which every figure includes. On the 2-core VM the
//     figures were measured on it moved between 55 and 107 ms from one hour to the next, and every
//     figure with it.
// Example: BENCH_NODES=/path/to/node20:/path/to/node22 npm run bench -- latency
// DVS_SQLITE=better-sqlite3 in the environment makes dvs use the addon instead of node:sqlite.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DVS, GIT_ENV, dvs, sh, gitRepo } from './lib.mjs';

const MiB = 1 << 20;
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const NODES = (process.env.BENCH_NODES ?? process.execPath).split(':').filter(Boolean);

/**
 * One run of `node bin/dvs.js args`: wall ms (hrtime) and CPU ms (user+system, /usr/bin/time). `args`
 * null: `node -e 0`, Node's own start, the floor of every figure (it moves with the machine's speed).
 */
export function timed(node, args, cwd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '__CPU=%U %S', node, ...(args === null ? ['-e', '0'] : [DVS, ...args])], { cwd, env: { ...process.env, ...GIT_ENV, CI: 'true' }, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /__CPU=([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`${node} dvs ${args?.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rest = (r.stderr ?? '').replace(/.*__CPU=.*\n?/, '');
  // Hooks report on stderr; what must never appear there is a warning from Node (e.g. node:sqlite's).
  if (/Warning|error/.test(rest)) throw new Error(`dvs ${args?.join(' ')} wrote to stderr: ${rest}`);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median wall and CPU of RUNS runs; `between` (untimed) runs before each. */
export function measure(node, args, cwd, between) {
  const walls = [];
  const cpus = [];
  // Run -1 is not counted: it warms the page cache (and the compile cache, where there is one).
  for (let i = -1; i < RUNS; i++) {
    between?.(i);
    const r = timed(node, typeof args === 'function' ? args(i) : args, cwd);
    if (i < 0) continue;
    walls.push(r.wall);
    cpus.push(r.cpu);
  }
  return { wall: mid(walls), cpu: mid(cpus) };
}

function bigFile(path, bytes) {
  const block = randomBytes(16 * MiB);
  const fd = openSync(path, 'w');
  for (let i = 0, left = bytes; left > 0; i++, left -= block.length) {
    block.writeUInt32LE(i, 0);
    writeSync(fd, block, 0, Math.min(block.length, left));
  }
  closeSync(fd);
}

/** `count` files of 4 KiB, 200 to a directory, each different. */
export function smallFiles(dir, count, prefix = 'f') {
  const block = randomBytes(4096);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `part-${String(Math.floor(i / 200)).padStart(3, '0')}`);
    if (i % 200 === 0) mkdirSync(sub, { recursive: true });
    block.writeUInt32LE(i, 0);
    block.write(prefix, 4);
    writeFileSync(join(sub, `${prefix}${i}.bin`), block);
  }
}

const backdate = (dir) => sh(`find ${dir} -type f -exec touch -d '1 hour ago' {} + && sync`);
const git = (cwd, cmd) => sh(`git -c core.hooksPath=/dev/null ${cmd}`, { cwd }).stdout.trim();

export async function run({ work, log }) {
  const rows = [];
  const small = Number(process.env.BENCH_SMALL_FILES ?? 20_000);
  const bigBytes = Number(process.env.BENCH_BIG_MIB ?? 256) * MiB;

  // BENCH_LATENCY_DATA: the work directory of an earlier run kept with --keep (same data, measured
  // again, e.g. before and after a change), instead of generating it anew.
  const reuse = process.env.BENCH_LATENCY_DATA;
  if (reuse) return measureAll({ repo: join(reuse, 'dataset'), hooks: join(reuse, 'hooks'), empty: join(reuse, 'empty'), small, bigBytes, log });
  log(`dataset: ${small} × 4 KiB + 2 × ${bigBytes / MiB} MiB`);
  const repo = gitRepo(join(work, 'dataset'));
  smallFiles(join(repo, 'data'), small);
  mkdirSync(join(repo, 'big'));
  bigFile(join(repo, 'big', 'a.bin'), bigBytes);
  bigFile(join(repo, 'big', 'b.bin'), bigBytes);
  backdate(repo);
  dvs(['track', 'data', 'big/a.bin', 'big/b.bin'], { cwd: repo });
  git(repo, 'commit -q -m data');
  for (let i = 0; i < 10; i++) writeFileSync(join(repo, 'data', 'part-000', `f${i * 7}.bin`), `changed ${i}\n`);
  writeFileSync(join(repo, 'data', 'part-000', 'new.bin'), 'new\n');
  backdate(join(repo, 'data'));
  dvs(['track', 'data'], { cwd: repo });
  git(repo, 'commit -q -m "10 modified, 1 added"');

  log('hook repository: 1,000 pointers');
  const hooks = gitRepo(join(work, 'hooks'));
  smallFiles(join(hooks, 'd'), 1000, 'p');
  backdate(hooks);
  const files = sh('find d -type f | sort', { cwd: hooks }).stdout.trim().split('\n');
  dvs(['track', ...files], { cwd: hooks });
  git(hooks, 'add -A && git -c core.hooksPath=/dev/null commit -q -m "1,000 pointers"');
  writeFileSync(join(hooks, files[500]), 'changed\n');
  backdate(join(hooks, files[500]));
  dvs(['track', files[500]], { cwd: hooks });
  git(hooks, 'commit -q -am "one pointer changed"');
  writeFileSync(join(hooks, 'README'), 'no pointer changed\n');
  git(hooks, 'add README && git -c core.hooksPath=/dev/null commit -q -m readme');

  const empty = gitRepo(join(work, 'empty'));
  return measureAll({ repo, hooks, empty, small, bigBytes, log });
}

function measureAll({ repo, hooks, empty, small, bigBytes, log }) {
  const rows = [];
  // The hook repository's last three commits: 1,000 pointers; one of them changed; no pointer changed.
  const [c3, c2, c1] = git(hooks, 'rev-list -n 3 HEAD').split('\n');
  const table = [];
  for (const node of NODES) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    log(`node ${version}`);
    const figures = {
      status: measure(node, ['status'], repo),
      diff: measure(node, ['diff', 'HEAD~1', 'HEAD'], repo),
      hookNothing: measure(node, ['hook', 'post-checkout', c2, c3, '1'], hooks, () => git(hooks, `checkout -q ${c3}`)),
      // Alternate between c1 and c2: every timed run really places (or restores) one file.
      hookOne: measure(node, (i) => (i % 2 ? ['hook', 'post-checkout', c1, c2, '1'] : ['hook', 'post-checkout', c2, c1, '1']), hooks, (i) => git(hooks, `checkout -q ${i % 2 ? c2 : c1}`)),
      noPointers: measure(node, ['status'], empty),
      nodeStart: measure(node, null, empty),
    };
    git(hooks, `checkout -q ${c3}`);
    const bars = { status: 300, diff: 300, hookNothing: 150, hookOne: undefined, noPointers: 150, nodeStart: undefined };
    const names = {
      status: `status, ${small} × 4 KiB + 2 × ${bigBytes / MiB} MiB`,
      diff: 'diff HEAD~1 HEAD (10 modified, 1 added)',
      hookNothing: 'post-checkout hook, no pointer changed (1,000 pointers)',
      hookOne: 'post-checkout hook, 1 of 1,000 pointers changed',
      noPointers: 'status, no pointers',
      nodeStart: "`node -e 0` (Node's own start, for scale)",
    };
    for (const [key, f] of Object.entries(figures)) {
      const bar = bars[key];
      rows.push({ name: `${version} ${names[key]} (wall; CPU ${Math.round(f.cpu)} ms)`, value: f.wall, unit: 'ms', target: bar ? `<= ${bar} ms` : undefined, pass: bar ? f.wall <= bar : undefined });
      table.push(`${version} | ${names[key]} | ${Math.round(f.wall)} ms | ${Math.round(f.cpu)} ms`);
    }
  }
  log(`median of ${RUNS}: node | measurement | wall | CPU`);
  for (const line of table) log(line);
  return rows;
}
