import { readFileSync, writeFileSync } from 'node:fs';
import { DvsError, isDvsError } from '../../errors.js';
import { compareBytes, manifestTotals, serializeManifest, sortEntries, type Manifest, type ManifestEntry, loadManifest } from '../../objects/manifest.js';
import { partitionOf } from '../data/append-only.js';
import { parsePointer, serializePointer, type Pointer } from '../../pointer/format.js';
import type { Repo } from '../../repo/repo.js';

export interface MergeDriverOptions {
  /** Git's %O, %A, %B: temp files holding the ancestor's, ours (the result goes here) and theirs. */
  base: string;
  ours: string;
  theirs: string;
  /** %P: the pointer's path in the repository. */
  path: string;
}

export interface MergeDriverResult {
  path: string;
  merged: boolean;
  /** Files inside the directory changed differently on both sides. */
  conflicts: string[];
  /** Why a clean merge was impossible (file pointers, kinds differ, manifest missing). */
  reason?: string;
  /** Files taken from each side. */
  fromOurs: number;
  fromTheirs: number;
}

/**
 * Three-way merge of a pointer, for `git merge`. Two branches that add or change different files of one
 * tracked directory merge cleanly: the manifests are merged file by file against their common ancestor,
 * the merged manifest goes into the cache and the merged pointer into Git. A file changed differently on
 * both sides, or a file pointer changed on both sides, is a conflict: conflict markers Git understands
 * are written and the driver exits non-zero.
 */
export function mergePointers(repo: Repo, options: MergeDriverOptions): MergeDriverResult {
  const result: MergeDriverResult = { path: options.path, merged: false, conflicts: [], fromOurs: 0, fromTheirs: 0 };
  const read = (file: string, side: string): Pointer | undefined => {
    const text = readFileSync(file, 'utf8');
    if (text.trim() === '') return undefined; // absent on that side (add/add merge)
    return parsePointer(text, `${options.path} (${side})`);
  };
  let base: Pointer | undefined;
  let ours: Pointer | undefined;
  let theirs: Pointer | undefined;
  try {
    base = read(options.base, 'base');
    ours = read(options.ours, 'ours');
    theirs = read(options.theirs, 'theirs');
  } catch (err) {
    if (!isDvsError(err)) throw err;
    return conflict(options, result, err.message);
  }
  if (!ours || !theirs) return conflict(options, result, 'deleted on one side and changed on the other');
  if (ours.oid === theirs.oid && ours.kind === theirs.kind) {
    result.merged = true;
    return result; // both made the same change; ours already holds it
  }
  if (ours.kind !== 'dir' || theirs.kind !== 'dir' || (base && base.kind !== 'dir')) {
    return conflict(options, result, 'a file pointer changed differently on both sides');
  }
  let manifests: { base: Manifest; ours: Manifest; theirs: Manifest };
  try {
    manifests = {
      base: base ? loadManifest(repo.cache, base.oid, `${options.path} (base)`) : { entries: [] },
      ours: loadManifest(repo.cache, ours.oid, `${options.path} (ours)`),
      theirs: loadManifest(repo.cache, theirs.oid, `${options.path} (theirs)`),
    };
  } catch (err) {
    if (!isDvsError(err)) throw err;
    return conflict(options, result, `${err.message} (fetch both branches' data, then merge again)`);
  }
  const appendOnly = ours.appendOnly === true || theirs.appendOnly === true || base?.appendOnly === true;
  const merged = appendOnly ? mergeAppended(manifests.base, manifests.ours, manifests.theirs, result) : mergeManifests(manifests.base, manifests.ours, manifests.theirs, result);
  if (result.conflicts.length) {
    const what = appendOnly ? 'append-only, and these partitions were changed (not only appended to) or got different files under one name' : 'changed differently on both sides';
    return conflict(options, result, `${what}: ${result.conflicts.slice(0, 10).join(', ')}${result.conflicts.length > 10 ? ` and ${result.conflicts.length - 10} more` : ''}`);
  }
  const oid = repo.cache.addBuffer(serializeManifest(merged));
  const totals = manifestTotals(merged);
  writeFileSync(options.ours, serializePointer({ kind: 'dir', oid, size: totals.size, files: totals.files, ...(appendOnly ? { appendOnly: true } : {}) }, ours.doc));
  result.merged = true;
  return result;
}

function same(a: ManifestEntry | undefined, b: ManifestEntry | undefined): boolean {
  if (!a || !b) return a === b;
  return a.oid === b.oid && a.exec === b.exec;
}

/** Per path: unchanged on one side → take the other; the same change on both → take it; else conflict. */
export function mergeManifests(base: Manifest, ours: Manifest, theirs: Manifest, tally: Pick<MergeDriverResult, 'conflicts' | 'fromOurs' | 'fromTheirs'>): Manifest {
  const index = (m: Manifest) => new Map(m.entries.map((e) => [e.path, e]));
  const b = index(base);
  const o = index(ours);
  const t = index(theirs);
  const paths = [...new Set([...b.keys(), ...o.keys(), ...t.keys()])].sort(compareBytes);
  const entries: ManifestEntry[] = [];
  for (const path of paths) {
    const x = b.get(path);
    const y = o.get(path);
    const z = t.get(path);
    let pick: ManifestEntry | undefined;
    if (same(y, z)) pick = y;
    else if (same(x, y)) {
      pick = z;
      tally.fromTheirs++;
    } else if (same(x, z)) {
      pick = y;
      tally.fromOurs++;
    } else {
      tally.conflicts.push(path);
      pick = y;
    }
    if (pick) entries.push(pick);
  }
  // A file on one side and a directory of the same name on the other cannot both be.
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].path.startsWith(entries[i - 1].path + '/')) tally.conflicts.push(entries[i - 1].path);
  }
  return { entries };
}

/**
 * An append-only directory: the union of both sides' files. A recorded file (in the ancestor) changed
 * or removed on either side, or one new name with different bytes on the two sides, is a conflict of
 * its partition (its folder), which is what `conflicts` names.
 */
export function mergeAppended(base: Manifest, ours: Manifest, theirs: Manifest, tally: Pick<MergeDriverResult, 'conflicts' | 'fromOurs' | 'fromTheirs'>): Manifest {
  const o = new Map(ours.entries.map((e) => [e.path, e]));
  const t = new Map(theirs.entries.map((e) => [e.path, e]));
  const conflicts = new Set<string>();
  for (const e of base.entries) {
    if (!same(e, o.get(e.path)) || !same(e, t.get(e.path))) conflicts.add(partitionOf(e.path));
  }
  const known = new Set(base.entries.map((e) => e.path));
  const entries = [...ours.entries.filter((e) => known.has(e.path) || !t.has(e.path) || same(e, t.get(e.path)))];
  for (const e of ours.entries) {
    if (known.has(e.path)) continue;
    const other = t.get(e.path);
    if (other && !same(e, other)) conflicts.add(partitionOf(e.path));
    else if (!other) tally.fromOurs++;
  }
  for (const e of theirs.entries) {
    if (known.has(e.path) || o.has(e.path)) continue;
    entries.push(e);
    tally.fromTheirs++;
  }
  const merged = { entries: sortEntries(entries) };
  for (let i = 1; i < merged.entries.length; i++) {
    if (merged.entries[i].path.startsWith(merged.entries[i - 1].path + '/')) conflicts.add(partitionOf(merged.entries[i - 1].path));
  }
  tally.conflicts.push(...[...conflicts].sort(compareBytes));
  return merged;
}

/** Leave Git's conflict markers around the two pointers, with the reason as a comment. */
function conflict(options: MergeDriverOptions, result: MergeDriverResult, reason: string): MergeDriverResult {
  const ours = readFileSync(options.ours, 'utf8');
  const theirs = readFileSync(options.theirs, 'utf8');
  const nl = (s: string) => (s.endsWith('\n') || s === '' ? s : s + '\n');
  const text = `<<<<<<< ours\n# dvs: ${reason}\n${nl(ours)}=======\n${nl(theirs)}>>>>>>> theirs\n`;
  writeFileSync(options.ours, text);
  result.reason = reason;
  return result;
}

export function assertMergeArgs(args: Partial<MergeDriverOptions>): MergeDriverOptions {
  if (!args.base || !args.ours || !args.theirs || !args.path) {
    throw new DvsError('MERGE_DRIVER_ARGS', 'dvs merge-driver needs %O %A %B %P', { hint: 'It is run by git merge; `dvs install` registers it.' });
  }
  return args as MergeDriverOptions;
}
