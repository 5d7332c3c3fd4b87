import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GIT_ENV, PROJECT, cleanupTempDirs, git, tempDir, writeTree } from '../helpers.js';

// The package a user installs: `npm pack`, then `npm install -g` of the tarball with an empty npm cache,
// into a prefix of its own, and dvs run from there in a repository outside the source tree. Slow: npm
// fetches ~200 packages (and, on Node 20, may build the SQLite addon), hence the long timeout.
afterAll(cleanupTempDirs);

const NODE_BIN = dirname(process.execPath);
const [MAJOR, MINOR] = process.versions.node.split('.').map(Number);
/**
 * Node 22.13+ has node:sqlite, so the optional better-sqlite3 addon need not be built: --ignore-scripts,
 * as the README advises (npm keeps a global package's optional dependencies even with --omit=optional).
 */
const NEEDS_ADDON = MAJOR < 22 || (MAJOR === 22 && MINOR < 13);

/** The environment of a user's shell: this Node first on PATH, none of the npm settings of `npm test`. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...GIT_ENV, PATH: `${NODE_BIN}:${process.env.PATH}`, ...extra };
  for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key];
  delete env.NODE_OPTIONS;
  return env;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.status, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** The budget the README states: "tarball budget: N kB". */
function budgetBytes(): number {
  const m = /tarball budget: (\d+) kB/.exec(readFileSync(join(PROJECT, 'README.md'), 'utf8'));
  if (!m) throw new Error('README.md states no "tarball budget: N kB"');
  return Number(m[1]) * 1000;
}

describe('the installed package', () => {
  it('packs only what runs, within the README budget, and installs and runs outside the source tree', { timeout: 20 * 60_000 }, () => {
    const work = tempDir('dvs-package-');
    const cache = join(work, 'npm-cache'); // empty: everything comes from the registry and the tarball
    // --ignore-scripts: no `prepare` rebuild while other test files run the built CLI (npm test built it).
    const packed = JSON.parse(ok(spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, '--cache', cache], { cwd: PROJECT, env: userEnv(), encoding: 'utf8' }), 'npm pack'))[0] as {
      filename: string;
      size: number;
      files: Array<{ path: string }>;
    };
    const files = packed.files.map((f) => f.path);
    expect(files).toContain('bin/dvs.js');
    expect(files).toContain('dist/bundle/main.js');
    expect(files).toContain('dist/bundle/hook-main.cjs'); // the hooks' single-file entry (scripts/bundle.mjs)
    expect(files).toContain('dist/bundle/yaml.cjs'); // the YAML library, loaded on first use (scripts/bundle.mjs)
    expect(files).toContain('hooks/post-checkout');
    expect(files).toContain('templates/ci/dvs-diff.yml');
    const stray = files.filter((f) => !/^(bin|dist\/bundle|hooks|templates|docs)\/|^(package\.json|README\.md|LICENSE)$/.test(f) || f.endsWith('.map') || f.endsWith('.ts'));
    expect(stray).toEqual([]);
    expect(packed.size).toBeLessThanOrEqual(budgetBytes());

    const prefix = join(work, 'prefix');
    const install = ['install', '-g', '--prefix', prefix, '--cache', cache, '--no-audit', '--no-fund', ...(NEEDS_ADDON ? [] : ['--ignore-scripts']), join(work, packed.filename)];
    ok(spawnSync('npm', install, { cwd: work, env: userEnv(), encoding: 'utf8' }), `npm ${install.join(' ')}`);

    // A user's repository, far from the source tree; dvs found on PATH from the install prefix only.
    const repo = join(work, 'project');
    writeTree(repo, { 'README.md': '# project\n', 'data/a.csv': 'id\n1\n', 'data/b.csv': 'id\n2\n' });
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', 'README.md');
    git(repo, 'commit', '-q', '-m', 'code');
    const env = userEnv({ PATH: `${join(prefix, 'bin')}:${NODE_BIN}:/usr/bin:/bin`, CI: 'true' });
    const dvs = (...args: string[]) => spawnSync('dvs', args, { cwd: repo, env, encoding: 'utf8' });
    expect(ok(dvs('--version'), 'dvs --version').trim()).toBe(JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')).version);
    ok(dvs('init'), 'dvs init');
    expect(ok(dvs('track', 'data'), 'dvs track')).toContain('data.dvs');
    const status = JSON.parse(ok(dvs('status', '--json'), 'dvs status'));
    expect(status.clean).toBe(true);
    // A hook runs from its own CommonJS entry: deleted data comes back on a same-commit checkout.
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    rmSync(join(repo, 'data', 'a.csv'));
    ok(dvs('hook', 'post-checkout', head, head, '1'), 'dvs hook post-checkout');
    expect(readFileSync(join(repo, 'data', 'a.csv'), 'utf8')).toBe('id\n1\n');
    // A pointer written by hand (a quoted value) is read by the YAML library, which the bundle loads from
    // its own file on first use: it must be there, and found, in the installed package.
    const pointer = readFileSync(join(repo, 'data.dvs'), 'utf8');
    writeFileSync(join(repo, 'data.dvs'), pointer.replace(/^oid: (\S+)$/m, 'oid: "$1"'));
    expect(readFileSync(join(repo, 'data.dvs'), 'utf8')).toContain('oid: "sha256:');
    expect(JSON.parse(ok(dvs('status', '--json'), 'dvs status of a hand-written pointer')).clean).toBe(true);
    // Nothing of the source tree was used: the code that ran is the installed copy.
    const installed = join(prefix, 'lib', 'node_modules', 'dvs');
    expect(ok(spawnSync('sh', ['-c', 'readlink -f "$(command -v dvs)"'], { env, encoding: 'utf8' }), 'which dvs').trim()).toBe(join(installed, 'bin', 'dvs.js'));
  });
});
