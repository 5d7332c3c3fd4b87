import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DVS = join(PROJECT, 'bin', 'dvs.js');

/** Git with fixed identity and config, so tests never depend on the machine's settings. */
export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: 'Test User',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test User',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A tree literal: path -> content (string or Buffer). */
export type Tree = Record<string, string | Buffer>;

export function writeTree(root: string, tree: Tree): void {
  for (const [path, content] of Object.entries(tree)) {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

const made: string[] = [];

export function tempDir(prefix = 'dvs-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 3 });
}

export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A fresh Git repository (branch main) with `tree` committed, and optionally dvs initialised. */
export function gitRepo(tree: Tree = {}, options: { init?: boolean } = {}): string {
  const dir = tempDir();
  git(dir, 'init', '-q', '-b', 'main');
  writeTree(dir, { 'README.md': '# test\n', ...tree });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  if (options.init !== false) {
    // What `dvs init` makes is the same in every repository: copied from one real `dvs init` per test
    // process, it saves a CLI start per repository (core.test.ts runs `dvs init` itself).
    for (const name of ['.dvs', '.dvsignore']) cpSync(join(initTemplate(), name), join(dir, name), { recursive: true });
    git(dir, 'add', '.dvs', '.dvsignore');
    git(dir, 'commit', '-q', '-m', 'dvs init');
  }
  return dir;
}

let template: string | undefined;

/** A repository that `dvs init` set up, made again when a file's cleanup removed it. */
function initTemplate(): string {
  if (template && existsSync(join(template, '.dvs', 'config'))) return template;
  const dir = tempDir('dvs-init-template-');
  git(dir, 'init', '-q', '-b', 'main');
  const r = dvsSync(dir, 'init');
  if (r.code !== 0) throw new Error(`dvs init failed: ${r.stderr}`);
  template = dir;
  return dir;
}

function env(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, ...GIT_ENV, CI: 'true', ...extra };
  delete e.NODE_OPTIONS;
  return e;
}

/** Run the built CLI synchronously. */
export function dvsSync(cwd: string, ...args: string[]): RunResult {
  const r = spawnSync(process.execPath, [DVS, ...args], { cwd, env: env(), encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Run the built CLI. */
export function dvs(cwd: string, args: string[], options: { env?: Record<string, string>; uid?: number; gid?: number } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, rejectPromise) => {
    const child = spawn(process.execPath, [DVS, ...args], { cwd, env: env(options.env), uid: options.uid, gid: options.gid });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    // A CLI that cannot start (a Node the test's user may not run) fails the test at once, not at its timeout.
    child.on('error', rejectPromise);
  });
}

/** Run dvs and fail the test, with its output, unless it exits 0. */
export async function dvsOk(cwd: string, args: string[]): Promise<RunResult> {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/**
 * Set keys (dotted: `remote.origin.url`) in .dvs/<file> (config, config.local) as a user would edit it
 * (undefined removes), without starting dvs: for set-up, where the command itself is not what a test is about.
 */
export function setDvsConfig(repo: string, values: Record<string, unknown>, file = 'config'): void {
  const path = join(repo, '.dvs', file);
  const doc = parseDocument(existsSync(path) ? readFileSync(path, 'utf8') : '');
  if (!doc.contents) doc.contents = doc.createNode({}) as never;
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) doc.deleteIn(k.split('.'));
    else doc.setIn(k.split('.'), v);
  }
  writeFileSync(path, doc.toString());
}

/** Parse --json output, failing the test with the output when it is not JSON. */
export function json<T = any>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

/** Pseudo-random bytes from a seed, the same on every run. */
export function seeded(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
