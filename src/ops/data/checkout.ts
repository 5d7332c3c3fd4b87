import type { ErrorCode } from '../../errors.js';
import { lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pLimit from 'p-limit';
import { DvsError, errnoCode, fromSystemError, isDvsError } from '../../errors.js';
import { ProgressCounter, type Warning } from '../../events.js';
import { stampOf } from '../../objects/hash.js';
import { Linker } from '../../objects/link.js';
import type { ManifestEntry } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import type { StatCache } from '../../objects/stat-cache.js';
import type { LinkType } from '../../objects/link.js';
import type { Pointer } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import { workspaceTempName } from '../../base/temp-names.js';
import type { Repo } from '../../repo/repo.js';
import { removeQuietly, removeTempsBeside } from '../../base/atomic.js';
import type { OpContext } from '../context.js';
import { compareWorkspace } from '../../workspace/compare.js';
import { ObjectChecker } from '../../workspace/object-check.js';
import { selectTargets, type Target } from '../../workspace/targets.js';
import { loadManifest } from '../../objects/manifest.js';
import { afterCheckout, type OrphanRemoval } from '../../workspace/orphans.js';
import { hasPlacedRecord } from '../../workspace/placed.js';

export interface CheckoutOptions {
  targets?: string[];
  /** Overwrite or delete workspace data that is not saved in the cache. */
  force?: boolean;
  /** Only these pointers (already resolved), e.g. those a hook found changed between two refs. */
  pointers?: Target[];
}

export interface CheckoutFailure {
  path: string;
  code: ErrorCode;
  message: string;
  hint?: string;
}

export interface CheckoutResult {
  added: string[];
  modified: string[];
  deleted: string[];
  unchanged: number;
  failures: CheckoutFailure[];
  /** Link types actually used, with counts. */
  links: Partial<Record<LinkType, number>>;
  warnings: Warning[];
  /** Data removed because its pointer is gone (checkout of the whole repository; see workspace/orphans.ts). */
  orphaned: OrphanRemoval[];
}

/**
 * Make the workspace match the pointers, touching only what differs. Workspace data that exists nowhere
 * else (its content is not in the cache) is never overwritten or deleted without `force`; a file that
 * cannot be checked out is reported and the rest goes on.
 */
export async function checkout(ctx: OpContext, options: CheckoutOptions = {}): Promise<CheckoutResult> {
  const { repo } = ctx;
  const { targets, refused } = options.pointers ? { targets: options.pointers, refused: [] } : selectTargets(repo, ctx.cwd, options.targets);
  const result: CheckoutResult = { added: [], modified: [], deleted: [], unchanged: 0, failures: [], links: {}, warnings: [], orphaned: [] };
  for (const r of refused) result.failures.push({ path: r.pointerPath, code: r.error.code, message: r.error.message, hint: r.error.hint });
  const wholeRepository = !options.pointers && !options.targets?.length;
  if (targets.length === 0 && !(wholeRepository && hasPlacedRecord(repo))) return result;
  return repo.withLock({ ...ctx.lock, command: 'dvs checkout' }, async () => {
    const state = await repo.statCache();
    state.preload();
    const run = new CheckoutRun(repo, state, result, options.force === true, ctx);
    for (const target of targets) {
      try {
        // Checked again here, whoever chose the targets: this is the command that writes and deletes.
        repo.guard.check(target.ref.dataPath, target.ref.pointerPath);
        const pointer = readPointer(repo.root, target.ref.pointerPath);
        if (pointer.kind === 'file') await run.file(target.ref.dataPath, pointer);
        else await run.directory(target.ref.dataPath, pointer, target.sub);
        run.removeTempsBeside(target.ref);
      } catch (err) {
        run.fail(target.ref.dataPath, err);
      }
    }
    await run.finish();
    const orphans = await afterCheckout(repo, state, { targets, refused: refused.map((r) => r.pointerPath), changed: result, wholeRepository });
    result.orphaned = orphans.removed;
    result.warnings.push(...orphans.warnings);
    return result;
  });
}

interface PlannedWrite {
  path: string;
  entry: { oid: Oid; size: number; exec: boolean };
  replaces: boolean;
}

class CheckoutRun {
  private readonly linker: Linker;
  private readonly checker: ObjectChecker;
  private readonly limit = pLimit(16);
  private readonly progress: ProgressCounter;
  private readonly safeDirs = new Set<string>();
  /** The dvs temp files in each folder holding targets, listed once per run. */
  private readonly tempsIn = new Map<string, string[]>();

  constructor(
    private readonly repo: Repo,
    private readonly state: StatCache,
    private readonly result: CheckoutResult,
    private readonly force: boolean,
    ctx: OpContext,
  ) {
    this.linker = new Linker(repo.config.linkTypes());
    this.checker = new ObjectChecker(repo.cache, state);
    this.progress = new ProgressCounter('checkout', ctx.onProgress);
  }

  fail(path: string, err: unknown): void {
    if (isDvsError(err)) {
      this.result.failures.push({ path, code: err.code, message: err.message, hint: err.hint });
      return;
    }
    const mapped = fromSystemError(err, path, 'checking out');
    if (isDvsError(mapped)) this.result.failures.push({ path, code: mapped.code, message: mapped.message, hint: mapped.hint });
    else throw err;
  }

  /** Content of the workspace that is not in the cache would be lost by replacing it. */
  private unsaved(path: string, currentOid: Oid | undefined, trackPath = path, deleting = false): DvsError | undefined {
    if (this.force) return undefined;
    if (currentOid !== undefined && this.repo.cache.has(currentOid)) return undefined;
    const what = deleting ? 'not in the pointer and not saved in the cache; not deleted' : 'modified in the workspace and not saved in the cache; left as it is';
    return new DvsError('UNSAVED_CHANGES', `${path}: ${what}`, {
      hint: `Keep the change with \`dvs track ${trackPath}\`, or discard it with \`dvs checkout --force ${path}\`.`,
      data: { path },
    });
  }

  async file(dataPath: string, pointer: Pointer): Promise<void> {
    const ds = await compareWorkspace(this.repo, dataPath, pointer, { state: this.state });
    if (ds.workspace === 'unchanged') {
      this.result.unchanged++;
      return;
    }
    const health = this.checker.check(pointer.oid, pointer.size);
    if (health !== 'ok') throw objectProblem(dataPath, pointer.oid, health);
    if (ds.workspace === 'modified') {
      const abs = this.repo.abs(dataPath);
      if (lstatSync(abs).isDirectory()) {
        if (!this.force) {
          throw new DvsError('UNSAVED_CHANGES', `${dataPath}: is a directory in the workspace, the pointer names a file; left as it is`, {
            hint: `Move the directory away, or replace it with \`dvs checkout --force ${dataPath}\`.`,
          });
        }
        rmSync(abs, { recursive: true, force: true });
      } else {
        const refusal = this.unsaved(dataPath, ds.currentOid);
        if (refusal) throw refusal;
      }
    }
    await this.write({ path: dataPath, entry: { oid: pointer.oid, size: pointer.size, exec: pointer.exec === true }, replaces: ds.workspace === 'modified' });
  }

  async directory(dataPath: string, pointer: Pointer, sub?: string): Promise<void> {
    if (!this.repo.cache.has(pointer.oid)) {
      throw objectProblem(dataPath, pointer.oid, 'missing', 'manifest');
    }
    const manifest = loadManifest(this.repo.cache, pointer.oid, dataPath);
    const abs = this.repo.abs(dataPath);
    let st;
    try {
      st = lstatSync(abs);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    if (st && !st.isDirectory()) {
      // A file (or link) where the directory belongs.
      const ds = await compareWorkspace(this.repo, dataPath, { ...pointer, kind: 'file' }, { state: this.state });
      const refusal = this.unsaved(dataPath, ds.currentOid);
      if (refusal) throw refusal;
      rmSync(abs, { force: true });
      this.result.deleted.push(dataPath);
      st = undefined;
    }
    if (!st) mkdirSync(abs, { recursive: true });
    const ds = await compareWorkspace(this.repo, dataPath, pointer, { state: this.state });
    for (const rel of ds.temps ?? []) removeQuietly(join(abs, rel));
    if (ds.workspace === 'unchanged') {
      this.result.unchanged += manifest.entries.length;
      return;
    }
    const inScope = (p: string) => sub === undefined || p === sub || p.startsWith(sub + '/');
    const current = new Map<string, { oid?: Oid; exec: boolean }>();
    ds.current!.files.forEach((f, i) => current.set(f.rel, { oid: ds.current!.oids[i], exec: f.exec }));
    const wanted = new Map<string, ManifestEntry>(manifest.entries.map((e) => [e.path, e]));

    // Deletions first: a file may stand where a directory must go, or the reverse.
    const dirsToPrune = new Set<string>();
    for (const [rel, cur] of current) {
      if (wanted.has(rel) || !inScope(rel)) continue;
      const path = `${dataPath}/${rel}`;
      const refusal = this.unsaved(path, cur.oid, dataPath, true);
      if (refusal) {
        this.fail(path, refusal);
        continue;
      }
      rmSync(join(abs, rel), { force: true });
      this.result.deleted.push(path);
      dirsToPrune.add(dirname(rel));
    }
    pruneEmptyDirs(abs, dirsToPrune);

    const writes: PlannedWrite[] = [];
    for (const e of manifest.entries) {
      if (!inScope(e.path)) continue;
      const cur = current.get(e.path);
      if (cur && cur.oid === e.oid && cur.exec === e.exec) {
        this.result.unchanged++;
        continue;
      }
      const path = `${dataPath}/${e.path}`;
      if (cur) {
        const refusal = cur.oid === e.oid ? undefined : this.unsaved(path, cur.oid, dataPath);
        if (refusal) {
          this.fail(path, refusal);
          continue;
        }
      }
      writes.push({ path, entry: e, replaces: cur !== undefined });
    }
    this.progress.total = (this.progress.total ?? 0) + writes.length;
    await Promise.all(writes.map((w) => this.limit(() => this.write(w).catch((err) => this.fail(w.path, err)))));
  }

  /** Link one object into place: to a temp name in the same directory, then rename over the target. */
  private async write(w: PlannedWrite): Promise<void> {
    const health = this.checker.check(w.entry.oid, w.entry.size);
    if (health !== 'ok') throw objectProblem(w.path, w.entry.oid, health);
    const abs = this.repo.abs(w.path);
    const dir = dirname(abs);
    this.ensureDirectory(dir, w.path);
    // A temp name dvs recognises: if this command is killed before the rename, the next checkout
    // removes the file, and no scan ever takes it for data.
    const tmp = join(dir, workspaceTempName(basename(abs)));
    try {
      const type = await this.linker.link(this.repo.cache.pathOf(w.entry.oid), tmp, w.entry.exec);
      renameSync(tmp, abs);
      this.result.links[type] = (this.result.links[type] ?? 0) + 1;
    } catch (err) {
      removeQuietly(tmp);
      throw err;
    }
    // Recorded now so that the next status does not read back what was just written.
    this.state.set(stampOf(statSync(abs, { bigint: true })), w.entry.oid, true);
    (w.replaces ? this.result.modified : this.result.added).push(w.path);
    this.progress.add(1, w.entry.size, w.path);
  }

  /**
   * Create the directory for a file, refusing to write through a symbolic link: a link planted in a
   * tracked directory must not lead a checkout outside the repository.
   */
  private ensureDirectory(dir: string, path: string): void {
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
        if (errnoCode(err) !== 'ENOENT') throw err;
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
  removeTempsBeside(ref: { dataPath: string; pointerPath: string }): void {
    removeTempsBeside(dirname(this.repo.abs(ref.dataPath)), [basename(ref.dataPath), basename(ref.pointerPath), '.gitignore'], this.tempsIn);
  }

  async finish(): Promise<void> {
    this.progress.emit();
    this.state.flush();
  }
}

function objectProblem(path: string, oid: Oid, health: string, what = 'object'): DvsError {
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
