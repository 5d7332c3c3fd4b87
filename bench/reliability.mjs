// Reliability (`npm run bench -- reliability`): dvs track, checkout, push and pull, each killed with
// SIGKILL at 100 random moments within its measured duration and run again (5,000 small files and a
// 300 MB file; a local directory remote). See test/reliability/kill-resume.mjs for what is checked.
// BENCH_KILLS=N changes the number of kills per command; BENCH_QUICK=1 uses small data.
import { formatRows, killResume } from '../test/reliability/kill-resume.mjs';

export async function run({ work, log }) {
  const quick = process.env.BENCH_QUICK === '1';
  const kills = Number(process.env.BENCH_KILLS ?? (quick ? 10 : 100));
  const t0 = Date.now();
  const result = await killResume({ work, kills, files: quick ? 500 : 5000, bigBytes: (quick ? 20 : 300) << 20, log });
  log(`seed ${result.seed}, ${((Date.now() - t0) / 60_000).toFixed(0)} min`);
  for (const line of formatRows(result.rows).split('\n')) log(line);
  for (const p of result.problems.slice(0, 20)) log(`problem: ${p}`);
  const rows = [];
  for (const r of result.rows) {
    const name = `dvs ${r.command}, ${r.kills} kills`;
    rows.push({ name: `${name}: re-runs that exit 0`, value: r.rerunsOk, unit: `of ${r.reruns}`, target: 'all', pass: r.rerunsOk === r.reruns && r.reruns === r.kills });
    rows.push({ name: `${name}: corrupt objects (cache and remote)`, value: r.corrupt, unit: `in ${r.objectsChecked} checks`, target: '0', pass: r.corrupt === 0 });
    rows.push({ name: `${name}: remote manifests without their files`, value: r.incompleteManifests, unit: '', target: '0', pass: r.incompleteManifests === 0 });
    rows.push({ name: `${name}: lost or changed files`, value: r.lostOrChanged, unit: '', target: '0', pass: r.lostOrChanged === 0 });
    rows.push({ name: `${name}: temp files left`, value: r.leftovers, unit: '', target: '0', pass: r.leftovers === 0 });
  }
  rows.push({ name: 'problems found (all commands)', value: result.problems.length, unit: '', target: '0', pass: result.problems.length === 0 });
  return rows;
}
