import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// Tests must pass on a slow or busy 2-core machine (CI shares its cores with other jobs). Waits are
// generous; a bound that a test asserts on how long a command takes (a frozen server is given up on in
// seconds) is written for an idle machine and stretched by how slow this one is right now.

/** A fresh Node process hashing 64 MiB: start-up and CPU, like a dvs command. */
const CALIBRATION = "const c=require('node:crypto');const b=Buffer.alloc(1<<20);for(let i=0;i<64;i++)c.createHash('sha256').update(b).digest()";
/** What the calibration takes on an idle 2-core machine (its CPU time here, ~170 ms): on the fast side, so factors err high. */
const IDLE_MS = 150;
const MAX_FACTOR = 20;

/** How many times slower than idle this machine runs right now: measured each call, at least 1. */
export function slowdown(): number {
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', CALIBRATION], { stdio: 'ignore' });
  return Math.min(MAX_FACTOR, Math.max(1, (performance.now() - t0) / IDLE_MS));
}

/** `ms`, a bound for an idle machine, stretched for this one as it is now. */
export function scaled(ms: number): number {
  return Math.round(ms * slowdown());
}
