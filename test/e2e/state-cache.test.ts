import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DVS, GIT_ENV, cleanupTempDirs, gitRepo, tempDir, type RunResult } from '../helpers.js';

afterAll(cleanupTempDirs);

// The state cache's SQLite engine is chosen at run time: node:sqlite where Node has it unflagged
// (22.13+), else the optional better-sqlite3 addon. These tests make better-sqlite3 unloadable (a preload
// refuses it) so that Node 22+ must prove it needs no native addon, and Node 20 must fail clearly.
const [major, minor] = process.versions.node.split('.').map(Number);
const builtin = major > 22 || (major === 22 && minor >= 13);

function blocker(): string {
  const path = join(tempDir('dvs-block-'), 'block-better-sqlite3.cjs');
  writeFileSync(
    path,
    `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/better[-_]sqlite3/.test(request)) throw new Error('better-sqlite3 blocked by the test');
  return load.call(this, request, ...rest);
};
`,
  );
  return path;
}

function run(cwd: string, args: string[], env: Record<string, string> = {}, preload?: string): RunResult {
  const e: NodeJS.ProcessEnv = { ...process.env, ...GIT_ENV, CI: 'true', ...env };
  delete e.NODE_OPTIONS;
  const r = spawnSync(process.execPath, [...(preload ? ['--require', preload] : []), DVS, ...args], { cwd, env: e, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function oldData(dir: string, n: number): void {
  mkdirSync(dir, { recursive: true });
  const past = new Date(Date.now() - 3600_000);
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`);
    utimesSync(join(dir, `f${i}.txt`), past, past);
  }
}

describe('state cache engine', () => {
  it.runIf(builtin)('Node 22.13+ uses the built-in node:sqlite: dvs works with better-sqlite3 unloadable, with no warning', () => {
    const repo = gitRepo();
    oldData(join(repo, 'data'), 20);
    const block = blocker();
    const first = run(repo, ['track', 'data'], {}, block);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('hashed 20 files');
    expect(existsSync(join(repo, '.dvs', 'tmp', 'state.sqlite'))).toBe(true);
    // The stamps were recorded: nothing is read again.
    const again = run(repo, ['track', 'data'], {}, block);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('unchanged');
    const status = run(repo, ['status'], {}, block);
    expect(status.code).toBe(0);
    expect(status.stderr).toBe('');
    expect(status.stdout).toContain('Everything matches its pointer.');
  });

  it('without node:sqlite and without better-sqlite3, a command that needs the state cache fails as an environment error', () => {
    const repo = gitRepo();
    oldData(join(repo, 'data'), 3);
    // Node 22+: DVS_SQLITE=better-sqlite3 stands in for a Node without node:sqlite.
    const r = run(repo, ['track', 'data'], { DVS_SQLITE: 'better-sqlite3' }, blocker());
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^dvs: error: no SQLite engine for the state cache: .*better-sqlite3 did not load/m);
    expect(r.stderr).toContain('npm install better-sqlite3');
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // Nothing was half-written: the pointer is not there and the cache holds no object.
    expect(existsSync(join(repo, 'data.dvs'))).toBe(false);
  });
});
