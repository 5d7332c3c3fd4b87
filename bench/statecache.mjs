// State-cache engines (issue 17): track and status of 20,000 files of 4 KiB with each SQLite engine the
// given Node can load. For every Node in BENCH_NODES (colon-separated `node` paths; default the running
// one) and every engine in BENCH_ENGINES (default `node:sqlite,better-sqlite3`; an engine that does not
// load on that Node is skipped): `track` into a fresh cache (every stamp written), `track` again
// (nothing changed: every stamp read), and `status` (median of BENCH_RUNS, default 10). Figures are
// wall and CPU (user+system) milliseconds.
// Example: BENCH_NODES=/path/to/node20:/path/to/node22 npm run bench -- statecache
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DVS, GIT_ENV, sh, gitRepo } from './lib.mjs';
import { smallFiles } from './latency.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const NODES = (process.env.BENCH_NODES ?? process.execPath).split(':').filter(Boolean);
const ENGINES = (process.env.BENCH_ENGINES ?? 'node:sqlite,better-sqlite3').split(',');

function timed(node, engine, args, cwd) {
  const env = { ...process.env, ...GIT_ENV, CI: 'true', DVS_SQLITE: engine };
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '__CPU=%U %S', node, DVS, ...args], { cwd, env, encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /__CPU=([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { ok: r.status === 0, stderr: r.stderr, stdout: r.stdout, wall, cpu: (Number(m?.[1]) + Number(m?.[2])) * 1000 };
}

const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run({ work, log }) {
  const rows = [];
  const n = Number(process.env.BENCH_SMALL_FILES ?? 20_000);
  const source = join(work, 'source');
  smallFiles(source, n);
  sh(`find ${source} -type f -exec touch -d '1 hour ago' {} + && sync`);
  for (const node of NODES) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const builtin = spawnSync(node, ['--no-warnings', '-e', "require('node:sqlite')"]).status === 0;
    for (const engine of ENGINES) {
      if (engine === 'node:sqlite' && !builtin) continue;
      const repo = gitRepo(join(work, 'repo'));
      sh(`cp -a ${source} ${join(repo, 'data')}`);
      const track = timed(node, engine, ['track', 'data'], repo);
      if (!track.ok) {
        log(`${version} ${engine}: skipped (${track.stderr.split('\n')[0].slice(0, 120)})`);
        continue;
      }
      if (/Warning/.test(track.stderr)) throw new Error(`warning on stderr: ${track.stderr}`);
      const again = [];
      const status = [];
      for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) again.push(timed(node, engine, ['track', 'data'], repo));
      timed(node, engine, ['status'], repo);
      for (let i = 0; i < RUNS; i++) status.push(timed(node, engine, ['status'], repo));
      const label = `${version} ${engine}`;
      const figures = [
        [`track ${n} files, fresh cache`, track.wall, track.cpu],
        [`track ${n} files again, unchanged (median)`, mid(again.map((r) => r.wall)), mid(again.map((r) => r.cpu))],
        [`status, ${n} files (median)`, mid(status.map((r) => r.wall)), mid(status.map((r) => r.cpu))],
      ];
      for (const [name, wall, cpu] of figures) {
        log(`${label} | ${name} | ${Math.round(wall)} ms wall | ${Math.round(cpu)} ms CPU`);
        rows.push({ name: `${label} ${name} (wall; CPU ${Math.round(cpu)} ms)`, value: wall, unit: 'ms' });
      }
      rmSync(repo, { recursive: true, force: true });
    }
  }
  return rows;
}
