// Append-only datasets (issue 15): the pointer key, refusals, checkpoints, and merges of appends from two
// branches (partition locks: locks.test.ts).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, read, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);
// Dozens of CLI runs per test: room for a slow, busy 2-core machine.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 60_000 });

async function ok(repo: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(repo, args, { env });
  expect(r.code, `dvs ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

async function stream(install = false) {
  const repo = gitRepo();
  if (install) await ok(repo, ['install']);
  writeTree(repo, { 'stream/2024-08/a.jsonl': '{"a":1}\n' });
  const t = json(await ok(repo, ['track', '--append-only', 'stream', '--json']));
  expect(t.items[0].appendOnly).toBe(true);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'stream');
  return repo;
}

describe('append-only directories', () => {
  it('takes new files, hashing only them, and refuses a changed or removed file with nothing written', async () => {
    const repo = await stream();
    expect(read(repo, 'stream.dvs')).toMatch(/\nfiles: 1\nappend_only: true\n/);
    writeTree(repo, { 'stream/2024-08/b.jsonl': '{"b":2}\n', 'stream/2024-09/c.jsonl': '{"c":3}\n' });
    const t = json(await ok(repo, ['track', 'stream', '--json']));
    expect(t.items[0]).toMatchObject({ changed: true, appendOnly: true, appended: 2, hashedFiles: 2, files: 3 });
    git(repo, 'commit', '-q', '-m', 'append');
    const pointer = read(repo, 'stream.dvs');

    // Same size, other bytes: found by the hash, still refused.
    writeFileSync(join(repo, 'stream/2024-08/a.jsonl'), '{"a":9}\n');
    writeTree(repo, { 'stream/2024-10/d.jsonl': 'new\n' });
    const changed = await dvs(repo, ['track', 'stream']);
    expect(changed.code).toBe(5);
    expect(changed.stderr).toContain('dvs: error: stream: append-only, but files it recorded were changed or removed: 2024-08/a.jsonl (modified); nothing was written');
    expect(read(repo, 'stream.dvs')).toBe(pointer);
    expect(git(repo, 'status', '--porcelain')).toBe('');

    writeFileSync(join(repo, 'stream/2024-08/a.jsonl'), '{"a":1}\n');
    rmSync(join(repo, 'stream/2024-08/b.jsonl'));
    const gone = json(await dvs(repo, ['track', 'stream', '--json']));
    expect(gone.error.code).toBe('APPEND_ONLY_VIOLATION');
    expect(gone.error.data.problems).toEqual([{ path: '2024-08/b.jsonl', reason: 'gone' }]);
    expect(read(repo, 'stream.dvs')).toBe(pointer);

    // Inside the directory too: a recorded file changed is refused, a new one is taken.
    writeFileSync(join(repo, 'stream/2024-08/b.jsonl'), 'other\n');
    expect((await dvs(repo, ['track', 'stream/2024-08/b.jsonl'])).code).toBe(5);
    // dvs remove of a recorded file inside it is refused the same way.
    const removed = await dvs(repo, ['remove', 'stream/2024-08/a.jsonl']);
    expect(removed.code).toBe(5);
    expect(removed.stderr).toContain('2024-08/a.jsonl (deleted); nothing was written');
    expect(read(repo, 'stream.dvs')).toBe(pointer);
    // Other writers of the pointer are held to the same rule: -o --force from elsewhere, --to-remote.
    writeFileSync(join(repo, 'stream/2024-08/b.jsonl'), '{"b":2}\n');
    const elsewhere = tempDir();
    writeTree(elsewhere, { 'src/2024-08/a.jsonl': '{"a":1}\n', 'src/2024-11/e.jsonl': 'e\n' });
    const forced = json(await dvs(repo, ['track', join(elsewhere, 'src'), '-o', 'stream', '--force', '--json']));
    expect(forced.error).toMatchObject({ code: 'APPEND_ONLY_VIOLATION', data: { problems: [{ path: '2024-08/b.jsonl', reason: 'gone' }, { path: '2024-09/c.jsonl', reason: 'gone' }] } });
    expect(read(repo, 'stream/2024-08/b.jsonl')).toBe('{"b":2}\n');
    await ok(repo, ['remote', 'add', '--default', 'store', join(elsewhere, 'store')]);
    writeFileSync(join(repo, 'stream/2024-09/c.jsonl'), 'changed\n');
    const sent = await dvs(repo, ['track', 'stream', '--to-remote']);
    expect(sent.code).toBe(5);
    expect(sent.stderr).toContain('2024-09/c.jsonl (modified); nothing was written');
    expect(read(repo, 'stream.dvs')).toBe(pointer);
    // Only a directory as a whole can be declared.
    const file = await dvs(repo, ['track', '--append-only', 'stream/2024-10/d.jsonl']);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain('--append-only applies to a tracked directory as a whole');
  });

  it('checkpoints name the files added since the last one; --list shows them', async () => {
    const repo = await stream();
    const one = json(await ok(repo, ['checkpoint', 'stream', '-m', 'August', '--json']));
    expect(one.checkpoint).toMatchObject({ path: 'stream', message: 'August', files: 1, added: 1, names: ['2024-08/a.jsonl'] });
    expect(one.staged.some((f: string) => f.startsWith('.dvs/audit/'))).toBe(true);
    writeTree(repo, { 'stream/2024-09/x.jsonl': 'x\n', 'stream/2024-09/y.jsonl': 'y\n' });
    const two = json(await ok(repo, ['checkpoint', 'stream', '-m', 'September', '--json']));
    expect(two.checkpoint).toMatchObject({ files: 3, added: 2, names: ['2024-09/x.jsonl', '2024-09/y.jsonl'] });
    expect(two.hashedFiles).toBe(2);
    // The pointer and the event are staged: a commit records the checkpoint.
    expect(git(repo, 'diff', '--cached', '--name-only')).toMatch(/\.dvs\/audit\/.*\.json\n(.|\n)*stream\.dvs/);
    const list = await ok(repo, ['checkpoint', '--list', 'stream']);
    expect(list.stdout).toMatch(/stream {2}1 file \(1 file added\) {2}[0-9a-f]{10} {2}Test User <test@example.com> {2}August\n.*stream {2}3 files \(2 files added\) .* {2}September\n$/);
    const noMessage = await dvs(repo, ['checkpoint', 'stream']);
    expect(noMessage.code).toBe(2);
    writeTree(repo, { 'plain/a': 'a' });
    await ok(repo, ['track', 'plain']);
    const plain = await dvs(repo, ['checkpoint', 'plain', '-m', 'x']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('not an append-only directory');
  });

  it('three checkpoints from two branches merge cleanly; changing one partition on both sides conflicts, naming it', async () => {
    const repo = await stream(true);
    await ok(repo, ['checkpoint', 'stream', '-m', 'one']);
    git(repo, 'commit', '-q', '-m', 'checkpoint one');
    git(repo, 'checkout', '-q', '-b', 'alice');
    writeTree(repo, { 'stream/2024-09/alice.jsonl': 'alice\n' });
    await ok(repo, ['checkpoint', 'stream', '-m', 'two (alice)']);
    git(repo, 'commit', '-q', '-m', 'checkpoint two');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'stream/2024-10/bob.jsonl': 'bob\n', 'stream/2024-09/bob.jsonl': 'bob\n' });
    await ok(repo, ['checkpoint', 'stream', '-m', 'three (main)']);
    git(repo, 'commit', '-q', '-m', 'checkpoint three');
    git(repo, 'merge', '-q', '--no-edit', 'alice');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    const pointer = read(repo, 'stream.dvs');
    expect(pointer).toContain('files: 4\nappend_only: true\n');
    expect(read(repo, 'stream/2024-09/alice.jsonl')).toBe('alice\n');
    const list = json(await ok(repo, ['checkpoint', '--list', '--json']));
    expect(list.checkpoints.map((c: any) => c.message).sort()).toEqual(['one', 'three (main)', 'two (alice)']);
    // The next checkpoint names what neither earlier checkpoint had.
    writeTree(repo, { 'stream/2024-11/z.jsonl': 'z\n' });
    const four = json(await ok(repo, ['checkpoint', 'stream', '-m', 'four', '--json']));
    expect(four.checkpoint.names).toEqual(['2024-11/z.jsonl']);
    git(repo, 'commit', '-q', '-m', 'checkpoint four');

    // Both sides write the same new name with different bytes in 2024-12: a conflict of that partition.
    git(repo, 'checkout', '-q', '-b', 'carol');
    writeTree(repo, { 'stream/2024-12/part.jsonl': 'carol\n' });
    await ok(repo, ['track', 'stream']);
    git(repo, 'commit', '-q', '-m', 'carol');
    git(repo, 'checkout', '-q', 'main');
    writeTree(repo, { 'stream/2024-12/part.jsonl': 'dave\n', 'stream/2025-01/ok.jsonl': 'ok\n' });
    await ok(repo, ['track', 'stream']);
    git(repo, 'commit', '-q', '-m', 'dave');
    const m = spawnSync('git', ['merge', '--no-edit', 'carol'], { cwd: repo, encoding: 'utf8' });
    expect(m.status).not.toBe(0);
    expect(m.stdout + m.stderr).toContain('dvs: conflict in stream.dvs: append-only, and these partitions were changed (not only appended to) or got different files under one name: 2024-12');
  });
});

