// Git-integration benchmarks: the post-checkout hook between refs that differ in 1 pointer out of
// 1,000, and dvs diff between two revisions of a 100,000-file directory that differ in 100 files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dvs, sh, gitRepo, median } from './lib.mjs';

export async function run({ work, log }) {
  const rows = [];
  const quick = process.env.BENCH_QUICK === '1';
  {
    const repo = gitRepo(join(work, 'hooks'));
    dvs(['install'], { cwd: repo });
    const n = 1000;
    log(`tracking ${n} files, one pointer each`);
    mkdirSync(join(repo, 'data'), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(repo, 'data', `f${i}.bin`), `content of file ${i}\n`);
    dvs(['track', ...Array.from({ length: n }, (_, i) => `data/f${i}.bin`)], { cwd: repo });
    sh('git add -A && git commit -q -m v1 && git checkout -q -b other', { cwd: repo });
    writeFileSync(join(repo, 'data/f500.bin'), 'changed\n');
    dvs(['track', 'data/f500.bin'], { cwd: repo });
    sh('git commit -q -am v2', { cwd: repo });
    const a = sh('git rev-parse main', { cwd: repo }).stdout.trim();
    const b = sh('git rev-parse other', { cwd: repo }).stdout.trim();
    // The hook alone, as Git runs it (the shell script, then dvs): check out with hooks off, then run it.
    const hookTimes = [];
    const gitTimes = [];
    for (let i = 0; i < 10; i++) {
      const [from, to, branch] = i % 2 === 0 ? [a, b, 'other'] : [b, a, 'main'];
      sh(`git -c core.hooksPath=/dev/null checkout -q ${branch}`, { cwd: repo });
      hookTimes.push(sh(`.git/hooks/post-checkout ${from} ${to} 1`, { cwd: repo }).ms);
    }
    for (let i = 0; i < 6; i++) gitTimes.push(sh(`git checkout -q ${i % 2 === 0 ? 'other' : 'main'}`, { cwd: repo }).ms);
    const mid = (xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const hook = mid(hookTimes);
    const checkoutAll = mid(gitTimes);
    rows.push({ name: 'post-checkout hook, 1 of 1,000 pointers changed', value: hook, unit: 'ms', target: '< 300 ms', pass: hook < 300 });
    rows.push({ name: 'git checkout with the hook, 1 of 1,000 pointers changed', value: checkoutAll, unit: 'ms' });
  }
  {
    const n = quick ? 20000 : 100000;
    const repo = gitRepo(join(work, 'diff'));
    log(`tracking a ${n}-file directory, then changing 100 files`);
    const dir = join(repo, 'data');
    for (let p = 0; p < 100; p++) mkdirSync(join(dir, `p${p}`), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, `p${i % 100}`, `f${i}.txt`), `row ${i}\n`);
    dvs(['track', 'data'], { cwd: repo });
    sh('git commit -q -m v1', { cwd: repo });
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `p${(i * 97) % 100}`, `f${i * 97}.txt`), `changed ${i}\n`);
    dvs(['track', 'data'], { cwd: repo });
    sh('git commit -q -m v2', { cwd: repo });
    const d = median(5, () => dvs(['diff', 'HEAD~1', 'HEAD'], { cwd: repo }).ms);
    const out = dvs(['diff', 'HEAD~1', 'HEAD', '--json'], { cwd: repo });
    const modified = JSON.parse(out.stdout).summary.files.modified;
    rows.push({ name: `diff of a ${n}-file directory, ${modified} files changed`, value: d, unit: 'ms', target: '< 2000 ms', pass: d < 2000 && modified === 100 });
    rows.push({ name: 'diff peak RSS', value: out.peakRssMb, unit: 'MB' });
  }
  return rows;
}
