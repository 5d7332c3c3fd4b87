import type { Oid } from '../objects/oid.js';
import { readPointer } from '../pointer/io.js';
import { hashRemoteObject } from '../transfer/download.js';
import { findPresent } from '../transfer/presence.js';
import { runQueue } from '../transfer/queue.js';
import type { OpContext } from './context.js';
import { fetchObjects } from './fetch.js';
import { openRemote } from './remote-open.js';
import type { RemoteRef } from './transfer-failures.js';
import { readManifest } from './transfer-scope.js';
import type { Problem, VerifyProblem } from './verify.js';
import type { Target } from './workspace.js';

export interface RemoteVerifyResult {
  checked: number;
  bytes: number;
  problems: VerifyProblem[];
  remote: RemoteRef;
}

/**
 * Check that the remote holds every object the pointers need, with the right size; with `deep`, download
 * and re-hash each. The record of what the remote holds is not trusted here, and is corrected from what
 * was found. Bad copies (wrong size, wrong bytes) are deleted from the remote, as a bad cache object is
 * quarantined: nothing may stay visible under a name its bytes do not hash to, and a push from a clone
 * with a good copy then restores it.
 */
export async function verifyRemote(ctx: OpContext, targets: Target[], options: { remote?: string; deep?: boolean; jobs?: number }): Promise<RemoteVerifyResult> {
  const { repo } = ctx;
  const problems: VerifyProblem[] = [];
  const wanted = new Map<Oid, { path: string; size?: number }>();
  const manifests: Array<{ target: Target; oid: Oid }> = [];
  for (const t of targets) {
    const pointer = readPointer(repo.root, t.ref.pointerPath);
    if (pointer.kind === 'file') {
      if (!wanted.has(pointer.oid)) wanted.set(pointer.oid, { path: t.ref.dataPath, size: pointer.size });
    } else manifests.push({ target: t, oid: pointer.oid });
  }
  // Manifests this clone lacks are fetched (verified) from the remote itself: they name the files.
  const lacking = manifests.filter((m) => !repo.cache.has(m.oid)).map((m) => m.oid);
  if (lacking.length) await fetchObjects(ctx, lacking, options);
  for (const { target: t, oid } of manifests) {
    const entries = readManifest(repo, oid, t.ref.dataPath);
    if (!wanted.has(oid)) wanted.set(oid, { path: `${t.ref.dataPath} (manifest)`, size: repo.cache.sizeOf(oid) });
    for (const e of entries ?? []) {
      if (t.sub !== undefined && e.path !== t.sub && !e.path.startsWith(t.sub + '/')) continue;
      if (!wanted.has(e.oid)) wanted.set(e.oid, { path: `${t.ref.dataPath}/${e.path}`, size: e.size });
    }
  }

  const remote = await openRemote(ctx, options);
  try {
    const { backend, known, settings } = remote;
    await remote.syncKnown();
    const present = await findPresent({ backend, settings }, wanted.keys());
    const bad: Oid[] = [];
    const report = (oid: Oid, problem: Problem) => {
      problems.push({ path: wanted.get(oid)!.path, oid, problem });
      known.delete(oid);
      if (problem !== 'missing') bad.push(oid);
    };
    const good: Array<{ oid: Oid; size: number }> = [];
    for (const [oid, info] of wanted) {
      const size = present.get(oid);
      if (size === undefined) report(oid, 'missing');
      else if (info.size !== undefined && size !== info.size) report(oid, 'wrong-size');
      else good.push({ oid, size });
    }
    let bytes = 0;
    if (options.deep) {
      const r = await runQueue(
        'download',
        good.map((g) => ({ key: g.oid, size: g.size, value: g.oid })),
        (oid, call) => hashRemoteObject(backend, oid, call),
        settings,
        (item, got) => {
          bytes += got.size;
          if (got.oid !== item.key) report(item.key, 'corrupted');
          else known.add(item.key);
        },
      );
      for (const f of r.failed) {
        if (f.error.code === 'REMOTE_OBJECT_MISSING') report(f.item.key, 'missing');
        else throw f.error;
      }
    } else {
      for (const g of good) {
        known.add(g.oid);
        bytes += g.size;
      }
    }
    if (bad.length) {
      await remote.newEpoch();
      await runQueue('gc', [{ key: 'delete', size: 0, count: bad.length, value: bad }], (oids, call) => backend.delete(oids, call), settings);
      for (const p of problems) if (p.problem !== 'missing') p.quarantined = true;
    }
    problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { checked: wanted.size, bytes, problems, remote: { name: remote.spec.name, url: remote.url } };
  } finally {
    await remote.close();
  }
}
