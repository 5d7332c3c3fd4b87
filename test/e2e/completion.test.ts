import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DVS, cleanupTempDirs, dvs, gitRepo, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

/** A directory holding a `dvs` that runs the built CLI: completion scripts call dvs by name. */
function dvsOnPath(): string {
  const bin = tempDir();
  writeFileSync(join(bin, 'dvs'), `#!/bin/sh\nexec '${process.execPath}' '${DVS}' "$@"\n`);
  chmodSync(join(bin, 'dvs'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

/** What bash offers after typing each of `lines` and Tab, from the script `dvs completion bash` prints (sourced once). */
function bashComplete(cwd: string, lines: string[][]): string[][] {
  const script = ['source <(dvs completion bash)'];
  for (const words of lines) {
    script.push(`COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=()`);
    script.push(`_dvs_completions; printf '%s\\n' "\${COMPREPLY[@]}" '@@end'`);
  }
  const r = spawnSync('bash', ['-c', script.join('\n')], { cwd, encoding: 'utf8', env: { ...process.env, PATH: dvsOnPath() } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('@@end\n').slice(0, lines.length).map((offered) => offered.split('\n').filter(Boolean));
}

describe('dvs completion', () => {
  it('prints a bash script that bash loads and that completes commands and their options', () => {
    const r = spawnSync('bash', ['-c', 'source <(dvs completion bash) && complete -p dvs'], { encoding: 'utf8', env: { ...process.env, PATH: dvsOnPath() } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('-F _dvs_completions dvs');
    const repo = gitRepo();
    const [commands, options, hidden] = bashComplete(repo, [['dvs', 'tr'], ['dvs', 'push', '--re'], ['dvs', 'ho']]);
    expect(commands.sort()).toEqual(['track', 'transform']);
    expect(options.sort()).toEqual(['--remote', '--rev']);
    // Hidden plumbing (hook, merge-driver) is not offered.
    expect(hidden).toEqual([]);
  });

  it('prints zsh and fish scripts that ask dvs for the candidates; an unknown shell is a usage error', async () => {
    const cwd = tempDir(); // outside any repository: completion needs none
    const zsh = await dvs(cwd, ['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.startsWith('#compdef dvs\n')).toBe(true);
    expect(zsh.stdout).toContain('compdef _dvs_completions dvs');
    const fish = await dvs(cwd, ['completion', 'fish']);
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("complete -c dvs -a '(__dvs_completions)'");
    for (const s of [zsh.stdout, fish.stdout]) expect(s).toContain('dvs --get-yargs-completions');
    // What those scripts receive: zsh gets name:description pairs, fish plain names.
    const asZsh = await dvs(cwd, ['--get-yargs-completions', 'dvs', 'stat'], { env: { ZSH_NAME: 'zsh' } });
    expect(asZsh.stdout).toMatch(/^status:Compare/m);
    const bad = await dvs(cwd, ['completion', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('dvs: error: Invalid values');
  });
});
