#!/usr/bin/env node
// `npm run bench [-- section...]`: runs the benchmark sections (core, git, remotes, content, records, lineage) on data they
// generate under bench/.work/, prints one table and writes bench/.work/results.json. `reliability` (kill
// and resume, about an hour) runs only when named: `npm run bench -- reliability`; so do `chunks` and
// `manifest` (a generated directory of 10 million files: push, a one-file change, diff; about 15 minutes)
// and `bigdir` (status and checkout of 1,000,000 real empty files, status of 10 million entries; about 10 minutes).
// Figures depend on the machine; each row names its baseline, measured in the same run on the same bytes.
import { mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT } from './lib.mjs';

const ALL = ['core', 'git', 'remotes', 'content', 'records', 'lineage'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const sections = wanted.length ? wanted : ALL;
const keep = process.argv.includes('--keep');
const workRoot = join(PROJECT, 'bench', '.work');
mkdirSync(workRoot, { recursive: true });

const rows = [];
for (const name of sections) {
  const file = join(PROJECT, 'bench', `${name}.mjs`);
  if (!existsSync(file)) {
    console.error(`(no bench/${name}.mjs: skipped)`);
    continue;
  }
  const work = join(workRoot, name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  console.error(`== ${name}`);
  const mod = await import(file);
  const t0 = Date.now();
  try {
    const results = await mod.run({ work, log: (m) => console.error(`   ${m}`) });
    for (const r of results) rows.push({ section: name, ...r });
  } catch (err) {
    console.error(`   section ${name} failed: ${err.stack ?? err}`);
    rows.push({ section: name, name: 'FAILED', value: NaN, unit: String(err.message ?? err).slice(0, 80) });
  }
  console.error(`   (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (!keep) rmSync(work, { recursive: true, force: true });
}

const fmt = (v) => (typeof v !== 'number' || Number.isNaN(v) ? '' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
console.log('');
console.log('| section | measurement | value | baseline | ratio | target | ok |');
console.log('|---|---|---:|---:|---:|---|---|');
for (const r of rows) {
  const base = r.baseline !== undefined ? `${fmt(r.baseline)} ${r.unit} (${r.baselineName})` : '';
  const ok = r.pass === undefined ? '' : r.pass ? 'yes' : 'NO';
  console.log(`| ${r.section} | ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${r.ratio !== undefined ? fmt(r.ratio) + '×' : ''} | ${r.target ?? ''} | ${ok} |`);
}
writeFileSync(join(workRoot, 'results.json'), JSON.stringify({ when: new Date().toISOString(), node: process.version, rows }, null, 2));
