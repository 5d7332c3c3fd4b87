import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentOwner, isGone } from '../../src/base/owner.js';
import { isOrphanedTemp, isWorkspaceTemp, isWorkspaceTempOf, ownedTempPrefix, workspaceTempName } from '../../src/base/temp-names.js';

const bytes = (s: string) => Buffer.byteLength(s);

describe('workspace temp names', () => {
  it('are hidden, recognised, and tied to their target', () => {
    const name = workspaceTempName('part-1.csv');
    expect(name).toMatch(/^\.part-1\.csv\.dvs-tmp-[0-9a-f]{16}$/);
    expect(isWorkspaceTemp(name)).toBe(true);
    expect(isWorkspaceTempOf(name, 'part-1.csv')).toBe(true);
    expect(isWorkspaceTempOf(name, 'part-2.csv')).toBe(false);
    expect(isWorkspaceTempOf(name, 'part-1.csv.dvs')).toBe(false);
    expect(workspaceTempName('a')).not.toBe(workspaceTempName('a'));
  });

  it('stay within 255 bytes whatever the target, cut between whole UTF-8 characters', () => {
    for (const target of ['x'.repeat(255), 'ü'.repeat(127), '日本'.repeat(42), '😀'.repeat(63), `a${'😀'.repeat(63)}`]) {
      expect(bytes(target)).toBeLessThanOrEqual(255);
      const name = workspaceTempName(target);
      expect(bytes(name)).toBeLessThanOrEqual(143);
      expect(name).not.toContain('\uFFFD');
      expect(Buffer.from(name).toString('utf8')).toBe(name); // no lone surrogate: valid UTF-8
      expect(isWorkspaceTempOf(name, target)).toBe(true);
    }
    // Targets that differ only past the kept start share a stem: still dvs's own, never a user's file.
    expect(isWorkspaceTempOf(workspaceTempName(`${'x'.repeat(200)}.csv`), `${'x'.repeat(200)}.csv.dvs`)).toBe(true);
  });

  it('recognise the checkout temp names of dvs 0.1, and nothing a user would name a file', () => {
    expect(isWorkspaceTemp('.f1309.txt.dvs-tmp-e70edf4d')).toBe(true);
    expect(isWorkspaceTempOf('.f1309.txt.dvs-tmp-e70edf4d', 'f1309.txt')).toBe(true);
    expect(isWorkspaceTempOf(`.${'y'.repeat(40)}.dvs-tmp-e70edf4d`, `${'y'.repeat(60)}.csv`)).toBe(true);
    for (const user of ['f1309.txt', '.dvs-tmp-e70edf4d', 'x.dvs-tmp-e70edf4d', '.x.dvs-tmp-E70EDF4D', '.x.dvs-tmp-e70edf4', '.x.dvs-tmp-e70edf4d.csv', '.x.dvs-tmp-', '.data.dvs', '.x.1234abcd.tmp']) {
      expect(isWorkspaceTemp(user), user).toBe(false);
    }
  });
});

describe('temp names in temp directories', () => {
  it("name their process, so a dead process's files can be told from a live one's", async () => {
    const mine = `${ownedTempPrefix()}-0`;
    expect(isOrphanedTemp(mine)).toBe(false);
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('close', r));
    const [host] = mine.split('-');
    expect(isOrphanedTemp(`${host}-${pid}-0-abcdef-0`)).toBe(true);
    expect(isOrphanedTemp(`00000000-${pid}-0-abcdef-0`)).toBe(false); // another host: cannot tell
    expect(isOrphanedTemp('123-abc')).toBe(false); // not a name dvs makes
  });
});

describe('process owners', () => {
  it('a pid that now belongs to a process started at another time is gone (pid reuse)', () => {
    const me = currentOwner();
    expect(isGone(me)).toBe(false);
    expect(isGone({ ...me, start: undefined })).toBe(false);
    if (me.start !== undefined) expect(isGone({ ...me, pid: process.ppid, start: '1' })).toBe(true);
    expect(isGone({ host: `not-${hostname()}`, pid: 999_999 })).toBe(false);
  });

  it('a killed process its parent has not reaped yet (a zombie) is gone', async () => {
    // The forked child exits at once, and its parent sleeps without ever waiting for it. (A shell may
    // reap its background job before it execs, so the parent is Python, which reaps nothing by itself.)
    const parent = spawn('python3', ['-c', 'import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(30)']);
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout.once('data', (d) => r(String(d)))));
      let state = '';
      for (let i = 0; i < 100 && state !== 'Z'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = (await import('node:fs')).readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.[0] ?? '';
      }
      expect(state).toBe('Z');
      expect(isGone({ host: hostname(), pid })).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
