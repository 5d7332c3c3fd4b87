// Bad input a user (or a cloned repository) can hand dvs: each case gets a clear error with its
// documented exit code, never an internal error or a stack trace, and leaves nothing behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromSystemError } from '../../src/errors.js';
import { cleanupTempDirs, dvs, git, gitRepo, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

function expectClean(r: { code: number; stderr: string }, code: number, message: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

describe('bad input', () => {
  it('names that are not valid UTF-8, special files and folders that cannot be made', async () => {
    const repo = gitRepo();
    mkdirSync(join(repo, 'd'));
    writeFileSync(Buffer.from(join(repo, 'd/ok.csv')), 'ok\n');
    writeFileSync(Buffer.concat([Buffer.from(join(repo, 'd') + '/'), Buffer.from([0xff, 0xfe]), Buffer.from('.csv')]), 'bad name\n');
    writeFileSync(Buffer.concat([Buffer.from(join(repo, 'bad')), Buffer.from([0xff])]), 'bad name\n');
    expectClean(await dvs(repo, ['track', 'd']), 3, /d\/\uFFFD\uFFFD\.csv: the file name is not valid UTF-8/);
    expect(existsSync(join(repo, 'd.dvs'))).toBe(false);
    expectClean(await dvs(repo, ['track', 'bad\uFFFD']), 3, /the name given is not valid UTF-8/);
    execFileSync('mkfifo', [join(repo, 'fifo')]);
    expectClean(await dvs(repo, ['track', 'fifo']), 3, /fifo: not a regular file or directory/);
    // Node's recursive mkdir never returns on /proc; dvs answers.
    expectClean(await dvs(repo, ['cache', 'dir', '/proc/dvs-no-such-folder']), 4, /No such file or directory: \/proc\/dvs-no-such-folder/);
    expect(git(repo, 'status', '--porcelain')).not.toMatch(/\.dvs\b|\.gitignore/);
  });

  it('a file that became a folder (or the reverse) while dvs worked is a conflict that says to run again', () => {
    for (const code of ['EISDIR', 'ENOTDIR']) {
      const e = fromSystemError(Object.assign(new Error(code), { code }), 'data/a.csv', 'reading') as { code: string; kind: string; message: string };
      expect(e).toMatchObject({ code: 'PATH_CHANGED', kind: 'conflict' });
      expect(e.message).toContain('data/a.csv');
    }
  });

  it('a .git inside tracked data is never tracked, and a manifest naming one is refused by line', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'd/a.csv': 'a\n', 'd/.git/config': 'nested repository\n', 'd/sub/.DVS/x': 'x\n' });
    const t = await dvs(repo, ['track', 'd', '--json']);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).items[0].files).toBe(1);
    expect(JSON.parse(t.stdout).warnings.map((w: { code: string }) => w.code)).toEqual(['RESERVED_NAME', 'RESERVED_NAME']);
    expect((await dvs(repo, ['status', '--exit-code'])).code).toBe(0);
    // A manifest made by someone else that lists d/.git/hooks/post-checkout.
    const a = createHash('sha256').update('a\n').digest('hex');
    const text = `dvs-manifest 1\n${a} 2 - .git/hooks/post-checkout\n${a} 2 - a.csv\n`;
    const oid = createHash('sha256').update(text).digest('hex');
    const obj = join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2));
    mkdirSync(dirname(obj), { recursive: true });
    writeFileSync(obj, text);
    writeTree(repo, { 'e.dvs': `version: 1\nkind: dir\noid: sha256:${oid}\nsize: 4\nfiles: 2\n` });
    const r = await dvs(repo, ['checkout', 'e']);
    expectClean(r, 8, /line 2: path "\.git\/hooks\/post-checkout" is inside or is "\.git"/);
    expect(existsSync(join(repo, 'e/.git'))).toBe(false);
  });
});
