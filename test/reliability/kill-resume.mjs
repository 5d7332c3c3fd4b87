#!/usr/bin/env node
// Kill and resume: for each of `dvs track`, `checkout`, `push` and `pull`, start the command, send it
// SIGKILL at a random moment within its measured duration, run it again, and check that nothing is lost
// or corrupt and that the re-run finished the job:
//   - every object in the cache and on the remote is named by the sha256 of its bytes (checked right
//     after the kill and after the re-run), and no manifest is on the remote without all its files;
//   - the workspace holds exactly the expected files (content and executable bit);
//   - no temp file of dvs's is left in the workspace, in the cache's or the remote's tmp/;
//   - the re-run exits 0, and then `dvs status` says clean; a re-run track has written, staged and
//     audited its pointers.
//
// Plain Node on the built CLI (bin/dvs.js). Used by `npm run bench -- reliability` (100 kills per command,
// 5,000 small files and a 300 MB file) and by test/e2e/kill-resume.test.ts (a few kills, small data).
// Standalone: node test/reliability/kill-resume.mjs [--kills N] [--files N] [--big-mb N] [--seed N] [--work DIR]
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DVS = join(PROJECT, 'bin', 'dvs.js');
export const COMMANDS = ['track', 'checkout', 'push', 'pull'];

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'kill-resume', GIT_AUTHOR_EMAIL: 'kill-resume@example.com',
  GIT_COMMITTER_NAME: 'kill-resume', GIT_COMMITTER_EMAIL: 'kill-resume@example.com',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0',
};
const MANIFEST_HEADER = 'dvs-manifest 1\n';
/** Any name a dvs temp file has had in the workspace: the current one, and 0.1's two. */
const TEMP_NAME = /\.dvs-tmp-[0-9a-f]+$|^\..+\.[0-9a-f]{8}\.tmp$/;
/** A top-level file whose name (244 bytes of UTF-8) leaves little room for temp names beside it. */
const LONG_NAME = `${'ü'.repeat(120)}.csv`;

/**
 * Run the kill-and-resume rounds. Returns one row per command and the problems found (empty when all
 * is well). Options: work (a scratch directory, emptied), kills (per command), files (small files),
 * bigBytes, seed, commands, timeEachMode, log.
 */
export async function killResume(options = {}) {
  const h = new Harness({
    work: options.work ?? join(tmpdir(), `dvs-kill-resume-${process.pid}`),
    kills: options.kills ?? 100,
    files: options.files ?? 5000,
    bigBytes: options.bigBytes ?? 300 << 20,
    seed: options.seed ?? (Date.now() % 1e9),
    commands: options.commands ?? COMMANDS,
    // Time each way of preparing a round on its own (else the partial rounds use the full duration).
    timeEachMode: options.timeEachMode ?? true,
    log: options.log ?? (() => {}),
  });
  return h.run();
}

class Harness {
  constructor(o) {
    Object.assign(this, o);
    this.repo = join(o.work, 'repo');
    this.remote = join(o.work, 'remote');
    this.cache = join(this.repo, '.dvs', 'cache');
    this.random = mulberry32(o.seed);
    this.hashes = new Map();
    this.problems = [];
  }

  async run() {
    rmSync(this.work, { recursive: true, force: true });
    mkdirSync(this.work, { recursive: true });
    this.setUp();
    const rows = [];
    // Each command's rounds start from what the previous command left: a tracked, then pushed repository.
    for (const command of COMMANDS) {
      const row = await this.rounds(command, this.commands.includes(command));
      if (row) rows.push(row);
    }
    return { seed: this.seed, rows, problems: this.problems };
  }

  setUp() {
    mkdirSync(this.repo);
    this.git('init', '-q', '-b', 'main');
    this.git('commit', '-q', '--allow-empty', '-m', 'init');
    this.dvsSync(['init']);
    this.dvsSync(['remote', 'add', '-d', 'storage', this.remote]);
    this.git('commit', '-q', '-m', 'dvs init');
    this.log(`generating ${this.files} small files and a ${(this.bigBytes / 2 ** 20).toFixed(0)} MB file`);
    this.expected = generate(this.repo, this.files, this.bigBytes, this.random);
    this.targets = ['data', 'big.bin', LONG_NAME];
    this.pointerOids = expectedPointerOids(this.expected);
    this.smallPaths = [...this.expected.keys()].filter((p) => p.startsWith('data/'));
  }

  /** The rounds of one command; `measured` false: just run it once, to set up the next command. */
  async rounds(command, measured) {
    const prepare = this[`prepare_${command}`].bind(this);
    const args = command === 'track' ? ['track', ...this.targets] : [command];
    // Reference runs, one per way of preparing: the durations the kills are spread over. The last one
    // leaves the state the next command needs.
    const durations = {};
    for (const mode of measured && this.timeEachMode ? ['partial', 'full'] : ['full']) {
      prepare(mode);
      const reference = await runDvs(this.repo, args);
      if (reference.code !== 0) throw new Error(`dvs ${command} failed before any kill (${reference.code}): ${reference.stderr}`);
      this.checkFinished(command, `reference run (${mode})`);
      durations[mode] = reference.ms;
    }
    if (!measured) return undefined;
    durations.partial ??= durations.full;
    const row = { command, kills: 0, finishedFirst: 0, reruns: 0, rerunsOk: 0, objectsChecked: 0, corrupt: 0, incompleteManifests: 0, lostOrChanged: 0, leftovers: 0, durationMs: Math.round(durations.full) };
    const spent = { prepare: 0, killed: 0, rerun: 0, checks: 0 };
    let mark = Date.now();
    const lap = (phase) => {
      spent[phase] += Date.now() - mark;
      mark = Date.now();
    };
    this.log(`${command}: reference runs ${Math.round(durations.full)} ms (full), ${Math.round(durations.partial)} ms (partial); ${this.kills} kills`);
    let attempt = 0;
    // A run that finishes before its kill was faster than the reference run (a partial preparation, a
    // quieter moment): later kills come earlier, so that a busy or a fast machine still gets its kills.
    let scale = 1;
    while (row.kills < this.kills && attempt < this.kills * 4) {
      // Stratified: kill i falls in the i-th slice of the duration, at a random place within it.
      const slice = (row.kills + this.random()) / this.kills;
      const mode = this.random() < 0.5 ? 'full' : 'partial';
      const delay = Math.max(1, Math.round(slice * durations[mode] * scale));
      mark = Date.now();
      prepare(mode);
      lap('prepare');
      attempt++;
      const killed = await runDvs(this.repo, args, { killAfterMs: delay });
      lap('killed');
      if (!killed.killed) {
        row.finishedFirst++;
        scale *= 0.6;
        if (killed.code !== 0) this.problem(`${command} (${mode}): a run that was not killed exited ${killed.code}: ${killed.stderr.trim().split('\n')[0]}`);
        continue;
      }
      row.kills++;
      const where = `${command} (${mode}), kill ${row.kills} at ${delay} ms`;
      this.checkStores(row, `${where}, after the kill`);
      lap('checks');
      const rerun = await runDvs(this.repo, args);
      lap('rerun');
      row.reruns++;
      if (rerun.code === 0) row.rerunsOk++;
      else this.problem(`${where}: the re-run exited ${rerun.code}: ${rerun.stderr.trim().split('\n').slice(0, 4).join(' | ')}`);
      this.checkStores(row, `${where}, after the re-run`);
      this.checkFinished(command, where, row);
      lap('checks');
      if (row.kills % 10 === 0) this.log(`${command}: ${row.kills} kills, ${this.problems.length} problems so far (seconds spent: ${Object.entries(spent).map(([k, v]) => `${k} ${(v / 1000).toFixed(0)}`).join(', ')})`);
    }
    return row;
  }

  // --- preparing each round: undo (part of) what the command does, so that it has work to do

  prepare_track(mode) {
    this.git('reset', '-q');
    for (const t of this.targets) rmSync(join(this.repo, `${t}.dvs`), { force: true });
    rmSync(join(this.repo, '.gitignore'), { force: true });
    rmSync(join(this.repo, '.dvs', 'audit'), { recursive: true, force: true });
    removeState(this.repo);
    // partial: the cache keeps a random half of its objects.
    if (mode === 'full') rmSync(this.cache, { recursive: true, force: true });
    else this.dropObjects(this.cache, 0.5);
  }

  prepare_checkout(mode) {
    if (this.random() < 0.3) removeState(this.repo);
    if (mode === 'full') {
      for (const t of this.targets) rmSync(join(this.repo, t), { recursive: true, force: true });
      return;
    }
    // Deleted files, files holding another tracked file's bytes (safe in the cache, so checkout may
    // overwrite them), and extra files whose bytes are in the cache (so checkout may delete them).
    const pick = () => this.smallPaths[Math.floor(this.random() * this.smallPaths.length)];
    for (const p of this.smallPaths) {
      const r = this.random();
      if (r < 0.2) rmSync(join(this.repo, p), { force: true });
      else if (r < 0.3) this.placeObject(this.expected.get(pick()).sha, p);
    }
    for (let i = 0; i < 20; i++) this.placeObject(this.expected.get(pick()).sha, `${dirname(pick())}/extra-${i}.bin`);
    if (this.random() < 0.5) rmSync(join(this.repo, 'big.bin'), { force: true });
    if (this.random() < 0.5) rmSync(join(this.repo, LONG_NAME), { force: true });
  }

  prepare_push(mode) {
    // The remote changes behind this clone's back here, so its record of the remote goes too.
    rmSync(join(this.repo, '.dvs', 'tmp', 'remotes'), { recursive: true, force: true });
    if (mode === 'full') {
      rmSync(this.remote, { recursive: true, force: true });
      return;
    }
    // A random half of the objects, and every manifest: a manifest there vouches for all its files.
    this.dropObjects(this.remote, 0.5, true);
  }

  prepare_pull(mode) {
    removeState(this.repo);
    if (mode === 'full') {
      rmSync(this.cache, { recursive: true, force: true });
      for (const t of this.targets) rmSync(join(this.repo, t), { recursive: true, force: true });
      return;
    }
    this.dropObjects(this.cache, 0.5);
    for (const p of this.expected.keys()) if (this.random() < 0.3) rmSync(join(this.repo, p), { force: true });
  }

  placeObject(sha, rel) {
    const dest = join(this.repo, rel);
    rmSync(dest, { force: true });
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(this.cache, sha.slice(0, 2), sha.slice(2)), dest);
    chmodSync(dest, 0o644);
  }

  dropObjects(root, fraction, allManifests = false) {
    for (const { path } of listObjects(root)) {
      if (this.random() < fraction || (allManifests && isManifest(path))) rmSync(path, { force: true });
    }
  }

  // --- checks

  /** Cache and remote: every object hashes to its name; no remote manifest lacks a file. */
  checkStores(row, where) {
    for (const [label, root] of [['cache', this.cache], ['remote', this.remote]]) {
      const present = new Set();
      const manifests = [];
      for (const { path, oid } of listObjects(root)) {
        const got = this.hashOf(path);
        if (row) row.objectsChecked++;
        if (got === undefined) continue; // deleted while listed
        present.add(oid);
        if (got.sha !== oid) {
          if (row) row.corrupt++;
          this.problem(`${where}: ${label} object ${oid.slice(0, 12)} is corrupt (its bytes hash to ${got.sha.slice(0, 12)})`);
          continue;
        }
        if (got.manifest) manifests.push(path);
      }
      if (label !== 'remote') continue;
      for (const path of manifests) {
        const missing = manifestOids(readFileSync(path, 'utf8')).filter((o) => !present.has(o));
        if (missing.length) {
          if (row) row.incompleteManifests++;
          this.problem(`${where}: the remote has manifest ${oidOf(path).slice(0, 12)} without ${missing.length} of its files`);
        }
      }
    }
  }

  /** After a run that exited 0: the job is done, and nothing is left behind. */
  checkFinished(command, where, row) {
    const problem = (m, field) => {
      if (row && field) row[field]++;
      this.problem(`${where}: ${m}`);
    };
    // The workspace: exactly the expected files, and no temp file anywhere.
    const found = new Map();
    walk(this.repo, '', (rel, abs, st) => found.set(rel, { abs, st }), (rel) => rel === '.git' || rel === '.dvs');
    for (const [rel, want] of this.expected) {
      const f = found.get(rel);
      if (!f) problem(`${rel} is missing from the workspace`, 'lostOrChanged');
      else if (this.hashOf(f.abs)?.sha !== want.sha) problem(`${rel} does not hold its expected bytes`, 'lostOrChanged');
      else if (((Number(f.st.mode) & 0o100) !== 0) !== want.exec) problem(`${rel} has the wrong executable bit`, 'lostOrChanged');
    }
    for (const rel of found.keys()) {
      const name = rel.slice(rel.lastIndexOf('/') + 1);
      if (TEMP_NAME.test(name)) problem(`temp file left in the workspace: ${rel}`, 'leftovers');
      else if (rel.startsWith('data/') && !this.expected.has(rel)) problem(`unexpected file in the workspace: ${rel}`, 'lostOrChanged');
    }
    for (const dir of [join(this.cache, 'tmp'), join(this.remote, 'tmp')]) {
      const left = existsSync(dir) ? readdirSync(dir) : [];
      if (left.length) problem(`${left.length} temp files left in ${dir.slice(this.work.length + 1)}`, 'leftovers');
    }
    if (existsSync(join(this.repo, '.dvs', 'tmp', 'lock'))) problem('the repository lock is still there', 'leftovers');
    // The pointers name the data, and `dvs status` agrees with the workspace.
    for (const t of this.targets) {
      const oid = pointerOid(join(this.repo, `${t}.dvs`));
      if (oid !== this.pointerOids.get(t)) problem(`${t}.dvs names ${oid?.slice(0, 12)}, expected ${this.pointerOids.get(t).slice(0, 12)}`, 'lostOrChanged');
    }
    const status = runDvsSync(this.repo, ['status', '--json']);
    let clean = false;
    try {
      clean = JSON.parse(status.stdout).clean === true;
    } catch {
      clean = false;
    }
    if (status.code !== 0 || !clean) problem(`dvs status is not clean (exit ${status.code}): ${status.stdout.slice(0, 300)}${status.stderr.slice(0, 300)}`);
    if (command === 'track') this.checkTrackFinished(problem);
    if (command === 'push') this.checkRemoteComplete(problem);
  }

  /** A track that finished: pointers and .gitignore staged, one audit event per target's version. */
  checkTrackFinished(problem) {
    const staged = new Set(this.git('diff', '--cached', '--name-only', '-z').split('\0'));
    const unstaged = new Set(this.git('ls-files', '-z', '--others', '--modified', '--exclude-standard').split('\0'));
    for (const f of [...this.targets.map((t) => `${t}.dvs`), '.gitignore']) {
      if (!staged.has(f) || unstaged.has(f)) problem(`${f} is not staged as written`);
    }
    const audited = new Set();
    const dir = join(this.repo, '.dvs', 'audit');
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (!name.endsWith('.json')) continue;
      const event = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      if (event.type === 'track') for (const p of event.paths) audited.add(`${p.path} ${p.oid.replace(/^sha256:/, '')}`);
    }
    for (const t of this.targets) if (!audited.has(`${t} ${this.pointerOids.get(t)}`)) problem(`no audit event records the track of ${t}`);
    const unstagedEvents = this.git('ls-files', '-z', '--others', '--exclude-standard', '--', '.dvs/audit').split('\0').filter(Boolean);
    if (unstagedEvents.length) problem(`audit events left unstaged: ${unstagedEvents.join(', ')}`);
  }

  /** A push that finished: the remote holds every object the pointers need. */
  checkRemoteComplete(problem) {
    const there = new Set(listObjects(this.remote).map((o) => o.oid));
    const needed = [...this.pointerOids.values(), ...[...this.expected.values()].map((e) => e.sha)];
    const missing = needed.filter((o) => !there.has(o));
    if (missing.length) problem(`the remote lacks ${missing.length} objects after the push`, 'lostOrChanged');
  }

  /** sha256 of a file, remembered by its stamp: an object is re-read only if something touched it. */
  hashOf(path) {
    let st;
    try {
      st = statSync(path, { bigint: true });
    } catch {
      return undefined;
    }
    const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const known = this.hashes.get(path);
    if (known?.key === key) return known;
    const r = hashFile(path);
    if (r === undefined) return undefined;
    const entry = { key, ...r };
    this.hashes.set(path, entry);
    return entry;
  }

  problem(message) {
    this.problems.push(message);
    this.log(`PROBLEM ${message}`);
  }

  git(...args) {
    const r = spawnSync('git', args, { cwd: this.repo, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  dvsSync(args) {
    const r = runDvsSync(this.repo, args);
    if (r.code !== 0) throw new Error(`dvs ${args.join(' ')}: ${r.stderr}`);
    return r;
  }
}

// --- running dvs

function dvsEnv() {
  const env = { ...process.env, ...GIT_ENV, CI: 'true' };
  delete env.NODE_OPTIONS;
  return env;
}

function runDvsSync(cwd, args) {
  const r = spawnSync(process.execPath, [DVS, ...args], { cwd, env: dvsEnv(), encoding: 'utf8', maxBuffer: 1 << 28 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Run dvs; with killAfterMs, SIGKILL it then (only dvs: the children it started, like `git add`, run
 * on as they would after a real kill, and the next run waits until they are gone).
 */
function runDvs(cwd, args, { killAfterMs } = {}) {
  return new Promise((resolvePromise) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [DVS, ...args], { cwd, env: dvsEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => {
      killed = child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
    }, killAfterMs);
    child.on('close', async (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await groupGone(child.pid);
      resolvePromise({ code: code ?? -1, signal, stdout, stderr, ms, killed: killed && signal === 'SIGKILL' });
    });
  });
}

async function groupGone(pgid) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

// --- data

function generate(repo, files, bigBytes, random) {
  const expected = new Map();
  const block = randomBytes(1 << 20);
  for (let i = 0; i < files; i++) {
    const rel = `data/d${String(i % 50).padStart(2, '0')}/f${String(i).padStart(5, '0')}.bin`;
    const size = Math.round(Math.exp(Math.log(64) + random() * (Math.log(16384) - Math.log(64))));
    const off = Math.floor(random() * (block.length - size));
    const buf = Buffer.from(block.subarray(off, off + size));
    buf.write(`file ${i} `, 0); // unique bytes: no two files share an object
    const abs = join(repo, rel);
    mkdirSync(dirname(abs), { recursive: true });
    const exec = i % 97 === 0;
    writeFileSync(abs, buf, { mode: exec ? 0o755 : 0o644 });
    expected.set(rel, { sha: sha256(buf), size: buf.length, exec });
  }
  const big = randomBytes(16 << 20);
  const hash = createHash('sha256');
  const fd = openSync(join(repo, 'big.bin'), 'w');
  for (let left = bigBytes, n = 0; left > 0; n++) {
    big.writeUInt32LE(n, 0); // every block differs
    const len = Math.min(left, big.length);
    writeSync(fd, big, 0, len);
    hash.update(big.subarray(0, len));
    left -= len;
  }
  closeSync(fd);
  expected.set('big.bin', { sha: hash.digest('hex'), size: bigBytes, exec: false });
  const long = Buffer.from('id,name\n1,long\n');
  writeFileSync(join(repo, LONG_NAME), long);
  expected.set(LONG_NAME, { sha: sha256(long), size: long.length, exec: false });
  return expected;
}

/** The oids the pointers must name: the files' hashes, and the data directory's manifest's. */
function expectedPointerOids(expected) {
  const lines = [...expected].filter(([p]) => p.startsWith('data/')).map(([p, e]) => [p.slice(5), e]);
  lines.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const manifest = MANIFEST_HEADER + lines.map(([p, e]) => `${e.sha} ${e.size} ${e.exec ? 'x' : '-'} ${p}\n`).join('');
  return new Map([['data', sha256(manifest)], ['big.bin', expected.get('big.bin').sha], [LONG_NAME, expected.get(LONG_NAME).sha]]);
}

function removeState(repo) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(repo, '.dvs', 'tmp', `state.sqlite${suffix}`), { force: true });
}

// --- stores and files

function listObjects(root) {
  const out = [];
  let shards;
  try {
    shards = readdirSync(root).filter((s) => /^[0-9a-f]{2}$/.test(s));
  } catch {
    return out;
  }
  for (const s of shards) {
    for (const name of readdirSync(join(root, s))) out.push({ path: join(root, s, name), oid: s + name });
  }
  return out;
}

function oidOf(path) {
  return path.slice(-65).replace('/', '');
}

function isManifest(path) {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(MANIFEST_HEADER.length);
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.toString('latin1') === MANIFEST_HEADER;
  } finally {
    closeSync(fd);
  }
}

function manifestOids(text) {
  return text.split('\n').slice(1).filter(Boolean).map((line) => line.slice(0, 64));
}

function pointerOid(path) {
  try {
    return /^oid: sha256:([0-9a-f]{64})$/m.exec(readFileSync(path, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

function hashFile(path) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(4 << 20);
    let head = '';
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      if (pos === 0) head = buf.toString('latin1', 0, Math.min(n, MANIFEST_HEADER.length));
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    return { sha: hash.digest('hex'), manifest: head === MANIFEST_HEADER };
  } finally {
    closeSync(fd);
  }
}

function walk(root, rel, onFile, skip) {
  for (const e of readdirSync(rel ? join(root, rel) : root, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (skip(r)) continue;
    if (e.isDirectory()) walk(root, r, onFile, skip);
    else onFile(r, join(root, r), statSync(join(root, r), { bigint: true, throwIfNoEntry: false }) ?? { mode: 0n });
  }
}

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** A small seeded generator: the same seed gives the same data and kill schedule (not timing). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One line per command: what was killed, how often, and what the checks found. */
export function formatRows(rows) {
  const lines = ['| command | kills | finished before the kill | re-runs exit 0 | object checks | corrupt objects | manifests without their files | lost or changed files | leftovers |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    lines.push(`| dvs ${r.command} | ${r.kills} | ${r.finishedFirst} | ${r.rerunsOk}/${r.reruns} | ${r.objectsChecked} | ${r.corrupt} | ${r.incompleteManifests} | ${r.lostOrChanged} | ${r.leftovers} |`);
  }
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const started = Date.now();
  const result = await killResume({
    work: arg('work', undefined),
    kills: Number(arg('kills', 10)),
    files: Number(arg('files', 5000)),
    bigBytes: Number(arg('big-mb', 300)) * 2 ** 20,
    seed: arg('seed') === undefined ? undefined : Number(arg('seed')),
    commands: arg('commands', COMMANDS.join(',')).split(','),
    log: (m) => console.error(m),
  });
  console.log(formatRows(result.rows));
  console.log(`seed ${result.seed}; ${result.problems.length} problems; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exitCode = result.problems.length ? 1 : 0;
}
