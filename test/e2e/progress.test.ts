// Progress on a real pseudo-terminal (util-linux `script`): it must never block or loop, whatever the
// terminal reports, and its numbers must read as numbers.
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, DVS, GIT_ENV, gitRepo, writeTree } from '../helpers.js';
import { formatBytes, formatRate } from '../../src/cli/format.js';

afterAll(cleanupTempDirs);

const SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
/** Longer than any honest run on a busy machine; a looping spinner is killed here and the test fails. */
const KILL_AFTER_S = 150;

/**
 * Run dvs with stderr on a pseudo-terminal of `columns` columns (stdout discarded); what the terminal got.
 * `timeout` also runs it in a background process group, as `dvs push &` or a CI wrapper would: progress
 * must not touch the terminal's modes there (that stops the process with SIGTTOU).
 */
function onTerminal(cwd: string, columns: number, args: string[]): Promise<{ code: number | null; output: string }> {
  const command = `stty cols ${columns} rows 24; timeout -s KILL ${KILL_AFTER_S} '${process.execPath}' '${DVS}' ${args.join(' ')} >/dev/null`;
  const env: NodeJS.ProcessEnv = { ...process.env, ...GIT_ENV, TERM: 'xterm' };
  delete env.CI; // progress is off in CI
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      if (output.length < 1 << 20) output += d; // a flood is the failure: keep enough to show it
    });
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Enough small files that hashing them outlasts the 300 ms before progress shows, even on a fast machine. */
function manyFiles(): string {
  const repo = gitRepo();
  const tree: Record<string, string> = {};
  for (let i = 0; i < 4000; i++) tree[`data/f${i}.txt`] = `${i}\n`.repeat(200);
  writeTree(repo, tree);
  return repo;
}

describe.skipIf(!SCRIPT)('progress on a terminal', () => {
  it('a terminal of 0 columns gets a few plain lines, and the command exits', async () => {
    const r = await onTerminal(manyFiles(), 0, ['track', 'data']);
    expect(r.code, r.output.slice(0, 2000)).toBe(0);
    expect(r.output.length).toBeLessThan(4096);
    expect(r.output).not.toContain('\x1b[1A'); // no cursor movement: plain lines
    expect(r.output).toMatch(/Hashing [\d,]+\/4,000 files, .* \(\d+(\.\d+)? [KMG]?B\/s\)\r?\n/);
  }, (KILL_AFTER_S + 30) * 1000);

  it('a terminal with a width gets the spinner, and the command exits', async () => {
    const r = await onTerminal(manyFiles(), 80, ['track', 'data']);
    expect(r.code, r.output.slice(0, 2000)).toBe(0);
    expect(r.output).toContain('Hashing');
    expect(r.output).toContain('\x1b[?25h'); // the cursor is shown again at the end
    expect(r.output.length).toBeLessThan(1 << 20);
  }, (KILL_AFTER_S + 30) * 1000);
});

describe('progress numbers', () => {
  it('bytes and rates are rounded', () => {
    expect(formatRate(664.1791044776119)).toBe('664 B/s');
    expect(formatRate(999.7)).toBe('1.00 KB/s');
    expect(formatRate(Infinity)).toBe('0 B/s');
    expect(formatBytes(1234567)).toBe('1.23 MB');
    expect(formatBytes(12)).toBe('12 B');
  });
});
