import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, gitRepo, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

// bin/dvs.js turns on Node's module compile cache (22.1+) in the user's cache directory.
const hasCompileCache = Number(process.versions.node.split('.')[0]) >= 22;

describe('start-up', () => {
  it.runIf(hasCompileCache)('keeps compiled code in $XDG_CACHE_HOME/dvs/compile-cache', async () => {
    const repo = gitRepo();
    const cache = tempDir('dvs-xdg-');
    const r = await dvs(repo, ['status'], { env: { XDG_CACHE_HOME: cache } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const dir = join(cache, 'dvs', 'compile-cache');
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });

  it('works, quietly, when the cache directory cannot be made', async () => {
    const repo = gitRepo();
    const notADir = join(tempDir('dvs-xdg-'), 'file');
    writeFileSync(notADir, 'not a directory\n');
    const r = await dvs(repo, ['status'], { env: { XDG_CACHE_HOME: notADir } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('No tracked data');
  });
});
