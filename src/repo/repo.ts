import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { DvsError } from '../errors.js';
import { ObjectCache } from '../objects/cache.js';
import type { StateCache } from '../objects/state.js';
import { Config } from './config.js';
import { IgnoreRules } from './ignore.js';
import { RepoLock, type LockOptions } from './lock.js';
import { resolveRepoPath, type RepoPath } from './paths.js';

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
    state: join(dir, 'tmp', 'state.sqlite'),
    gitignore: join(dir, '.gitignore'),
  };
};

/**
 * An initialised dvs repository: its root (the Git work tree top level), configuration, cache, ignore
 * rules, state cache and lock. Heavy parts (SQLite) are opened on first use.
 */
export class Repo {
  readonly root: string;
  readonly realRoot: string;
  readonly paths: ReturnType<typeof layout>;
  readonly config: Config;
  readonly ignore: IgnoreRules;
  private cacheInstance?: ObjectCache;
  private stateInstance?: StateCache;

  private constructor(root: string) {
    this.root = root;
    this.realRoot = realpathSync(root);
    this.paths = layout(root);
    this.config = Config.load(this.paths.config, this.paths.configLocal);
    this.ignore = new IgnoreRules(root);
  }

  /** The repository containing `cwd`: the nearest ancestor with `.dvs/config`. */
  static find(cwd: string): Repo {
    const root = findRoot(cwd);
    if (!root) {
      throw new DvsError('environment', 'NOT_A_DVS_REPO', `Not inside a dvs repository (no .dvs/ found above ${cwd})`, {
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
      const configured = this.config.get<string>('cache.dir');
      const dir = configured ? (isAbsolute(configured) ? configured : resolve(this.root, configured)) : this.paths.defaultCache;
      this.cacheInstance = new ObjectCache(dir);
    }
    return this.cacheInstance;
  }

  /** Set by ops that need the state cache; see objects/state.ts (loaded lazily: it opens SQLite). */
  async state(): Promise<StateCache> {
    if (!this.stateInstance) {
      const { StateCache } = await import('../objects/state.js');
      this.stateInstance = StateCache.open(this.paths.state);
    }
    return this.stateInstance;
  }

  /** Resolve a command-line path to a repository path (see repo/paths.ts for what is refused). */
  resolve(cwd: string, arg: string): RepoPath {
    return resolveRepoPath(this.root, this.realRoot, cwd, arg);
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
      this.stateInstance?.flush();
      lock.release();
    }
  }

  close(): void {
    this.stateInstance?.close();
    this.stateInstance = undefined;
  }
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
