import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import type { ErrorCode } from '../errors.js';
import { DvsError, errnoCode, fromSystemError, isDvsError } from '../errors.js';
import type { Warning } from '../events.js';
import { loadManifest, readManifest, STREAM_ABOVE, type Manifest, type ManifestEntry } from '../objects/manifest.js';
import type { Oid } from '../objects/oid.js';
import type { StatCache } from '../objects/stat-cache.js';
import type { DataKind, Pointer } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';
import { compareWorkspace } from './compare.js';
import type { Target } from './targets.js';

/**
 * What a checkout will do, decided before anything in the workspace is touched (as dvc-data's checkout
 * does): `--dry-run` prints it, and `applyCheckoutPlan` (checkout-apply.ts) carries it out.
 *
 * - create: nothing is at the path; the object is placed there.
 * - replace: other content is there (saved in the cache, or `--force`); the object replaces it.
 * - delete: a file the pointer does not name (saved in the cache, or `--force`).
 * - mode: the bytes match, only the executable bit differs.
 * - relink: the bytes match; `--relink` places the object again with the configured `cache.type`.
 */
export type CheckoutAction = 'create' | 'replace' | 'delete' | 'mode' | 'relink';

/** The cache object a path will hold. */
export interface PlannedObject {
  oid: Oid;
  size: number;
  exec: boolean;
}

export interface PlannedChange {
  action: CheckoutAction;
  /** Workspace path, relative to the repository root. */
  path: string;
  /** What the path will hold (every action but delete). */
  object?: PlannedObject;
  /** A directory stands at the path (replace: where the file goes) and goes as a whole. */
  tree?: boolean;
}

/** The plan for one pointer. */
export interface TargetPlan {
  pointerPath: string;
  dataPath: string;
  kind: DataKind;
  /** Applied in this order: deletes (a file may stand where a folder goes), then the writes, then modes. */
  deletes: PlannedChange[];
  creates: PlannedChange[];
  replaces: PlannedChange[];
  relinks: PlannedChange[];
  modes: PlannedChange[];
  /** Files that already match. */
  unchanged: number;
  /** dvs temp files a killed command left inside the tracked directory (relative to it): never data. */
  temps: string[];
}

/** A path a checkout leaves as it is, and why. */
export interface CheckoutFailure {
  path: string;
  code: ErrorCode;
  message: string;
  hint?: string;
}

export interface CheckoutPlan {
  targets: TargetPlan[];
  /** Paths that will not be checked out: unsaved changes without --force, objects not in the cache, bad pointers. */
  failures: CheckoutFailure[];
  warnings: Warning[];
}

export interface PlanOptions {
  state: StatCache;
  /** Replace and delete workspace data even when its content is not in the cache. */
  force?: boolean;
  /** Place again files whose bytes already match. */
  relink?: boolean;
  /** Directories whose manifest has more bytes are planned as streams (tests set 0; default STREAM_ABOVE). */
  streamAbove?: number;
}

/**
 * Plan the checkout of `targets`: compare each with its pointer and decide, per path, what will change.
 * Reads the workspace, the pointers and the cache; writes nothing but the stat cache (as status does).
 */
export async function planCheckout(repo: Repo, targets: Target[], options: PlanOptions): Promise<CheckoutPlan> {
  const plan: CheckoutPlan = { targets: [], failures: [], warnings: [] };
  const planner = new Planner(repo, options, plan);
  for (const target of targets) {
    const { dataPath, pointerPath } = target.ref;
    try {
      repo.guard.check(dataPath, pointerPath);
      const pointer = readPointer(repo.root, pointerPath);
      const tp = emptyTargetPlan(pointerPath, dataPath, pointer.kind);
      if (pointer.kind === 'file') await planner.file(tp, pointer);
      else await planner.directory(tp, pointer, target.sub);
      plan.targets.push(tp);
    } catch (err) {
      plan.failures.push(failureOf(dataPath, err, 'checking out'));
    }
  }
  return plan;
}

export function emptyTargetPlan(pointerPath: string, dataPath: string, kind: DataKind): TargetPlan {
  return { pointerPath, dataPath, kind, deletes: [], creates: [], replaces: [], relinks: [], modes: [], unchanged: 0, temps: [] };
}

/** Every change of a target, in the order it is applied. */
export function changesOf(tp: TargetPlan): PlannedChange[] {
  return [...tp.deletes, ...tp.creates, ...tp.replaces, ...tp.relinks, ...tp.modes];
}

/** A failure to report for `path`; an error that is not the user's to fix is thrown on. */
export function failureOf(path: string, err: unknown, doing: string): CheckoutFailure {
  const mapped = isDvsError(err) ? err : fromSystemError(err, path, doing);
  if (!isDvsError(mapped)) throw err;
  return { path, code: mapped.code, message: mapped.message, hint: mapped.hint };
}

/** What the workspace holds at one file of a directory: its oid (unknown if unreadable) and exec bit. */
interface CurrentFile {
  oid?: Oid;
  exec: boolean;
}

class Planner {
  constructor(
    private readonly repo: Repo,
    private readonly options: PlanOptions,
    private readonly plan: CheckoutPlan,
  ) {}

  async file(tp: TargetPlan, pointer: Pointer): Promise<void> {
    const { dataPath } = tp;
    const object = { oid: pointer.oid, size: pointer.size, exec: pointer.exec === true };
    const ds = await compareWorkspace(this.repo, dataPath, pointer, { state: this.options.state });
    if (ds.workspace === 'unchanged' || ds.modeOnly) {
      if (this.options.relink && !this.ownLink(dataPath, pointer.oid)) {
        this.requireObject(dataPath, pointer.oid);
        tp.relinks.push({ action: 'relink', path: dataPath, object });
      } else if (ds.modeOnly) tp.modes.push({ action: 'mode', path: dataPath, object });
      else tp.unchanged++;
      return;
    }
    this.requireObject(dataPath, pointer.oid);
    if (ds.workspace === 'missing') {
      tp.creates.push({ action: 'create', path: dataPath, object });
      return;
    }
    if (lstatIfPresent(this.repo.abs(dataPath))?.isDirectory()) {
      if (!this.options.force) {
        throw new DvsError('UNSAVED_CHANGES', `${dataPath}: is a directory in the workspace, the pointer names a file; left as it is`, {
          hint: `Move the directory away, or replace it with \`dvs checkout --force ${dataPath}\`.`,
        });
      }
      tp.replaces.push({ action: 'replace', path: dataPath, object, tree: true });
      return;
    }
    const refusal = this.unsaved(dataPath, ds.currentOid);
    if (refusal) throw refusal;
    tp.replaces.push({ action: 'replace', path: dataPath, object });
  }

  async directory(tp: TargetPlan, pointer: Pointer, sub?: string): Promise<void> {
    const { dataPath } = tp;
    if (!this.repo.cache.has(pointer.oid)) throw objectProblem(dataPath, pointer.oid, 'missing', 'manifest');
    const inScope = (p: string) => sub === undefined || p === sub || p.startsWith(sub + '/');
    if ((this.repo.cache.sizeOf(pointer.oid) ?? 0) > (this.options.streamAbove ?? STREAM_ABOVE)) return this.bigDirectory(tp, pointer, inScope);
    const manifest = loadManifest(this.repo.cache, pointer.oid, dataPath);
    const current = await this.currentFiles(tp, pointer);
    if (current === 'unchanged' && !this.options.relink) {
      tp.unchanged += manifest.entries.length;
      return;
    }
    const files = current === 'unchanged' ? filesOf(manifest) : current;
    const wanted = new Set(manifest.entries.map((e) => e.path));
    this.planDeletes(tp, [...files].filter(([rel]) => !wanted.has(rel)), inScope);
    for (const e of manifest.entries) {
      if (!inScope(e.path)) continue;
      this.planFile(tp, e, files.get(e.path));
    }
  }

  /**
   * `directory` for a manifest too big to hold as objects (millions of entries): the workspace is
   * compared as a stream (compare-stream.ts), which gives only what differs, and the manifest is read
   * again as a stream to plan each entry. Memory is the plan itself and the changes, not the directory.
   */
  private async bigDirectory(tp: TargetPlan, pointer: Pointer, inScope: (rel: string) => boolean): Promise<void> {
    const { dataPath } = tp;
    // What differs: undefined when nothing stands at the path (every entry is created).
    let differs: { removed: Set<string>; files: Map<string, CurrentFile> } | undefined;
    const st = lstatIfPresent(this.repo.abs(dataPath));
    if (st && !st.isDirectory()) await this.fileInTheWay(tp, pointer);
    else if (st) {
      // streamAbove 0: always the streamed comparison, whose changedFiles this plan needs.
      const ds = await compareWorkspace(this.repo, dataPath, pointer, { state: this.options.state, changesOnly: true, streamAbove: 0 });
      tp.temps = ds.temps ?? [];
      if (ds.workspace === 'unchanged' && !this.options.relink) {
        tp.unchanged += ds.entries!;
        return;
      }
      const files = ds.changedFiles!;
      this.planDeletes(tp, ds.changes!.added.map((rel) => [rel, files.get(rel)!]), inScope);
      differs = { removed: new Set(ds.changes!.removed), files };
    }
    readManifest(this.repo.cache, pointer.oid, dataPath, (e) => {
      if (!inScope(e.path)) return;
      // A file the comparison did not name holds exactly the entry.
      const cur = differs && (differs.files.get(e.path) ?? (differs.removed.has(e.path) ? undefined : { oid: e.oid, exec: e.exec }));
      this.planFile(tp, e, cur);
    });
  }

  /** Plan one entry of a directory's manifest, given what the workspace holds there. */
  private planFile(tp: TargetPlan, e: ManifestEntry, cur: CurrentFile | undefined): void {
    const change = this.planEntry(tp.dataPath, `${tp.dataPath}/${e.path}`, cur, { oid: e.oid, size: e.size, exec: e.exec });
    if (change === 'unchanged') tp.unchanged++;
    else if (change) addChange(tp, change);
  }

  /**
   * The files the workspace holds at a tracked directory's path, or `unchanged` when they are exactly
   * its manifest. A file (or link) standing where the directory goes is planned for deletion here.
   */
  private async currentFiles(tp: TargetPlan, pointer: Pointer): Promise<Map<string, CurrentFile> | 'unchanged'> {
    const { dataPath } = tp;
    const st = lstatIfPresent(this.repo.abs(dataPath));
    if (!st) return new Map();
    if (!st.isDirectory()) {
      await this.fileInTheWay(tp, pointer);
      return new Map();
    }
    const ds = await compareWorkspace(this.repo, dataPath, pointer, { state: this.options.state });
    tp.temps = ds.temps ?? [];
    if (ds.workspace === 'unchanged') return 'unchanged';
    const files = new Map<string, CurrentFile>();
    ds.current!.files.forEach((f, i) => files.set(f.rel, { oid: ds.current!.oids[i], exec: f.exec }));
    return files;
  }

  /** A file (or link) stands where a tracked directory goes: planned for deletion, unless it is saved nowhere. */
  private async fileInTheWay(tp: TargetPlan, pointer: Pointer): Promise<void> {
    const ds = await compareWorkspace(this.repo, tp.dataPath, { ...pointer, kind: 'file' }, { state: this.options.state });
    const refusal = this.unsaved(tp.dataPath, ds.currentOid);
    if (refusal) throw refusal;
    tp.deletes.push({ action: 'delete', path: tp.dataPath });
  }

  /**
   * The one place a target's deletions are decided: the workspace files of a tracked directory that its
   * manifest does not name. One whose content is saved nowhere is refused (kept) without --force.
   */
  private planDeletes(tp: TargetPlan, unwanted: Iterable<[rel: string, cur: CurrentFile]>, inScope: (rel: string) => boolean): void {
    for (const [rel, cur] of unwanted) {
      if (!inScope(rel)) continue;
      const path = `${tp.dataPath}/${rel}`;
      const refusal = this.unsaved(path, cur.oid, tp.dataPath, true);
      if (refusal) this.plan.failures.push(failureOf(path, refusal, 'checking out'));
      else tp.deletes.push({ action: 'delete', path });
    }
  }

  /** The change one manifest entry needs, given what the workspace holds there; undefined when refused. */
  private planEntry(dataPath: string, path: string, cur: CurrentFile | undefined, object: PlannedObject): PlannedChange | 'unchanged' | undefined {
    let action: CheckoutAction;
    if (!cur) action = 'create';
    else if (cur.oid === object.oid) {
      if (this.options.relink && !this.ownLink(path, object.oid)) action = 'relink';
      else if (cur.exec !== object.exec) return { action: 'mode', path, object };
      else return 'unchanged';
    } else {
      const refusal = this.unsaved(path, cur.oid, dataPath);
      if (refusal) {
        this.plan.failures.push(failureOf(path, refusal, 'checking out'));
        return undefined;
      }
      action = 'replace';
    }
    if (!this.repo.cache.has(object.oid)) {
      this.plan.failures.push(failureOf(path, objectProblem(path, object.oid, 'missing'), 'checking out'));
      return undefined;
    }
    return { action, path, object };
  }

  /**
   * Whether the path is the user's own symbolic link to the data (not a symlink checkout of the cache
   * object): --relink leaves it, as track does.
   */
  private ownLink(path: string, oid: Oid): boolean {
    const abs = this.repo.abs(path);
    if (!lstatIfPresent(abs)?.isSymbolicLink()) return false;
    return readlinkSync(abs) !== this.repo.cache.pathOf(oid);
  }

  private requireObject(path: string, oid: Oid): void {
    if (!this.repo.cache.has(oid)) throw objectProblem(path, oid, 'missing');
  }

  /** Content of the workspace that is not in the cache would be lost by replacing or deleting it. */
  private unsaved(path: string, currentOid: Oid | undefined, trackPath = path, deleting = false): DvsError | undefined {
    if (this.options.force) return undefined;
    if (currentOid !== undefined && this.repo.cache.has(currentOid)) return undefined;
    const what = deleting ? 'not in the pointer and not saved in the cache; not deleted' : 'modified in the workspace and not saved in the cache; left as it is';
    return new DvsError('UNSAVED_CHANGES', `${path}: ${what}`, {
      hint: `Keep the change with \`dvs track ${trackPath}\`, or discard it with \`dvs checkout --force ${path}\`.`,
      data: { path },
    });
  }
}

function addChange(tp: TargetPlan, change: PlannedChange): void {
  const lists: Record<CheckoutAction, PlannedChange[]> = { create: tp.creates, replace: tp.replaces, delete: tp.deletes, mode: tp.modes, relink: tp.relinks };
  lists[change.action].push(change);
}

/** A directory that matches its manifest, as a map of current files. */
function filesOf(manifest: Manifest): Map<string, CurrentFile> {
  return new Map(manifest.entries.map((e) => [e.path, { oid: e.oid, exec: e.exec }]));
}

function lstatIfPresent(abs: string): Stats | undefined {
  try {
    return lstatSync(abs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function objectProblem(path: string, oid: Oid, health: string, what = 'object'): DvsError {
  if (health === 'missing') {
    return new DvsError('OBJECT_MISSING', `${path}: ${what} ${oid.slice(0, 10)} is not in the cache`, {
      hint: 'Fetch it from a remote: dvs pull (or dvs fetch, then dvs checkout).',
      data: { path, oid },
    });
  }
  return new DvsError('OBJECT_CORRUPTED', `${path}: cache object ${oid.slice(0, 10)} is ${health === 'wrong-size' ? 'the wrong size' : 'corrupted'}; it was moved to quarantine and not checked out`, {
    hint: 'Fetch it again from a remote (dvs pull), or re-track the data where it is intact.',
    data: { path, oid },
  });
}
