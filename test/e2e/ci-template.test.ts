import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeS3Client, startSwift, swiftAvailable } from '../servers/s3.mjs';
import { DVS, GIT_ENV, PROJECT, cleanupTempDirs, dvs, git, gitRepo, tempDir, writeTree } from '../helpers.js';

// The pull-request workflow users copy: it must be a valid workflow, and the script of its diff step must
// work as written on a fresh clone (data only on the remote), not only in the documentation.
const TEMPLATE = join(PROJECT, 'templates', 'ci', 'dvs-diff.yml');

const SWIFT = swiftAvailable();
const BUCKET = 'dvs-ci-template';
let swift: Awaited<ReturnType<typeof startSwift>> | undefined;

beforeAll(async () => {
  if (!SWIFT) return;
  swift = await startSwift();
  const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await (await makeS3Client(swift)).send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await swift?.stop();
  cleanupTempDirs();
});

interface Step {
  name?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  run?: string;
}

function steps(): Step[] {
  const workflow = parse(readFileSync(TEMPLATE, 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
  return Object.values(workflow.jobs).flatMap((j) => j.steps);
}

function csv(rows: number): string {
  return ['id,kind,score', ...Array.from({ length: rows }, (_, i) => `${i},${i % 2 ? 'odd' : 'even'},${i / 10}`)].join('\n') + '\n';
}

describe('templates/ci/dvs-diff.yml', () => {
  it('passes the workflow linter (action-validator)', () => {
    const bin = join(PROJECT, 'node_modules', '@action-validator', 'cli', 'cli.mjs');
    const r = spawnSync(process.execPath, [bin, TEMPLATE], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    // The linter does find errors: a workflow with a misspelt key fails.
    const bad = join(tempDir(), 'bad.yml');
    writeFileSync(bad, readFileSync(TEMPLATE, 'utf8').replace('runs-on:', 'runs_on:'));
    expect(spawnSync(process.execPath, [bin, bad], { encoding: 'utf8' }).status).not.toBe(0);
  });

  it('uses the current Node LTS and hands GCS a key file, not the key', () => {
    const setup = steps().find((s) => s.uses?.startsWith('actions/setup-node'));
    expect(Number(setup?.with?.['node-version'])).toBeGreaterThanOrEqual(24);
    const diff = steps().find((s) => s.run?.includes('dvs diff'))!;
    expect(Object.keys(diff.env ?? {})).not.toContain('GOOGLE_APPLICATION_CREDENTIALS');
    // Every workflow value reaches the scripts through env, so none can inject shell code.
    for (const s of steps()) expect(s.run ?? '').not.toContain('${{');
  });

  // The template is for S3 and GCS remotes; a pull request's runner has the data only there.
  it.skipIf(!SWIFT)("the diff step's script, run as the runner runs it, diffs a pull request's two commits from a fresh clone", async () => {
    // The team's repository: two commits changing a tracked CSV, each one's data pushed to the remote.
    const repo = gitRepo();
    expect((await dvs(repo, ['remote', 'add', '-d', 'storage', `s3://${BUCKET}/team`])).code).toBe(0);
    expect((await dvs(repo, ['remote', 'modify', 'storage', 'endpoint', swift!.endpoint])).code).toBe(0);
    const aws = { AWS_ACCESS_KEY_ID: swift!.accessKeyId, AWS_SECRET_ACCESS_KEY: swift!.secretAccessKey, AWS_REGION: swift!.region };
    writeTree(repo, { 'data/table.csv': csv(100) });
    expect((await dvs(repo, ['track', 'data'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'base');
    expect((await dvs(repo, ['push'], { env: aws })).code).toBe(0);
    writeTree(repo, { 'data/table.csv': csv(90) });
    expect((await dvs(repo, ['track', 'data'])).code).toBe(0);
    git(repo, 'commit', '-q', '-m', 'head');
    const push = await dvs(repo, ['push'], { env: aws });
    expect(push.code, push.stderr).toBe(0);
    const base = git(repo, 'rev-parse', 'HEAD~1').trim();
    const head = git(repo, 'rev-parse', 'HEAD').trim();

    // The runner: actions/checkout's clone, dvs on PATH (recording the key file it was handed).
    const clone = tempDir();
    git(clone, 'clone', '-q', repo, '.');
    const bin = tempDir();
    const seen = join(tempDir(), 'seen-credentials');
    writeFileSync(
      join(bin, 'dvs'),
      `#!/bin/sh\ncat "$GOOGLE_APPLICATION_CREDENTIALS" > '${seen}' 2>/dev/null || echo none > '${seen}'\nexec '${process.execPath}' '${DVS}' "$@"\n`,
    );
    chmodSync(join(bin, 'dvs'), 0o755);
    const runnerTemp = tempDir();
    const summary = join(runnerTemp, 'step-summary.md');
    const key = '{"type":"service_account","project_id":"p","private_key":"-----BEGIN PRIVATE KEY-----\\nx\\n"}';

    const step = steps().find((s) => s.run?.includes('dvs diff'))!;
    const stepEnv = { BASE_SHA: base, HEAD_SHA: head, DVS_DIFF_CONTENT: 'true', GCS_KEY_JSON: key, AWS_ACCESS_KEY_ID: aws.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: aws.AWS_SECRET_ACCESS_KEY };
    for (const name of Object.keys(stepEnv)) expect(Object.keys(step.env ?? {})).toContain(name);
    // GitHub runs `run:` with `bash -e {0}`.
    const r = spawnSync('bash', ['-e', '-c', step.run!], {
      cwd: clone,
      encoding: 'utf8',
      env: { ...process.env, ...GIT_ENV, ...stepEnv, PATH: `${bin}:${process.env.PATH}`, RUNNER_TEMP: runnerTemp, GITHUB_STEP_SUMMARY: summary, CI: 'true', AWS_REGION: aws.AWS_REGION },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const md = readFileSync(join(clone, 'dvs-diff.md'), 'utf8');
    expect(md).toContain('data');
    expect(md).toMatch(/100 → 90/);
    expect(readFileSync(summary, 'utf8')).toBe(md);
    // dvs saw a path to a file holding the secret; the file is gone after the step.
    expect(readFileSync(seen, 'utf8')).toBe(key);
    expect(spawnSync('sh', ['-c', `ls '${runnerTemp}'`], { encoding: 'utf8' }).stdout.trim()).toBe('step-summary.md');
    expect(existsSync(join(clone, 'data', 'table.csv'))).toBe(false); // diffed from the remote, nothing checked out
  });
});
