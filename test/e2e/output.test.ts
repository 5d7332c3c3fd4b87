import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT, cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

// The CLI prints its result by writing file descriptors 1 and 2 itself (src/cli/output.ts), not through
// process.stdout: these are the cases where that differs from Node's stream.
const OUTPUT = join(PROJECT, 'dist', 'cli', 'output.js');

function script(body: string): string {
  const file = join(tempDir('dvs-output-'), 'print.mjs');
  writeFileSync(file, `import { printErr, printOut } from ${JSON.stringify(OUTPUT)};\n${body}\n`);
  return file;
}

const bash = (command: string) => spawnSync('bash', ['-c', command], { encoding: 'utf8', maxBuffer: 64 << 20 });

describe('printing the result', () => {
  it('ends quietly when the reader goes away (EPIPE), and the command still finishes', () => {
    const file = script("for (let i = 0; i < 8; i++) printOut('x'.repeat(1 << 20) + '\\n');\nprintErr('finished\\n');");
    const r = bash(`${JSON.stringify(process.execPath)} ${JSON.stringify(file)} | head -c 1 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`);
    expect(r.stderr).toContain('finished');
    expect(r.stderr).toContain('status=0');
    expect(r.stderr).not.toContain('EPIPE');
  });

  it('writes everything to a pipe its parent left non-blocking (EAGAIN goes to the stream)', () => {
    // perl (part of every Debian base system) sets O_NONBLOCK on the shared pipe; the reader starts late,
    // so the pipe fills and a plain write would fail with EAGAIN.
    const file = script(
      "import { spawnSync } from 'node:child_process';\n" +
        "const r = spawnSync('perl', ['-MFcntl', '-e', 'fcntl(STDOUT, F_SETFL, fcntl(STDOUT, F_GETFL, 0) | O_NONBLOCK) or die'], { stdio: ['ignore', 'inherit', 'inherit'] });\n" +
        "if (r.status !== 0) throw new Error('perl could not make stdout non-blocking');\n" +
        "printOut('y'.repeat(5_000_000) + '\\n');\nprintOut('END\\n');",
    );
    const r = bash(`${JSON.stringify(process.execPath)} ${JSON.stringify(file)} | (sleep 0.5; cat)`);
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBe(5_000_005);
    expect(r.stdout.endsWith('y\nEND\n')).toBe(true);
  });

  it('writes UTF-8', () => {
    const file = script("printOut('café → 中文 ✓\\n');");
    const r = spawnSync(process.execPath, [file]);
    expect(r.stdout.toString('utf8')).toBe('café → 中文 ✓\n');
  });
});
