/** Two versions of a small table for the report tests: a shifted numeric column, new nulls, a new category, hostile cells. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dvs, git, gitRepo, writeTree } from '../helpers.js';

/** Cells and a column name that would run script, or break out of an attribute, if not escaped. */
export const HOSTILE = ['<script>window.__xss=1</script>', '"><img src=x onerror="window.__xss=2">', "'><svg onload=window.__xss=3>"];
export const HOSTILE_COLUMN = '<b onmouseover=window.__xss=4>bold</b>';

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** A deterministic pseudo-random sequence (the test must not change between runs). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

export function tableCsv(version: 1 | 2): string {
  const rand = lcg(version);
  const domains = version === 1 ? ['news', 'web', 'books'] : ['news', 'web', 'books', 'code'];
  const lines = [['id', 'score', 'domain', HOSTILE_COLUMN].map(csvCell).join(',')];
  for (let i = 0; i < 400; i++) {
    // Roughly normal (a sum of uniforms), mean 50 → 60; version 2 has a null every 20th row.
    const score = (version === 1 ? 50 : 60) + (rand() + rand() + rand() - 1.5) * (version === 1 ? 20 : 30);
    const cell = version === 2 && i % 20 === 0 ? '' : score.toFixed(2);
    const note = version === 2 && i < HOSTILE.length ? HOSTILE[i]! : `n${i % 7}`;
    lines.push([String(i), cell, domains[Math.floor(rand() * domains.length)]!, note].map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/** A repository with data/table.csv committed at version 1 and version 2 in the workspace. */
export async function reportRepo(): Promise<string> {
  const repo = gitRepo();
  writeTree(repo, { 'data/table.csv': tableCsv(1) });
  const t = await dvs(repo, ['track', 'data/table.csv']);
  if (t.code !== 0) throw new Error(t.stderr);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'version 1');
  writeFileSync(join(repo, 'data/table.csv'), tableCsv(2));
  return repo;
}
