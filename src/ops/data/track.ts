import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DvsError, errnoCode, fromSystemError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { hashFiles, recordObject } from '../../objects/hash-files.js';
import { cacheSupportsReflink, type StoreMode } from '../../objects/store-file.js';
import { stampOf } from '../../objects/hash.js';
import { HashPool } from '../../objects/hash-pool.js';
import { manifestTotals, serializeManifest } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import { POINTER_SUFFIX, pointerPathOf, type DataKind, type Pointer } from '../../pointer/format.js';
import { readPointer, writePointer } from '../../pointer/io.js';
import { removeQuietly, removeTempsBeside } from '../../base/atomic.js';
import { gitignorePathOf, ignoreInGit } from '../../repo/gitignore.js';
import type { Repo } from '../../repo/repo.js';
import { trackedByGit } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { directoryOids, listingOf, stampsOf } from '../../workspace/dir-oids.js';
import { stageAndAudit, TrackJournal } from './track-journal.js';
import { manifestOf, scanDirectory } from '../../workspace/scan.js';
import { isDirectory, trackedAncestor, workspacePointers } from '../../workspace/targets.js';
import { updatePlaced } from '../../workspace/placed.js';
import { hasEntriesAt, openTrackedDirectory, trackInside } from './dir-edit.js';
import { expandGlobs } from '../../workspace/glob.js';
import { appendOnlyBase, checkAppend, precheckAppend, refuseAppend } from './append-only.js';

export interface TrackOptions {
  targets: string[];
  /** The targets are glob patterns, expanded inside the repository (workspace/glob.ts). */
  glob?: boolean;
  /** Declare the (directory) targets append-only: later tracks may add files, never change or remove one. */
  appendOnly?: boolean;
}

export interface TrackedItem {
  path: string;
  pointerPath: string;
  kind: DataKind;
  oid: Oid;
  size: number;
  files?: number;
  /** Whether the pointer changed (false: the data was already tracked as it is). */
  changed: boolean;
  /** Files and bytes actually read (unchanged files known from the stat cache are not). */
  hashedFiles: number;
  hashedBytes: number;
  /** Set when a path inside a tracked directory was tracked: only its entries were rehashed and changed. */
  inside?: { path: string; added: number; deleted: number; modified: number };
  /** Tracked from elsewhere (`-o`): the source as given. */
  source?: string;
  /** Sent straight to this remote (`--to-remote`), not kept in the cache. */
  remote?: string;
  /** The directory is append-only (its pointer says so); `appended`: files new since the version before. */
  appendOnly?: boolean;
  appended?: number;
}

export interface TrackResult {
  items: TrackedItem[];
  /** Files staged with git add (core.autostage). */
  staged: string[];
  /** Files to stage by hand when core.autostage is off. */
  toStage: string[];
  warnings: Warning[];
}

/**
 * Hash data into the cache and write its pointer. Everything is checked before anything is written, so
 * a refused target leaves no trace; within a target, the pointer is written last, after every object it
 * names is in the cache.
 */
export async function track(ctx: OpContext, options: TrackOptions): Promise<TrackResult> {
  const { repo } = ctx;
  if (options.targets.length === 0) {
    throw new DvsError('NO_TARGETS', 'Nothing to track', { hint: 'Name files or directories: dvs track data/' });
  }
  const args = options.glob ? expandGlobs(repo, ctx.cwd, options.targets) : options.targets;
  const targets = args.map((arg) => checkTarget(repo, ctx.cwd, arg));
  if (options.appendOnly) {
    const bad = targets.find((t) => t.kind !== 'dir' || t.owner);
    if (bad) {
      throw new DvsError('APPEND_ONLY_NOT_DIRECTORY', `${bad.arg}: --append-only applies to a tracked directory as a whole, not to ${bad.owner ? `a path inside ${bad.owner}` : 'a file'}`, {
        hint: bad.owner ? `Declare the directory: dvs track --append-only ${bad.owner}` : 'Keep the stream\'s files in a directory and track that: dvs track --append-only data/stream',
        data: { path: bad.rel },
      });
    }
  }
  const inGit = await trackedByGit(repo.root, targets.map((t) => t.rel));
  if (inGit.length) {
    const first = inGit[0];
    const target = targets.find((t) => first === t.rel || first.startsWith(t.rel + '/'))!;
    const what = first === target.rel ? 'already tracked by Git' : `Git already tracks files in it (${first})`;
    throw new DvsError('TRACKED_BY_GIT', `${target.arg}: ${what}`, {
      hint: `Stop tracking it in Git first: git rm -r --cached ${target.rel} && git commit -m "stop tracking ${target.rel} in Git"`,
      data: { path: target.rel, gitPath: first },
    });
  }

  return repo.withLock({ ...ctx.lock, command: 'dvs track' }, async () => {
    const state = await repo.statCache();
    const storeMode = chooseStoreMode(repo);
    let pool: HashPool | undefined;
    const sharedPool = () => (pool ??= new HashPool());
    const items: TrackedItem[] = [];
    const warnings: Warning[] = [];
    const changedFiles = new Set<string>();
    const journal = new TrackJournal(repo);
    const listed = new Map<string, string[]>();
    for (const e of journal.unfinished) {
      ignoreInGit(repo.root, e.path);
      changedFiles.add(e.pointerPath).add(gitignorePathOf(e.path));
    }
    const pending = (item: TrackedItem) => journal.add({ path: item.path, pointerPath: item.pointerPath, kind: item.kind, oid: item.oid, size: item.size });
    try {
      for (const t of targets) {
        const previous = existsSync(repo.abs(t.pointerPath)) ? tryReadPointer(repo, t.pointerPath) : undefined;
        let item: TrackedItem;
        if (t.owner) {
          if (previous?.appendOnly) await (await import('../remote/locks.js')).refuseLockedTrack(ctx, t.owner, [t.rel.slice(t.owner.length + 1)], warnings);
          const r = await trackInside(repo, { rel: t.rel, abs: t.abs, owner: t.owner }, { state, cache: repo.cache, storeMode, onProgress: ctx.onProgress, pool: sharedPool }, (v) => {
            if (previous?.appendOnly && (v.modified || v.deleted)) refuseAppend(t.owner!, [{ path: t.rel.slice(t.owner!.length + 1), reason: v.deleted ? 'gone' : 'changed' }]);
            pending({ path: t.owner!, pointerPath: t.pointerPath, kind: 'dir', oid: v.oid, size: v.size, changed: true, hashedFiles: 0, hashedBytes: 0 });
          });
          failOnErrors(r.errors);
          warnings.push(...r.warnings);
          const inside = { path: t.rel, added: r.added, deleted: r.deleted, modified: r.modified };
          item = { path: t.owner, pointerPath: t.pointerPath, kind: 'dir', oid: r.oid, size: r.size, files: r.files, changed: r.changed, hashedFiles: r.hashedFiles, hashedBytes: r.hashedBytes, inside };
        } else if (t.kind === 'file') {
          const stamp = stampOf(statSync(t.abs, { bigint: true }));
          // A link's target is copied: linking it into the read-only cache would change a file elsewhere.
          const r = await hashFiles([{ abs: t.abs, stamp }], { state, cache: repo.cache, storeMode: t.link ? 'copy' : storeMode, onProgress: ctx.onProgress, pool: sharedPool });
          failOnErrors(r.errors.map((e) => ({ path: t.rel, ...e })));
          const exec = (Number(statSync(t.abs).mode) & 0o100) !== 0;
          item = { path: t.rel, pointerPath: t.pointerPath, kind: 'file', oid: r.oids[0]!, size: stamp.size, changed: false, hashedFiles: r.hashedFiles, hashedBytes: r.hashedBytes };
          item.changed = !previous || previous.oid !== item.oid || previous.kind !== 'file' || previous.exec !== exec;
          if (item.changed) {
            pending(item);
            writePointer(repo.root, t.pointerPath, { kind: 'file', oid: item.oid, size: item.size, exec }, previous);
          }
        } else {
          const scan = scanDirectory(repo, t.rel);
          const unnamable = scan.warnings.find((w) => w.code === 'NAME_NOT_UTF8');
          if (unnamable) {
            throw new DvsError('NAME_NOT_UTF8', `${unnamable.message.replace(/, skipped$/, '')}; dvs records names as UTF-8 text and will not track the directory without it`, { hint: unnamable.hint, data: { path: unnamable.path } });
          }
          warnings.push(...scan.warnings);
          // Temp files a killed checkout left are not data: they go rather than wait for the next checkout.
          for (const rel of scan.temps) removeQuietly(join(t.abs, rel));
          const appendOnly = previous?.appendOnly === true && previous.kind === 'dir';
          const base = appendOnly ? appendOnlyBase(repo, t.rel, previous) : undefined;
          if (base) {
            const problems = precheckAppend(base, scan.files);
            if (problems.length) refuseAppend(t.rel, problems);
          }
          const r = await directoryOids(repo, t.rel, scan.files, { state, cache: repo.cache, storeMode, onProgress: ctx.onProgress, pool: sharedPool });
          failOnErrors(r.errors.map((e) => ({ path: `${t.rel}/${scan.files[e.index].rel}`, ...e })));
          const manifest = manifestOf(scan.files, r.oids);
          if (base) {
            const problems = checkAppend(base, manifest);
            if (problems.length) refuseAppend(t.rel, problems);
            const known = new Set(base.entries.map((e) => e.path));
            const appended = manifest.entries.filter((e) => !known.has(e.path)).map((e) => e.path);
            if (appended.length) await (await import('../remote/locks.js')).refuseLockedTrack(ctx, t.rel, appended, warnings);
          }
          const bytes = serializeManifest(manifest);
          const oid = repo.cache.addBuffer(bytes);
          recordObject(repo.cache, state, oid);
          state.markComplete(oid);
          const stamps = stampsOf(scan.files, r.oids);
          if (stamps) state.setDirectory(t.rel, oid, listingOf(scan.files), stamps);
          const totals = manifestTotals(manifest);
          item = { path: t.rel, pointerPath: t.pointerPath, kind: 'dir', oid, size: totals.size, files: totals.files, changed: false, hashedFiles: r.hashedFiles, hashedBytes: r.hashedBytes };
          const declare = options.appendOnly === true && !appendOnly;
          if (appendOnly || declare) item.appendOnly = true;
          if (base) item.appended = totals.files - base.entries.length;
          item.changed = !previous || previous.oid !== oid || previous.kind !== 'dir' || declare;
          if (item.changed) {
            pending(item);
            writePointer(repo.root, t.pointerPath, { kind: 'dir', oid, size: totals.size, files: totals.files, ...(declare ? { appendOnly: true } : {}) }, previous);
          }
        }
        items.push(item);
        if (item.changed || !previous) changedFiles.add(t.pointerPath);
        const ignoreFile = ignoreInGit(repo.root, item.path);
        if (ignoreFile) changedFiles.add(ignoreFile);
        if (!t.owner) removeTempsBeside(dirname(t.abs), [basename(t.rel), basename(t.pointerPath), '.gitignore'], listed);
      }
    } finally {
      await pool?.close();
    }
    // Tracked data is dvs's from now on (a link stays the user's: its target's bytes were copied).
    const links = new Set(targets.filter((t) => t.link).map((t) => t.rel));
    updatePlaced(repo, (record) => {
      for (const i of items) {
        if (i.kind === 'dir') record.record(i.path, { kind: 'dir', oid: i.oid });
        else if (!links.has(i.path)) record.recordFile(repo, i.path, i.oid);
      }
    });
    return { items, ...(await stageAndAudit(repo, journal, changedFiles, items)), warnings };
  });
}

export interface CheckedTarget {
  arg: string;
  rel: string;
  abs: string;
  kind: DataKind;
  pointerPath: string;
  /** The path is a symbolic link to a file: its target's bytes are tracked, by copy. */
  link: boolean;
  /** The tracked directory the path lies inside: the target edits its manifest. */
  owner?: string;
}

/** A target inside a tracked directory, checked up front like the others: nothing is written before. */
function insideTarget(repo: Repo, arg: string, rel: string, abs: string, owner: string, exists: boolean): CheckedTarget {
  const dir = openTrackedDirectory(repo, owner, arg);
  const sub = rel.slice(owner.length + 1);
  if (!exists && !hasEntriesAt(dir.manifest, sub)) {
    throw new DvsError('NOT_TRACKED', `${arg}: not in the workspace, and ${owner}'s manifest has no entry there`, {
      hint: `Check the path; list the directory's files with: dvs status --granular ${owner}`,
      data: { path: rel, owner },
    });
  }
  for (let at = rel; at.length > owner.length; at = at.slice(0, at.lastIndexOf('/'))) {
    if (repo.ignore.ignores(at, at !== rel || isDirectory(abs))) {
      throw new DvsError('TRACK_IGNORED', `${arg}: ignored by .dvsignore (${at}), so it is not part of ${owner}`, {
        hint: 'Change the .dvsignore rule if it should be tracked.',
        data: { path: rel, owner, ignored: at },
      });
    }
  }
  return { arg, rel, abs, kind: 'dir', pointerPath: dir.pointerPath, link: false, owner };
}

/** Everything that makes a target untrackable, checked before any work starts. */
export function checkTarget(repo: Repo, cwd: string, arg: string): CheckedTarget {
  const { abs, rel } = repo.resolve(cwd, arg.replace(/\/+$/, '') || arg);
  repo.guard.check(rel, pointerPathOf(rel));
  if (rel.endsWith(POINTER_SUFFIX)) {
    throw new DvsError('TRACK_POINTER', `${arg}: is a dvs pointer, not data`, {
      hint: `Track the data it stands for: dvs track ${arg.slice(0, -POINTER_SUFFIX.length)}`,
    });
  }
  // A path inside a tracked directory edits that directory's manifest (dir-edit.ts); gone, it drops the entry.
  const owner = trackedAncestor(repo, rel);
  let st;
  try {
    st = lstatSync(abs);
  } catch (err) {
    if (owner && (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR')) return insideTarget(repo, arg, rel, abs, owner, false);
    if (arg.includes('\uFFFD')) {
      throw new DvsError('NAME_NOT_UTF8', `${arg}: not found; the name given is not valid UTF-8 (shown with \uFFFD in place of the bad bytes)`, {
        hint: 'Rename the file to a UTF-8 name (for example with convmv), then track it.',
        data: { path: rel },
      });
    }
    throw fromSystemError(err, arg, 'reading');
  }
  const link = st.isSymbolicLink();
  if (link) {
    // A link to a file is tracked by its target's content, as DVC does; the link stays in the workspace.
    try {
      st = statSync(abs);
    } catch (err) {
      throw new DvsError('TRACK_BROKEN_LINK', `${arg}: a symbolic link to nothing (${readlinkSync(abs)})`, { hint: 'Fix or remove the link.', data: { path: rel }, cause: err });
    }
    if (st.isDirectory()) {
      throw new DvsError('TRACK_LINKED_DIRECTORY', `${arg}: a symbolic link to a directory; dvs tracks links to files only`, {
        hint: 'Track the directory at its real location, or copy it in.',
        data: { path: rel },
      });
    }
  }
  if (!st.isFile() && !st.isDirectory()) {
    throw new DvsError('TRACK_SPECIAL', `${arg}: not a regular file or directory`);
  }
  if (owner) return insideTarget(repo, arg, rel, abs, owner, true);
  if (st.isDirectory()) {
    const scan = workspacePointers(repo, rel);
    const nested = [...scan.pointers, ...scan.refused];
    if (nested.length) {
      throw new DvsError('CONTAINS_TRACKED_DATA', `${arg}: contains data tracked on its own (${nested[0].pointerPath})`, {
        hint: `Remove the inner pointers first (dvs remove ${nested[0].pointerPath}), or track the parts separately.`,
        data: { path: rel, nested: nested.map((n) => n.pointerPath) },
      });
    }
  }
  // A name too long to have a pointer beside it was refused by the path guard above (PATH_INVALID).
  return { arg, rel, abs, kind: st.isDirectory() ? 'dir' : 'file', pointerPath: pointerPathOf(rel), link };
}

function tryReadPointer(repo: Repo, pointerPath: string): Pointer | undefined {
  try {
    return readPointer(repo.root, pointerPath);
  } catch {
    // A broken pointer is replaced by the new one: the data in the workspace is the truth here.
    return undefined;
  }
}

function failOnErrors(errors: Array<{ path: string; code?: string; message: string }>): void {
  if (errors.length === 0) return;
  const first = errors[0];
  const mapped = fromSystemError(Object.assign(new Error(first.message), { code: first.code }), first.path, 'storing in the cache');
  if (mapped instanceof DvsError) {
    throw new DvsError(mapped.code, `${mapped.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, {
      hint: mapped.hint,
      data: { ...mapped.data, failed: errors.map((e) => e.path) },
    });
  }
  throw new DvsError('READ_FAILED', `${first.path}: ${first.message}`, { data: { failed: errors.map((e) => e.path) } });
}

/** The first configured link type that can also bring bytes into the cache here without copying. */
function chooseStoreMode(repo: Repo): StoreMode {
  for (const type of repo.config.linkTypes()) {
    if (type === 'reflink' && cacheSupportsReflink(repo.cache)) return 'reflink';
    if (type === 'hardlink') return 'hardlink';
    if (type === 'copy' || type === 'symlink') return 'copy';
  }
  return 'copy';
}
