import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { readPointer } from '../../pointer/io.js';
import { hashRemoteObject } from '../../transfer/download.js';
import { findPresent } from '../../transfer/presence.js';
import { planReads, readPacked, type PackLocation } from '../../transfer/packs.js';
import { openChunked, readChunkList } from '../../transfer/chunks.js';
import { processQueue } from '../../transfer/queue.js';
import type { OpContext } from '../context.js';
import { fetchObjects } from './fetch.js';
import { openRemote } from './open.js';
import type { RemoteRef } from './failures.js';
import type { Problem, VerifyProblem } from '../data/verify.js';
import { refusalWarning, selectTargets, type Target } from '../../workspace/targets.js';
import { loadManifestIfPresent } from '../../objects/manifest.js';

export interface RemoteVerifyResult {
  checked: number;
  bytes: number;
  problems: VerifyProblem[];
  /** Directory manifests deleted from the remote because files they list are missing or bad there. */
  withdrawn: Array<{ path: string; oid: Oid }>;
  remote: RemoteRef;
  /** Pointers the path guard refused (nothing was read for them). */
  warnings?: Warning[];
}

/**
 * Check that the remote holds every object the pointers need, with the right size; with `deep`, download
 * and re-hash each. The record of what the remote holds is not trusted here, and is corrected from what
 * was found: what is missing or bad is recorded as lost there, so that this clone's next push re-sends it.
 *
 * The remote is repaired as far as deleting goes, so that a push from any clone that has good copies
 * restores it (the epoch changes first, so every clone checks its record again):
 * - bad copies (wrong size, wrong bytes) are deleted, as a bad cache object is quarantined: nothing may
 *   stay visible under a name its bytes do not hash to;
 * - the manifest of a directory with a missing or bad file is withdrawn (deleted): a manifest on a
 *   remote vouches for all its files, and push would otherwise skip the directory. This clone has it
 *   (verify reads it), and a push sends it back after the files.
 */
export async function verifyRemote(ctx: OpContext, options: { targets?: string[]; remote?: string; deep?: boolean; jobs?: number }): Promise<RemoteVerifyResult> {
  const { repo } = ctx;
  const { targets, refused } = selectTargets(repo, ctx.cwd, options.targets);
  const problems: VerifyProblem[] = [];
  const wanted = new Map<Oid, { path: string; size?: number }>();
  const manifests: Array<{ target: Target; oid: Oid }> = [];
  for (const t of targets) {
    const pointer = readPointer(repo.root, t.ref.pointerPath);
    if (pointer.kind === 'file') {
      if (!wanted.has(pointer.oid)) wanted.set(pointer.oid, { path: t.ref.dataPath, size: pointer.size });
    } else manifests.push({ target: t, oid: pointer.oid });
  }
  // Manifests this clone lacks are fetched (verified) from the remote itself: they name the files. One
  // whose download did not hash to its name is as surely bad as a deep check would find it.
  const lacking = manifests.filter((m) => !repo.cache.has(m.oid)).map((m) => m.oid);
  const corruptManifests = new Set<Oid>();
  if (lacking.length) {
    for (const f of (await fetchObjects(ctx, lacking, options)).failed) if (f.code === 'REMOTE_OBJECT_CORRUPTED') corruptManifests.add(f.oid);
  }
  const dirs = new Map<Oid, { path: string; files: Oid[] }>();
  for (const { target: t, oid } of manifests) {
    const entries = loadManifestIfPresent(repo.cache, oid, t.ref.dataPath)?.entries;
    if (!wanted.has(oid)) wanted.set(oid, { path: `${t.ref.dataPath} (manifest)`, size: repo.cache.sizeOf(oid) });
    if (entries && !dirs.has(oid)) dirs.set(oid, { path: `${t.ref.dataPath} (manifest)`, files: entries.map((e) => e.oid) });
    for (const e of entries ?? []) {
      if (t.sub !== undefined && e.path !== t.sub && !e.path.startsWith(t.sub + '/')) continue;
      if (!wanted.has(e.oid)) wanted.set(e.oid, { path: `${t.ref.dataPath}/${e.path}`, size: e.size });
    }
  }

  const remote = await openRemote(ctx, options);
  const warnings: Warning[] = [];
  try {
    const { backend, known, settings } = remote;
    await remote.syncKnown();
    // Packed objects are where a listing of the remote's indexes says; the others are asked about loose.
    const catalogue = remote.packs();
    if (catalogue.supported) await catalogue.refresh();
    const packed = new Map<Oid, PackLocation>();
    for (const oid of wanted.keys()) {
      const at = catalogue.lookup(oid);
      if (at) packed.set(oid, at);
    }
    // Objects stored as chunks: there when their list (the remote's, not this clone's copy) reads and names only chunks the indexes hold.
    const chunked = new Set([...wanted.keys()].filter((oid) => !packed.has(oid) && catalogue.chunked(oid)));
    const chunkedThere = new Map<Oid, number>();
    const unusableLists = new Set<Oid>();
    const lr = await processQueue('query', [...chunked].map((oid) => ({ key: oid, size: 0, value: oid })), (oid, call) => readChunkList(backend, undefined, oid, call, remote.spec.name), settings, (item, list) => {
      if (list.chunks.every((c) => catalogue.lookup(c.oid)?.length === c.length)) chunkedThere.set(item.key, list.size);
    });
    for (const f of lr.failed) {
      if (f.error.code === 'REMOTE_OBJECT_CORRUPTED') unusableLists.add(f.item.key);
      else if (f.error.code !== 'REMOTE_OBJECT_MISSING') throw f.error;
    }
    const present = await findPresent({ backend, settings }, [...wanted.keys()].filter((oid) => !packed.has(oid) && !chunked.has(oid)));
    for (const [oid, at] of packed) present.set(oid, at.length);
    for (const [oid, size] of chunkedThere) present.set(oid, size);
    for (const b of catalogue.broken) {
      warnings.push({ code: 'REMOTE_PACK_INDEX_BAD', message: `pack index ${b.name} on remote "${remote.spec.name}" is unusable: ${b.why}`, hint: `Its objects count as not there; push sends them again, and \`dvs gc --remote ${remote.spec.name}\` removes it.` });
    }
    const bad: Oid[] = [];
    const badLists: Oid[] = [];
    const report = (oid: Oid, problem: Problem) => {
      problems.push({ path: wanted.get(oid)!.path, oid, problem });
      known.markLost(oid, problem === 'missing' ? 'missing' : 'bad');
      // A bad object inside a pack cannot be deleted alone: it stays lost in this clone's record, so
      // push packs a good copy again, and gc --remote drops the old one when it repacks. A chunked one
      // loses its list (its chunks may serve other objects); push sends it again, every chunk.
      if (problem !== 'missing' && chunked.has(oid)) badLists.push(oid);
      else if (problem !== 'missing' && !packed.has(oid)) bad.push(oid);
    };
    const good: Array<{ oid: Oid; size: number }> = [];
    for (const [oid, info] of wanted) {
      const size = present.get(oid);
      if (size === undefined) report(oid, 'missing');
      else if (info.size !== undefined && size !== info.size) report(oid, 'wrong-size');
      else if (corruptManifests.has(oid) || unusableLists.has(oid)) report(oid, 'corrupted');
      else good.push({ oid, size });
    }
    let bytes = 0;
    if (options.deep) {
      const inPacks = good.filter((g) => packed.has(g.oid));
      const failed = await readPacked({ backend, settings }, planReads(inPacks.map((g) => ({ oid: g.oid, at: packed.get(g.oid)! }))), remote.spec.name, undefined, (oid, size) => {
        bytes += size;
        known.confirm(oid);
      }, (oid) => report(oid, 'corrupted'));
      for (const f of failed) {
        if (f.error.code === 'REMOTE_OBJECT_MISSING') report(f.oid, 'missing');
        else throw f.error;
      }
      const r = await processQueue(
        'download',
        good.filter((g) => !packed.has(g.oid)).map((g) => ({ key: g.oid, size: g.size, value: g.oid })),
        (oid, call) => hashRemoteObject(backend, oid, call, chunked.has(oid) ? (o, c) => openChunked(backend, catalogue, o, c, remote.spec.name) : undefined),
        settings,
        (item, got) => {
          bytes += got.size;
          if (got.oid !== item.key) report(item.key, 'corrupted');
          else known.confirm(item.key);
        },
      );
      for (const f of r.failed) {
        if (f.error.code === 'REMOTE_OBJECT_MISSING') report(f.item.key, 'missing');
        else if (f.error.code === 'REMOTE_OBJECT_CORRUPTED' && chunked.has(f.item.key)) report(f.item.key, 'corrupted');
        else throw f.error;
      }
    } else {
      for (const g of good) {
        known.add(g.oid);
        bytes += g.size;
      }
    }
    const failed = new Set(problems.map((p) => p.oid));
    const withdraw = [...dirs].filter(([m, d]) => !failed.has(m) && present.has(m) && d.files.some((f) => failed.has(f)));
    // A withdrawn manifest stored as chunks loses its list: deleting a loose key would leave it vouching.
    const doomed = [...bad, ...withdraw.map(([m]) => m).filter((m) => !chunked.has(m))];
    const doomedLists = [...new Set([...badLists, ...withdraw.map(([m]) => m).filter((m) => chunked.has(m))])];
    if ((doomed.length || doomedLists.length) && backend.readOnly) {
      warnings.push({
        code: 'REMOTE_NOT_REPAIRED',
        message: `remote "${remote.spec.name}" is read-only: ${[
          bad.length + badLists.length ? `${bad.length + badLists.length} bad ${bad.length + badLists.length === 1 ? 'copy' : 'copies'}` : '',
          withdraw.length ? `${withdraw.length} ${withdraw.length === 1 ? 'manifest' : 'manifests'} listing missing or bad files` : '',
        ].filter(Boolean).join(' and ')} left there`,
        hint: 'Run `dvs verify --remote` on the remote the web server publishes (the directory or bucket), then push good copies there.',
      });
    } else if (doomed.length || doomedLists.length) {
      await remote.newEpoch();
      const r = await processQueue('gc', [{ key: 'delete', size: 0, count: doomed.length, value: doomed }], (oids, call) => backend.delete(oids, call), settings);
      if (r.failed.length) throw r.failed[0].error;
      if (doomedLists.length) {
        const lists = await processQueue('gc', [{ key: 'chunk lists', size: 0, count: doomedLists.length, value: doomedLists.map((oid) => `${oid}.chunks`) }], (names, call) => backend.deletePackFiles!(names, call), settings);
        if (lists.failed.length) throw lists.failed[0].error;
      }
      for (const p of problems) if (p.problem !== 'missing' && chunked.has(p.oid)) p.quarantined = true;
      for (const p of problems) if (p.problem !== 'missing' && !packed.has(p.oid)) p.quarantined = true;
      for (const oid of [...doomed, ...withdraw.map(([m]) => m)]) known.markLost(oid, 'missing');
    }
    problems.sort(byPath);
    const withdrawn = withdraw.map(([oid, d]) => ({ path: d.path, oid })).sort(byPath);
    warnings.push(...refused.map(refusalWarning));
    return { checked: wanted.size, bytes, problems, withdrawn: backend.readOnly ? [] : withdrawn, remote: { name: remote.spec.name, url: remote.url }, ...(warnings.length ? { warnings } : {}) };
  } finally {
    await remote.close();
  }
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
