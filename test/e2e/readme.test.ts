// The README's shell examples, run as a reader would run them: a ```sh block marked `<!-- test: <fixture> -->`
// runs line by line, with `dvs` on PATH, in a temporary repository the fixture prepares; each line must exit
// 0, or N when its comment says "(exit N)". A block marked `<!-- no-test: <reason> -->` is skipped for that
// reason; a block with neither marker fails, so that a new example cannot silently go untested.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, DVS, git, GIT_ENV, PROJECT, tempDir, writeTree } from '../helpers.js';

interface Example {
  /** Line of the opening fence in README.md (1-based), for messages. */
  line: number;
  /** `test` with a fixture, or `no-test` with the reason. */
  marker: { kind: 'test'; fixture: string } | { kind: 'no-test'; reason: string } | undefined;
  /** Commands, continuation lines joined, comment-only lines dropped. */
  commands: Array<{ line: number; text: string; exit: number }>;
}

const MARKER = /^<!--\s*(test|no-test)\s*(?::\s*(.*?))?\s*-->$/;

/** Every ```sh block of the README with the marker on the line before it. */
function readmeExamples(): Example[] {
  const lines = readFileSync(join(PROJECT, 'README.md'), 'utf8').split('\n');
  const examples: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(sh|bash|shell)\b/.test(lines[i])) continue;
    const m = MARKER.exec(lines[i - 1]?.trim() ?? '');
    const marker = !m ? undefined : m[1] === 'test' ? { kind: 'test' as const, fixture: m[2] || 'repo' } : { kind: 'no-test' as const, reason: m[2] ?? '' };
    const example: Example = { line: i + 1, marker, commands: [] };
    let pending = '';
    let start = 0;
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++) {
      const text = lines[i];
      if (!pending) start = i + 1;
      if (text.endsWith('\\')) {
        pending += text.slice(0, -1) + ' ';
        continue;
      }
      const command = pending + text;
      pending = '';
      if (command.trim() === '' || command.trim().startsWith('#')) continue;
      const exit = /#.*\(exit (\d+)\)/.exec(command);
      example.commands.push({ line: start, text: command, exit: exit ? Number(exit[1]) : 0 });
    }
    examples.push(example);
  }
  return examples;
}

// --- what the examples expect to find ------------------------------------------------------------

function dvsIn(cwd: string, ...args: string[]): void {
  const r = spawnSync(process.execPath, [DVS, ...args], { cwd, env: { ...process.env, ...GIT_ENV }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fixture: dvs ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
}

function initRepo(dir: string, tree: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeTree(dir, { 'README.md': '# project\n', ...tree });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'code');
  dvsIn(dir, 'init', '-q');
  git(dir, 'commit', '-q', '-m', 'Set up dvs');
  return dir;
}

const csv = (rows: string[]) => ['id,text', ...rows].join('\n') + '\n';

/** Each prepares `root` for one README block and returns the directory the block runs in. */
const FIXTURES: Record<string, (root: string) => string> = {
  /** A Git repository with dvs set up and nothing tracked. */
  repo: (root) => initRepo(join(root, 'repo')),

  /**
   * A clone (from a bare origin) of a repository whose data/train/ was pushed to a directory remote,
   * `storage` (../storage), which this clone has confirmed; data not pulled, hooks not installed.
   */
  clone: (root) => {
    const work = initRepo(join(root, 'work'));
    writeTree(work, { 'data/train/part-0.csv': csv(['1,first', '2,second']), 'data/train/part-1.csv': csv(['3,third']) });
    dvsIn(work, 'track', '-q', 'data/train');
    dvsIn(work, 'remote', 'add', '-q', '-d', 'storage', '../storage');
    git(work, 'commit', '-q', '-m', 'training data');
    dvsIn(work, 'push', '-q');
    git(root, 'init', '-q', '--bare', '-b', 'main', 'origin.git');
    git(work, 'push', '-q', '../origin.git', 'main');
    git(root, 'clone', '-q', 'origin.git', 'repo');
    const repo = join(root, 'repo');
    dvsIn(repo, 'config', '--local', 'remote.storage.url', '../storage');
    return repo;
  },

  /**
   * data/raw.csv (untracked) and the filter.py and dedup.py the transforms run; on branch exp, run-42
   * trained on an older data/clean.csv.
   */
  lineage: (root) => {
    const repo = initRepo(join(root, 'repo'), {
      'filter.py': [
        'import csv, sys',
        'src, dst, min_quality = sys.argv[1], sys.argv[2], float(sys.argv[3])',
        "with open(src, newline='') as f, open(dst, 'w', newline='') as g:",
        '    rows = csv.DictReader(f)',
        '    out = csv.DictWriter(g, rows.fieldnames)',
        '    out.writeheader()',
        "    out.writerows(r for r in rows if float(r['quality']) >= min_quality)",
        '',
      ].join('\n'),
      'dedup.py': [
        'import csv',
        'seen = set()',
        "with open('data/filtered.csv', newline='') as f, open('data/clean.csv', 'w', newline='') as g:",
        '    rows = csv.DictReader(f)',
        '    out = csv.DictWriter(g, rows.fieldnames)',
        '    out.writeheader()',
        '    for r in rows:',
        "        if r['text'] not in seen:",
        "            seen.add(r['text'])",
        '            out.writerow(r)',
        '',
      ].join('\n'),
    });
    const raw = ['id,subject,text,quality'];
    for (let i = 0; i < 60; i++) raw.push(`${i},${i % 2 ? 'math' : 'code'},example ${i % 50},${(i % 10) / 10}`);
    git(repo, 'checkout', '-q', '-b', 'exp');
    writeTree(repo, { 'data/clean.csv': raw.slice(0, 40).join('\n') + '\n' });
    dvsIn(repo, 'track', '-q', 'data/clean.csv');
    dvsIn(repo, 'run', 'start', '-q', 'run-42', '--model', 'tiny-lm', '--dataset', 'data/clean.csv', '--param', 'lr=0.002');
    dvsIn(repo, 'run', 'finish', '-q', 'run-42', '--metric', 'math=0.69', '--metric', 'code=0.66');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'run 42');
    git(repo, 'checkout', '-q', 'main');
    rmSync(join(repo, 'data'), { recursive: true, force: true });
    writeTree(repo, { 'data/raw.csv': raw.join('\n') + '\n' });
    return repo;
  },
};

// --- running them ----------------------------------------------------------------------------------

let bin: string;

beforeAll(() => {
  // `dvs` as an installed command would be; `python` where only python3 is installed.
  bin = tempDir('dvs-readme-bin-');
  writeTree(bin, { dvs: `#!/bin/sh\nexec "${process.execPath}" "${DVS}" "$@"\n` });
  chmodSync(join(bin, 'dvs'), 0o755);
  const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
  if (!which('python') && which('python3')) symlinkSync(which('python3'), join(bin, 'python'));
});

afterAll(cleanupTempDirs);

function run(command: string, cwd: string) {
  const env = { ...process.env, ...GIT_ENV, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  delete env.NODE_OPTIONS;
  return spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd, env, encoding: 'utf8' });
}

/**
 * What a block must have done, checked right after its first command that starts with `after`. A check
 * whose command is no longer in the README fails the test: it would otherwise prove nothing.
 */
const CHECKS: Record<string, Array<{ after: string; check(cwd: string, output: string): void }>> = {
  clone: [
    {
      after: 'dvs checkout data/train',
      check: (cwd) => expect(readFileSync(join(cwd, 'data/train/part-0.csv'), 'utf8')).toBe(csv(['1,first', '2,second'])),
    },
    {
      after: 'git checkout HEAD -- data/train.dvs',
      check: (cwd) => {
        expect(readFileSync(join(cwd, 'data/train/part-0.csv'), 'utf8')).toBe(csv(['1,first', '2,second', '1001,late row']));
        // The pre-push hook sent the new version before the commit: another clone can pull it.
        git(join(cwd, '..'), 'clone', '-q', 'origin.git', 'again');
        const again = join(cwd, '../again');
        dvsIn(again, 'config', '--local', 'remote.storage.url', '../storage');
        dvsIn(again, 'pull', '-q');
        expect(readFileSync(join(again, 'data/train/part-0.csv'), 'utf8')).toBe(csv(['1,first', '2,second', '1001,late row']));
      },
    },
  ],
  lineage: [
    {
      after: 'dvs lineage show data/clean.csv',
      check: (_cwd, output) => expect(output).toMatch(/^data\/clean\.csv .*\n└── dedup[\s\S]*└── filter \(min_quality=0\.5\)[\s\S]*data\/raw\.csv .*\(source\)/),
    },
    { after: 'dvs run compare', check: (_cwd, output) => expect(output).toContain('Comparing run run-41@main') },
  ],
};

const examples = readmeExamples();

describe('README examples', () => {
  it('every sh block is marked as tested (with a known fixture) or not, with a reason', () => {
    expect(examples.length).toBeGreaterThan(3);
    for (const e of examples) {
      expect(e.marker, `README.md:${e.line}: mark the block <!-- test: <fixture> --> or <!-- no-test: <reason> -->`).toBeDefined();
      if (e.marker?.kind === 'test') expect(Object.keys(FIXTURES), `README.md:${e.line}`).toContain(e.marker.fixture);
      if (e.marker?.kind === 'no-test') expect(e.marker.reason, `README.md:${e.line}: say why it is not tested`).not.toBe('');
    }
    expect(examples.filter((e) => e.marker?.kind === 'test').length).toBeGreaterThanOrEqual(2);
  });

  for (const e of examples.filter((x) => x.marker?.kind === 'test')) {
    const fixture = (e.marker as { fixture: string }).fixture;
    it(`README.md:${e.line} (${fixture}) runs, and does what it says`, () => {
      const cwd = FIXTURES[fixture](tempDir('dvs-readme-'));
      const checks = [...(CHECKS[fixture] ?? [])];
      for (const c of e.commands) {
        const r = run(c.text, cwd);
        expect({ line: c.line, command: c.text, exit: r.status }, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toEqual({ line: c.line, command: c.text, exit: c.exit });
        if (checks[0] && c.text.startsWith(checks[0].after)) checks.shift()!.check(cwd, r.stdout);
      }
      expect(checks.map((x) => x.after), 'checks whose command is not in the block (in this order)').toEqual([]);
    }, 240_000);
  }
});
