import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { msOfNs } from '../../src/objects/snapshot.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

// The snapshot check compares a plain stat's mtimeMs with the snapshot's mtime in ns (objects/snapshot.ts):
// msOfNs must give, from the ns of a BigInt stat, the very double Node's plain stat gives.
describe('msOfNs', () => {
  it('gives what a plain stat gives, for times set to the nanosecond, before 1970 too', () => {
    const file = join(tempDir(), 'f');
    writeFileSync(file, 'x');
    const times = ['@1700000000.123456789', '@1700000000.999999999', '@1700000000.000000001', '@1733212800', '@4102444800.000000001', '@0.5', '@-1.25', '@-86400.000000001', '@1234567890.987654321'];
    for (const t of times) {
      const r = spawnSync('touch', ['-m', '-d', t, file]);
      expect(r.status, `touch -d ${t}`).toBe(0);
      const exact = statSync(file, { bigint: true }).mtimeNs;
      expect(msOfNs(exact), t).toBe(statSync(file).mtimeMs);
    }
  });

  it('tells apart times a microsecond apart', () => {
    expect(msOfNs(1_700_000_000_123_456_000n)).not.toBe(msOfNs(1_700_000_000_123_457_000n));
  });
});
