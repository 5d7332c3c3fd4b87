import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, GIT_ENV, gitRepo, json, read, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

/**
 * A cloned repository is untrusted input: a pointer that is an alias bomb, oversized or nested too deep
 * is refused at once, naming the pointer, instead of hanging a command (or every Git hook) or crashing.
 */

const OID = 'a'.repeat(64);
const HEAD = `version: 1\nkind: file\noid: sha256:${OID}\nsize: 5\n`;

function aliasBomb(): string {
  let text = `${HEAD}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
  for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
  return text;
}

const HOSTILE: Array<{ name: string; text: string; code: string; message: RegExp }> = [
  { name: 'an alias bomb', text: aliasBomb(), code: 'POINTER_ALIAS', message: /hostile\.bin\.dvs:5: YAML anchors are not allowed/ },
  { name: 'a 50 MiB pointer', text: `${HEAD}note: ${'x'.repeat(50 << 20)}\n`, code: 'POINTER_TOO_LARGE', message: /hostile\.bin\.dvs: a pointer may be at most 1 MiB; this one is 50\.0 MiB/ },
  { name: 'a list nested 100,000 deep', text: `${HEAD}note: ${'['.repeat(100_000)}\n`, code: 'POINTER_TOO_DEEP', message: /hostile\.bin\.dvs:5: maps and lists nested more than 32 deep/ },
];

/** Generous for a busy machine; reading, expanding or recursing into these took minutes or crashed. */
const QUICK_MS = 20_000;

async function timed(cwd: string, args: string[]) {
  const started = Date.now();
  const r = await dvs(cwd, args);
  return { ...r, ms: Date.now() - started };
}

describe('hostile pointers', () => {
  for (const hostile of HOSTILE) {
    it(`status and checkout refuse ${hostile.name} quickly, naming it`, async () => {
      const repo = gitRepo();
      writeTree(repo, { 'good.bin': 'good data' });
      expect((await dvs(repo, ['track', 'good.bin'])).code).toBe(0);
      rmSync(join(repo, 'good.bin'));
      writeFileSync(join(repo, 'hostile.bin.dvs'), hostile.text);

      const status = await timed(repo, ['status', '--json']);
      expect(status.code).toBe(3);
      expect(status.ms).toBeLessThan(QUICK_MS);
      const error = json(status).error;
      expect(error).toMatchObject({ kind: 'input', code: hostile.code, data: { path: 'hostile.bin.dvs' } });
      expect(error.message).toMatch(hostile.message);
      expect(error.hint).toContain('git checkout -- hostile.bin.dvs');

      const human = await timed(repo, ['status', 'hostile.bin']);
      expect(human.code).toBe(3);
      expect(human.stderr).toMatch(hostile.message);
      expect(human.stderr).not.toMatch(/internal error|at .*\.js:\d+/);

      // Checkout reports the refusal per path and still checks out the rest (exit 8, as for a missing object).
      const checkout = await timed(repo, ['checkout']);
      expect(checkout.code).toBe(8);
      expect(checkout.ms).toBeLessThan(QUICK_MS);
      expect(checkout.stderr).toMatch(hostile.message);
      expect(read(repo, 'good.bin')).toBe('good data');
    });
  }

  it('a post-checkout hook reports a hostile pointer and lets Git finish', async () => {
    const repo = gitRepo();
    expect((await dvs(repo, ['install'])).code).toBe(0);
    git(repo, 'checkout', '-q', '-b', 'hostile');
    writeFileSync(join(repo, 'hostile.bin.dvs'), aliasBomb());
    git(repo, 'add', 'hostile.bin.dvs');
    git(repo, 'commit', '-q', '-m', 'a hostile pointer');
    git(repo, 'checkout', '-q', 'main');
    const started = Date.now();
    const r = spawnSync('git', ['checkout', 'hostile'], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
    expect(Date.now() - started).toBeLessThan(QUICK_MS);
    expect(r.stderr).toMatch(/hostile\.bin\.dvs:5: YAML anchors are not allowed/);
    expect(git(repo, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('hostile');
  });
});
