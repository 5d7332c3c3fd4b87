import { statSync } from 'node:fs';
import { isDvsError } from '../../errors.js';
import { ProgressCounter, type Warning } from '../../events.js';
import { HashPool } from '../../objects/hash-pool.js';
import type { Oid } from '../../objects/oid.js';
import { readPointer } from '../../pointer/io.js';
import type { OpContext } from '../context.js';
import { refusalWarning, selectTargets } from '../../workspace/targets.js';
import { readManifest } from '../../objects/manifest.js';

export interface VerifyOptions {
  targets?: string[];
}

export type Problem = 'missing' | 'corrupted' | 'wrong-size';

export interface VerifyProblem {
  /** The data path (file, or file inside a tracked directory) the object stands for. */
  path: string;
  oid: Oid;
  problem: Problem;
  /** Where a corrupted object was moved (with --remote: deleted from the remote). */
  quarantined?: boolean;
}

export interface VerifyResult {
  /** Pointers the path guard refused (nothing was read for them). */
  warnings?: Warning[];
  checked: number;
  bytes: number;
  problems: VerifyProblem[];
  /** With --remote: the remote that was checked. */
  remote?: { name: string; url: string };
  /** With --remote: directory manifests deleted from it because files they list are missing or bad there. */
  withdrawn?: Array<{ path: string; oid: Oid }>;
}

/**
 * Re-hash the cache objects behind the pointers, directory manifests included. Bad objects are moved to
 * quarantine, so that no later checkout can use them and a fetch can bring a good copy.
 */
export async function verify(ctx: OpContext, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { repo } = ctx;
  const { targets, refused } = selectTargets(repo, ctx.cwd, options.targets);
  const wanted = new Map<Oid, { path: string; size: number }>();
  const problems: VerifyProblem[] = [];
  const report = (path: string, oid: Oid, problem: Problem) => {
    let quarantined: boolean | undefined;
    if (problem !== 'missing') {
      try {
        repo.cache.quarantine(oid);
        quarantined = true;
      } catch {
        quarantined = false;
      }
    }
    problems.push({ path, oid, problem, quarantined });
  };
  for (const { ref, sub } of targets) {
    const pointer = readPointer(repo.root, ref.pointerPath);
    if (pointer.kind === 'file') {
      wanted.set(pointer.oid, { path: ref.dataPath, size: pointer.size });
      continue;
    }
    // Read as a stream (a manifest of millions of entries is never held whole); the objects it adds are
    // kept apart until its bytes proved good, then join the others.
    const found = new Map<Oid, { path: string; size: number }>();
    try {
      readManifest(repo.cache, pointer.oid, ref.dataPath, (e) => {
        if (sub !== undefined && e.path !== sub && !e.path.startsWith(sub + '/')) return;
        if (!wanted.has(e.oid) && !found.has(e.oid)) found.set(e.oid, { path: `${ref.dataPath}/${e.path}`, size: e.size });
      });
    } catch (err) {
      if (!isDvsError(err)) throw err;
      report(`${ref.dataPath} (manifest)`, pointer.oid, err.code === 'OBJECT_MISSING' ? 'missing' : 'corrupted');
      continue;
    }
    for (const [oid, info] of found) wanted.set(oid, info);
  }

  const tasks: Array<{ id: number; path: string; size: number }> = [];
  const byId: Array<{ oid: Oid; path: string; size: number }> = [];
  for (const [oid, info] of wanted) {
    let size: number;
    try {
      size = statSync(repo.cache.pathOf(oid)).size;
    } catch {
      report(info.path, oid, 'missing');
      continue;
    }
    if (size !== info.size) {
      report(info.path, oid, 'wrong-size');
      continue;
    }
    byId.push({ oid, ...info });
    tasks.push({ id: byId.length - 1, path: repo.cache.pathOf(oid), size });
  }
  const state = await repo.statCache();
  const progress = new ProgressCounter('verify', ctx.onProgress, tasks.length, tasks.reduce((n, t) => n + t.size, 0));
  const pool = new HashPool(Math.max(1, Math.min(tasks.length, 8)));
  try {
    await pool.run(tasks, (o) => {
      const item = byId[o.id];
      if (!o.ok) report(item.path, item.oid, 'missing');
      else if (o.result.oid !== item.oid) report(item.path, item.oid, 'corrupted');
      else if (o.result.stable) state.setObject(o.result.stat, item.oid);
      progress.add(1, item.size, item.path);
    });
  } finally {
    await pool.close();
    state.flush();
  }
  progress.emit();
  // A quarantined object leaves its directories incomplete.
  if (problems.length) state.clearComplete();
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { checked: wanted.size, bytes: progress.bytes, problems, ...(refused.length ? { warnings: refused.map(refusalWarning) } : {}) };
}
