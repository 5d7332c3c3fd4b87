import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';
// @ts-expect-error a plain JavaScript module (also run by `npm run bench -- reliability`)
import { formatRows, killResume } from '../reliability/kill-resume.mjs';

afterAll(cleanupTempDirs);

/** A pid that was just in use and is not any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('close', r));
  return child.pid!;
}

const hostTag = () => createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

describe('killed commands resume cleanly', () => {
  it('track, checkout, push and pull killed at random moments: re-runs finish, nothing lost, corrupt or left behind', async () => {
    const result = await killResume({ work: tempDir('dvs-kill-'), kills: 3, files: 120, bigBytes: 4 << 20, timeEachMode: false });
    expect(result.problems, `seed ${result.seed}\n${formatRows(result.rows)}`).toEqual([]);
    expect(result.rows.map((r: { command: string }) => r.command)).toEqual(['track', 'checkout', 'push', 'pull']);
    for (const row of result.rows) {
      expect(row.kills).toBe(3);
      expect(row.rerunsOk).toBe(row.reruns);
    }
  }, 240_000);
});

describe('temp files of killed commands', () => {
  it('are never data: status is clean, track leaves them out, checkout removes them and only them', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/a.csv': 'a\n', 'data/sub/b.csv': 'b\n', 'model.bin': 'weights' });
    expect((await dvs(repo, ['track', 'data', 'model.bin'])).code).toBe(0);
    // What a checkout killed mid-copy leaves (a partial copy, not in the cache), in 0.1's naming too,
    // and what a killed track leaves beside a pointer; and a user's file that merely looks similar.
    const leftovers = ['data/sub/.b.csv.dvs-tmp-0123456789abcdef', 'data/.a.csv.dvs-tmp-e70edf4d', '.model.bin.dvs-tmp-fedcba9876543210', '.model.bin.dvs.dvs-tmp-00112233445566ff'];
    for (const f of leftovers) writeFileSync(join(repo, f), 'half a co');
    writeFileSync(join(repo, 'data/my.dvs-tmp-notes.txt'), 'mine');

    const status = json(await dvs(repo, ['status', '--json']));
    expect(status.entries.find((e: { path: string }) => e.path === 'data').changes.added).toEqual(['my.dvs-tmp-notes.txt']);
    const tracked = await dvs(repo, ['track', 'data']);
    expect(tracked.code).toBe(0);
    expect(read(repo, 'data.dvs')).toContain('files: 3');
    const co = await dvs(repo, ['checkout']);
    expect(co.code, co.stderr).toBe(0);
    for (const f of leftovers) expect(existsSync(join(repo, f)), f).toBe(false);
    expect(read(repo, 'data/my.dvs-tmp-notes.txt')).toBe('mine');
    expect(json(await dvs(repo, ['status', '--json'])).clean).toBe(true);
  });

  it('a checkout killed mid-copy is resumed: the re-run exits 0, restores the files and removes the temps', async () => {
    const repo = gitRepo();
    const tree: Record<string, string> = {};
    for (let i = 0; i < 40; i++) tree[`data/f${i}.txt`] = `file ${i}\n`;
    writeTree(repo, tree);
    expect((await dvs(repo, ['track', 'data'])).code).toBe(0);
    // As the bug was found: five files half copied under temp names, their targets not there yet.
    for (let i = 0; i < 5; i++) {
      rmSync(join(repo, `data/f${i}.txt`));
      writeFileSync(join(repo, `data/.f${i}.txt.dvs-tmp-${String(i).repeat(16)}`), 'fil');
    }
    const r = await dvs(repo, ['checkout']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(repo, 'data')).filter((n) => n.includes('dvs-tmp'))).toEqual([]);
    expect(read(repo, 'data/f3.txt')).toBe('file 3\n');
    expect(json(await dvs(repo, ['status', '--json'])).clean).toBe(true);
  });
});

describe('names near the 255-byte limit', () => {
  it('a 250-byte name (multi-byte characters) is tracked and checked out; a longer one is refused cleanly', async () => {
    const repo = gitRepo();
    const name = `${'é'.repeat(123)}.csv`; // 250 bytes: its pointer has 254
    const tooLong = `${'é'.repeat(125)}.c`; // 252 bytes: its pointer would have 256
    writeTree(repo, { [name]: 'long\n', [tooLong]: 'longer\n' });
    const r = await dvs(repo, ['track', name]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(repo, `${name}.dvs`))).toBe(true);
    rmSync(join(repo, name));
    expect((await dvs(repo, ['checkout', name])).code).toBe(0);
    expect(read(repo, name)).toBe('long\n');

    const refused = await dvs(repo, ['track', tooLong]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('too long for its pointer');
    expect(refused.stderr).not.toContain('internal error');
    expect(readdirSync(repo).filter((n) => n.includes('dvs-tmp') || n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a track interrupted after writing its pointers', () => {
  it('is finished by the next track: pointers staged and the audit event written', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/a.csv': 'a\n', 'b.bin': 'b' });
    // Another Git process holds the index: the pointers are written, staging fails.
    writeFileSync(join(repo, '.git/index.lock'), '');
    const failed = await dvs(repo, ['track', 'data', 'b.bin']);
    expect(failed.code).not.toBe(0);
    expect(existsSync(join(repo, 'data.dvs'))).toBe(true);
    rmSync(join(repo, '.git/index.lock'));

    const again = await dvs(repo, ['track', 'data', 'b.bin']);
    expect(again.code, again.stderr).toBe(0);
    const staged = git(repo, 'diff', '--cached', '--name-only');
    for (const f of ['data.dvs', 'b.bin.dvs', '.gitignore']) expect(staged).toContain(f);
    const events = readdirSync(join(repo, '.dvs/audit')).map((n) => JSON.parse(readFileSync(join(repo, '.dvs/audit', n), 'utf8')));
    const tracks = events.filter((e) => e.type === 'track');
    expect(tracks).toHaveLength(1);
    expect(tracks[0].paths.map((p: { path: string }) => p.path).sort()).toEqual(['b.bin', 'data']);
    expect(existsSync(join(repo, '.dvs/tmp/track-pending.jsonl'))).toBe(false);
    // Nothing left to finish: a third track records nothing.
    expect((await dvs(repo, ['track', 'data', 'b.bin'])).code).toBe(0);
    expect(readdirSync(join(repo, '.dvs/audit'))).toHaveLength(events.length);
  });
});

describe('what killed processes leave in temp directories and the lock', () => {
  it('cache and local-remote temp files of dead processes go at the next command; live ones stay', async () => {
    const repo = gitRepo();
    const remote = tempDir('dvs-remote-');
    writeTree(repo, { 'x.bin': 'x' });
    expect((await dvs(repo, ['remote', 'add', '-d', 'r', remote])).code).toBe(0);
    const dead = `${hostTag()}-${await deadPid()}-0-aaaaaaaaaaaa-0`;
    const live = `${hostTag()}-${process.pid}-0-bbbbbbbbbbbb-0`;
    const foreign = `00000000-${await deadPid()}-0-cccccccccccc-0`;
    for (const dir of [join(repo, '.dvs/cache/tmp'), join(remote, 'tmp')]) {
      mkdirSync(dir, { recursive: true });
      for (const n of [dead, live, foreign]) writeFileSync(join(dir, n), 'half');
    }
    expect((await dvs(repo, ['track', 'x.bin'])).code).toBe(0);
    expect(readdirSync(join(repo, '.dvs/cache/tmp')).sort()).toEqual([foreign, live].sort());
    expect((await dvs(repo, ['push'])).code).toBe(0);
    expect(readdirSync(join(remote, 'tmp')).sort()).toEqual([foreign, live].sort());
  });

  it('a lock whose pid now belongs to another process (pid reuse) is taken over; a half-written one is not', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'x.bin': 'x' });
    mkdirSync(join(repo, '.dvs/tmp'), { recursive: true });
    // This test's own pid is alive, but did not start at tick 1 after boot.
    writeFileSync(join(repo, '.dvs/tmp/lock'), JSON.stringify({ pid: process.pid, host: hostname(), start: '1', since: 'then' }));
    const r = await dvs(repo, ['track', 'x.bin']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(repo, '.dvs/tmp/lock'))).toBe(false);
    // An empty lock file: a process that has just created it is writing it. Not taken over while young.
    writeFileSync(join(repo, '.dvs/tmp/lock'), '');
    let removedAt = 0;
    const writer = dvs(repo, ['track', 'x.bin']).then((res) => ({ ...res, at: Date.now() }));
    setTimeout(() => {
      rmSync(join(repo, '.dvs/tmp/lock'));
      removedAt = Date.now();
    }, 1500);
    const done = await writer;
    expect(done.code, done.stderr).toBe(0);
    expect(removedAt).toBeGreaterThan(0);
    expect(done.at).toBeGreaterThanOrEqual(removedAt);
  });
});
