// Record-hash benchmark (docs/record-hash.md): `dvs hash --records` of a 1 M-row CSV (~100 MB, the
// content-diff generator's data), multiset and ordered, in-process (dist/diff/content/record-hash.js).
// Reports MB/s of wall time and per CPU second (steadier on a loaded machine); the best of three runs.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT } from './lib.mjs';

export async function run({ work, log }) {
  const rows = process.env.BENCH_QUICK === '1' ? 200_000 : 1_000_000;
  const { generateCsvPair } = await import(join(PROJECT, 'dist/diff/content/bench.js'));
  const { recordDigest } = await import(join(PROJECT, 'dist/diff/content/record-hash.js'));
  const { fileSource } = await import(join(PROJECT, 'dist/diff/content/file-source.js'));
  log(`generating a ${rows.toLocaleString('en-US')}-row CSV`);
  const { before } = await generateCsvPair(work, rows);
  const bytes = statSync(before).size;
  const out = [];
  for (const ordered of [false, true]) {
    let best = { wall: Infinity, cpu: Infinity };
    for (let i = 0; i < 3; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const d = await recordDigest([await fileSource(before)], ordered);
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(cpu0);
      const cpu = (c.user + c.system) / 1e6;
      if (d.rows !== rows) throw new Error(`hashed ${d.rows} records, expected ${rows}`);
      if (wall < best.wall) best = { wall, cpu };
    }
    const label = ordered ? 'ordered' : 'multiset';
    const mb = bytes / 1e6;
    log(`${label}: ${best.wall.toFixed(2)} s wall, ${best.cpu.toFixed(2)} s CPU for ${mb.toFixed(0)} MB`);
    out.push({ name: `record hash (${label}) of a ${rows.toLocaleString('en-US')}-row CSV (${mb.toFixed(0)} MB): wall rate`, value: mb / best.wall, unit: 'MB/s' });
    out.push({ name: `record hash (${label}): rate per CPU second`, value: mb / best.cpu, unit: 'MB/s', target: '>= 25 MB/s', pass: mb / best.cpu >= 25 });
  }
  return out;
}
