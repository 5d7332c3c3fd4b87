import { chmodSync, lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { DvsError, errnoCode } from '../errors.js';
import { ProgressCounter, type ProgressListener } from '../events.js';
import { removeQuietly, removeTempsBeside } from '../base/atomic.js';
import { workspaceTempName } from '../base/temp-names.js';
import { stampOf } from '../objects/hash.js';
import { Linker, withExecBit, type LinkType } from '../objects/link.js';
import type { StatCache } from '../objects/stat-cache.js';
import type { Repo } from '../repo/repo.js';
import { changesOf, failureOf, objectProblem, type CheckoutFailure, type CheckoutPlan, type PlannedChange, type TargetPlan } from './checkout-plan.js';
import { ObjectChecker } from './object-check.js';

export interface ApplyOptions {
  state: StatCache;
  onProgress?: ProgressListener;
}

/** What applying a plan did: paths in plan order, and the failures met on the way. */
export interface AppliedCheckout {
  added: string[];
  modified: string[];
  deleted: string[];
  /** Files whose bytes already matched, placed again (`--relink`). */
  relinked: string[];
  failures: CheckoutFailure[];
  /** Link types actually used, with counts. */
  links: Partial<Record<LinkType, number>>;
}

/**
 * Carry out a checkout plan. Each target's path is judged again first (a plan may be older than the
 * workspace); its deletions run before its writes (a file may stand where a folder goes). Every file is
 * written to a temp name beside it and renamed into place, from a cache object checked before use. A path
 * that fails is reported and the rest goes on.
 */
export async function applyCheckoutPlan(repo: Repo, plan: CheckoutPlan, options: ApplyOptions): Promise<AppliedCheckout> {
  const applier = new PlanApplier(repo, options);
  for (const tp of plan.targets) {
    try {
      repo.guard.check(tp.dataPath, tp.pointerPath);
      await applier.target(tp);
    } catch (err) {
      applier.failures.push(failureOf(tp.dataPath, err, 'checking out'));
    }
    applier.removeTempsBeside(tp);
  }
  applier.progress.emit();
  return applier.outcome(plan);
}

class PlanApplier {
  readonly failures: CheckoutFailure[] = [];
  readonly progress: ProgressCounter;
  private readonly done = new Set<PlannedChange>();
  private readonly links: Partial<Record<LinkType, number>> = {};
  private readonly linker: Linker;
  private readonly checker: ObjectChecker;
  private readonly limit = pLimit(16);
  private readonly safeDirs = new Set<string>();
  /** The dvs temp files in each folder holding targets, listed once. */
  private readonly tempsIn = new Map<string, string[]>();

  constructor(
    private readonly repo: Repo,
    private readonly options: ApplyOptions,
  ) {
    this.linker = new Linker(repo.config.linkTypes());
    this.checker = new ObjectChecker(repo.cache, options.state);
    this.progress = new ProgressCounter('checkout', options.onProgress);
  }

  async target(tp: TargetPlan): Promise<void> {
    const abs = this.repo.abs(tp.dataPath);
    for (const rel of tp.temps) removeQuietly(join(abs, rel));
    this.deletes(tp);
    // A tracked directory exists after its checkout, even when its manifest lists nothing; unless the
    // plan removes it whole (data whose pointer is gone).
    const removedWhole = tp.deletes.some((c) => c.path === tp.dataPath && c.tree);
    if (tp.kind === 'dir' && !removedWhole) this.ensureDirectory(abs, tp.dataPath);
    const writes = [...tp.creates, ...tp.replaces, ...tp.relinks];
    this.progress.total = (this.progress.total ?? 0) + writes.length;
    const guarded = (c: PlannedChange, apply: (c: PlannedChange) => Promise<void>) =>
      this.limit(() => apply(c).catch((err) => this.failures.push(failureOf(c.path, err, 'checking out'))));
    await Promise.all(writes.map((c) => guarded(c, (w) => this.write(w))));
    await Promise.all(tp.modes.map((c) => guarded(c, (m) => this.mode(m))));
  }

  private deletes(tp: TargetPlan): void {
    const emptied = new Set<string>();
    for (const c of tp.deletes) {
      try {
        const abs = this.repo.abs(c.path);
        if (c.path !== tp.dataPath) this.checkParents(dirname(abs), c.path);
        rmSync(abs, { recursive: c.tree === true, force: true });
        this.done.add(c);
        if (c.path !== tp.dataPath) emptied.add(dirname(c.path.slice(tp.dataPath.length + 1)));
      } catch (err) {
        this.failures.push(failureOf(c.path, err, 'deleting'));
      }
    }
    pruneEmptyDirs(this.repo.abs(tp.dataPath), emptied);
    // Directories known to exist may have just gone.
    this.safeDirs.clear();
  }

  /** Link one object into place: to a temp name in the same directory, then rename over the target. */
  private async write(c: PlannedChange): Promise<void> {
    const object = c.object!;
    const health = this.checker.check(object.oid, object.size);
    if (health !== 'ok') throw objectProblem(c.path, object.oid, health);
    const abs = this.repo.abs(c.path);
    const dir = dirname(abs);
    this.ensureDirectory(dir, c.path);
    if (c.tree) {
      rmSync(abs, { recursive: true, force: true });
      this.safeDirs.clear();
    }
    // A temp name dvs recognises: if this command is killed before the rename, the next checkout
    // removes the file, and no scan ever takes it for data.
    const tmp = join(dir, workspaceTempName(basename(abs)));
    try {
      const type = await this.linker.link(this.repo.cache.pathOf(object.oid), tmp, object.exec);
      renameSync(tmp, abs);
      this.links[type] = (this.links[type] ?? 0) + 1;
    } catch (err) {
      removeQuietly(tmp);
      throw err;
    }
    // Recorded now so that the next status does not read back what was just written.
    this.options.state.set(stampOf(statSync(abs, { bigint: true })), object.oid, true);
    this.done.add(c);
    this.progress.add(1, object.size, c.path);
  }

  /**
   * Set the executable bit of a file whose bytes already match. Only a file of its own is changed in
   * place: a link into the cache (or any file sharing its inode) is placed again instead, so that no
   * cache object or other file changes mode with it.
   */
  private async mode(c: PlannedChange): Promise<void> {
    const abs = this.repo.abs(c.path);
    this.checkParents(dirname(abs), c.path);
    const st = lstatSync(abs);
    if (!st.isFile() || st.nlink > 1) {
      await this.write(c);
      return;
    }
    chmodSync(abs, withExecBit(st.mode, c.object!.exec));
    this.done.add(c);
  }

  /**
   * Create the directory for a file, refusing to write through a symbolic link: a link planted in a
   * tracked directory must not lead a checkout outside the repository.
   */
  private ensureDirectory(dir: string, path: string): void {
    this.walkParents(dir, path, true);
  }

  /** Refuse to delete or change a file reached through a symbolic link (or a non-directory). */
  private checkParents(dir: string, path: string): void {
    this.walkParents(dir, path, false);
  }

  private walkParents(dir: string, path: string, create: boolean): void {
    if (this.safeDirs.has(dir)) return;
    const rootLen = this.repo.root.length;
    let cursor = dir;
    const chain: string[] = [];
    while (cursor.length > rootLen && !this.safeDirs.has(cursor)) {
      chain.push(cursor);
      cursor = dirname(cursor);
    }
    for (const d of chain.reverse()) {
      let st;
      try {
        st = lstatSync(d);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || !create) throw err;
        mkdirSync(d);
        this.safeDirs.add(d);
        continue;
      }
      if (st.isSymbolicLink() || !st.isDirectory()) {
        throw new DvsError('PATH_OUTSIDE_REPO', `${path}: a parent in the workspace (${d.slice(rootLen + 1)}) is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; refusing to write through it`, {
          hint: 'Remove or rename it, then run dvs checkout again.',
        });
      }
      this.safeDirs.add(d);
    }
  }

  /**
   * Remove the temp files a killed command left beside a target: its own (a file checkout) and those
   * of its pointer and folder's .gitignore (track, remove).
   */
  removeTempsBeside(tp: TargetPlan): void {
    removeTempsBeside(dirname(this.repo.abs(tp.dataPath)), [basename(tp.dataPath), basename(tp.pointerPath), '.gitignore'], this.tempsIn);
  }

  outcome(plan: CheckoutPlan): AppliedCheckout {
    const out: AppliedCheckout = { added: [], modified: [], deleted: [], relinked: [], failures: this.failures, links: this.links };
    const lists = { create: out.added, replace: out.modified, mode: out.modified, delete: out.deleted, relink: out.relinked };
    for (const tp of plan.targets) for (const c of changesOf(tp)) if (this.done.has(c)) lists[c.action].push(c.path);
    return out;
  }
}

/** Remove directories emptied by deletions, deepest first, never above the tracked directory. */
function pruneEmptyDirs(base: string, dirs: Set<string>): void {
  const all = new Set<string>();
  for (let d of dirs) {
    while (d !== '.' && d !== '') {
      all.add(d);
      d = dirname(d);
    }
  }
  for (const d of [...all].sort((a, b) => b.length - a.length)) {
    try {
      if (readdirSync(join(base, d)).length === 0) rmdirSync(join(base, d));
    } catch {
      // not empty or already gone
    }
  }
}
