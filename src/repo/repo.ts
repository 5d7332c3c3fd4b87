import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DvsError } from '../errors.js';
import type { Warning } from '../events.js';
import { ObjectCache } from '../objects/cache.js';
import type { StatCache } from '../objects/stat-cache.js';
import { Config } from './config.js';
import { IgnoreRules } from './ignore.js';
import { RepoLock, type LockOptions } from './lock.js';
import { isInside, PathGuard, realpathOfExisting, resolveRepoPath, type RepoPath } from '../base/paths.js';
import { dvsDirTrust, gitDirOf, isSymlinkMode, type TrackedEntry } from './trust.js';

/** Where things live under `.dvs/`. */
export const DVS_DIR = '.dvs';
export const layout = (root: string) => {
  const dir = join(root, DVS_DIR);
  return {
    dir,
    config: join(dir, 'config'),
    configLocal: join(dir, 'config.local'),
    defaultCache: join(dir, 'cache'),
    tmp: join(dir, 'tmp'),
    lock: join(dir, 'tmp', 'lock'),
    statCache: join(dir, 'tmp', 'state.sqlite'),
    gitignore: join(dir, '.gitignore'),
  };
};

/**
 * An initialised dvs repository: its root (the Git work tree top level), configuration, cache, ignore
 * rules, stat cache and lock. Heavy parts (SQLite) are opened on first use.
 */
export class Repo {
  readonly root: string;
  readonly realRoot: string;
  readonly paths: ReturnType<typeof layout>;
  readonly config: Config;
  readonly ignore: IgnoreRules;
  /** The one judge of which data paths dvs may touch (see repo/paths.ts). */
  readonly guard: PathGuard;
  /** Things about the repository itself the user should know (parts of .dvs/ that came from Git). */
  readonly warnings: Warning[] = [];
  private cacheInstance?: ObjectCache;
  private statCacheInstance?: StatCache;

  private constructor(root: string) {
    this.root = root;
    this.realRoot = realpathSync(root);
    this.paths = layout(root);
    this.guard = new PathGuard(root);
    const foreign = dvsDirTrust(root).foreign;
    refuseLinksFromGit(foreign);
    const localFromGit = foreign.some((e) => e.path === '.dvs/config.local');
    if (foreign.some((e) => e.path.startsWith('.dvs/tmp/'))) {
      // This machine's state (stat cache, lock, records of remotes) must not be what a clone brought:
      // it lives in the Git directory instead, where no checkout can write.
      const gitDir = gitDirOf(root);
      if (gitDir) this.paths = { ...this.paths, tmp: join(gitDir, 'dvs', 'tmp'), lock: join(gitDir, 'dvs', 'tmp', 'lock'), statCache: join(gitDir, 'dvs', 'tmp', 'state.sqlite') };
    }
    for (const e of foreign) {
      const what = e.path === '.dvs/config.local' ? 'ignored: it holds one machine\'s settings and secrets, never a repository\'s'
        : e.path.startsWith('.dvs/tmp/') ? 'ignored: dvs keeps this machine\'s state in the Git directory instead'
        : e.path.startsWith('.dvs/cache/') ? 'not trusted: objects are checked against their hash before any use'
        : 'ignored: dvs never reads it';
      this.warnings.push({
        code: 'DVS_FILE_FROM_GIT',
        path: e.path,
        message: `${e.path} is committed to Git; ${what}`,
        hint: `Stop tracking it: git rm --cached -- '${e.path}'${e.path === '.dvs/config.local' ? ', and delete it unless you wrote it yourself' : ''}`,
      });
    }
    this.config = Config.load(this.paths.config, localFromGit ? undefined : this.paths.configLocal);
    this.ignore = new IgnoreRules(root);
  }

  /** The repository containing `cwd`: the nearest ancestor with `.dvs/config`. */
  static find(cwd: string): Repo {
    const root = findRoot(cwd);
    if (!root) {
      throw new DvsError('NOT_A_DVS_REPO', `Not inside a dvs repository (no .dvs/ found above ${cwd})`, {
        hint: 'Run `dvs init` at the top of a Git repository first.',
      });
    }
    return new Repo(root);
  }

  static open(root: string): Repo {
    return new Repo(root);
  }

  get cache(): ObjectCache {
    if (!this.cacheInstance) {
      const dir = this.configuredPath('cache.dir') ?? this.paths.defaultCache;
      this.cacheInstance = new ObjectCache(dir);
    }
    return this.cacheInstance;
  }

  /**
   * A path-valued setting, absolute. A path the committed config sets outside the work tree (or into
   * `.git`) is used only once this machine's config (config.local or the user config) names the same
   * path: a cloned repository must not choose where dvs writes or deletes (docs/security.md).
   */
  configuredPath(key: string): string | undefined {
    const value = this.config.get<string>(key);
    if (value === undefined || value === '') return undefined;
    const abs = this.absolutePath(value);
    this.confirmOutsidePath(key, value, abs, (v) => this.absolutePath(v));
    return abs;
  }

  /**
   * Throw unless `abs` (what the effective value of `key` means) is inside the work tree, comes from this
   * machine's config, or is confirmed there: some machine value of `key` means the same path.
   */
  confirmOutsidePath(key: string, value: string, abs: string, meaning: (machineValue: string) => string | undefined): void {
    if (this.config.sourceOf(key) !== 'shared' || this.insideWorkTree(abs)) return;
    const confirmed = this.config.machineValues(key).some((v) => {
      try {
        return typeof v === 'string' && meaning(v) === abs;
      } catch {
        return false;
      }
    });
    if (confirmed) return;
    throw new DvsError('UNCONFIRMED_PATH', `.dvs/config (committed) sets ${key} to ${value}, outside this repository; dvs uses such a path only after you confirm it on this machine`, {
      hint: `If you trust this repository's choice, confirm it once: dvs config --local ${key} ${value}`,
      data: { key, value, path: abs },
    });
  }

  private absolutePath(value: string): string {
    return isAbsolute(value) ? value : resolve(this.root, value);
  }

  /** Inside the work tree and not inside `.git`. */
  insideWorkTree(abs: string): boolean {
    const real = realpathOfExisting(abs);
    return isInside(this.realRoot, real) && !isInside(join(this.realRoot, '.git'), real);
  }

  /** Set by ops that need the stat cache; see objects/stat-cache.ts (loaded lazily: it opens SQLite). */
  async statCache(): Promise<StatCache> {
    if (!this.statCacheInstance) {
      const { StatCache } = await import('../objects/stat-cache.js');
      this.statCacheInstance = StatCache.open(this.paths.statCache);
    }
    return this.statCacheInstance;
  }

  /** Resolve a command-line path to a repository path (see repo/paths.ts for what is refused). */
  resolve(cwd: string, arg: string): RepoPath {
    return resolveRepoPath(this.root, this.realRoot, this.guard, cwd, arg);
  }

  abs(rel: string): string {
    return join(this.root, rel);
  }

  lock(): RepoLock {
    return new RepoLock(this.paths.lock);
  }

  /** Run `fn` holding the repository lock. */
  async withLock<T>(options: LockOptions, fn: () => Promise<T>): Promise<T> {
    const lock = this.lock();
    await lock.acquire(options);
    // What a killed command left in the cache's temp directory (a half-copied big file) goes now.
    this.cache.removeOrphanedTemp();
    try {
      return await fn();
    } finally {
      this.statCacheInstance?.flush();
      lock.release();
    }
  }

  close(): void {
    this.statCacheInstance?.close();
    this.statCacheInstance = undefined;
  }
}

/**
 * Symbolic links in `.dvs/` that Git tracks would let a clone decide where the cache, the state or the
 * config really are: refused outright. Links the user made on this machine are not tracked and are fine.
 */
export function refuseLinksFromGit(foreign: TrackedEntry[]): void {
  const link = foreign.find((e) => isSymlinkMode(e.mode));
  if (!link) return;
  throw new DvsError('DVS_LINK_FROM_GIT', `${link.path} is a symbolic link committed to Git; dvs refuses to follow it (a cloned repository must not choose where dvs reads and writes)`, {
    hint: `Stop tracking it (git rm --cached -- '${link.path}'), delete the link, then run dvs again. To share a cache, set cache.dir on this machine: dvs cache dir --local <path>`,
    data: { path: link.path },
  });
}

export function findRoot(cwd: string): string | undefined {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, DVS_DIR, 'config')) && statSync(join(dir, DVS_DIR)).isDirectory()) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
