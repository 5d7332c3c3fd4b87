import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { errnoCode } from '../errors.js';
import { indexEntriesUnder } from './git-index.js';

/**
 * What Git tracks under `.dvs/`. A clone may carry anything there, but only the files dvs itself commits
 * (config, .gitignore, runs/, audit/) are shared by design; the rest of `.dvs/` is this machine's own
 * (config.local, the cache, tmp/ with the stat cache and the records of remotes). So a file of that
 * local part that Git tracks came from someone else, and dvs must not take it for the user's own:
 * see docs/security.md.
 *
 * The answer comes from Git's index, read directly (src/repo/git-index.ts): asking `git ls-files` costs a
 * process, and a checkout rewrites the index every time, so a Git hook would always pay for one. It is
 * kept in the Git directory (never written by a clone or a checkout) under the stamp of the index, and
 * read again only when the index changed. An index the reader is not sure of is left to Git.
 */

/** Paths under `.dvs/` a repository may commit. */
const SHARED = /^\.dvs\/(config|\.gitignore|(runs|audit)\/.+)$/;

export interface TrackedEntry {
  path: string;
  /** Git's mode: 100644/100755 for files, 120000 for symbolic links. */
  mode: string;
}

export interface DvsDirTrust {
  /** `.dvs` paths Git tracks that a repository has no business committing (relative to the root). */
  foreign: TrackedEntry[];
}

export function isSymlinkMode(mode: string): boolean {
  return mode === '120000';
}

/** The Git directory of a work tree: `.git`, or where a `.git` file (worktree, submodule) points. */
export function gitDirOf(root: string): string | undefined {
  const dotGit = join(root, '.git');
  try {
    const st = lstatSync(dotGit);
    if (st.isDirectory()) return dotGit;
    if (!st.isFile()) return undefined;
    const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, 'utf8'));
    if (!m) return undefined;
    return isAbsolute(m[1]) ? m[1] : resolve(root, m[1]);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The `.dvs` entries Git tracks that dvs does not commit itself. */
export function dvsDirTrust(root: string): DvsDirTrust {
  return { foreign: trackedUnderDvs(root).filter((e) => isSymlinkMode(e.mode) || !SHARED.test(e.path)) };
}

function trackedUnderDvs(root: string): TrackedEntry[] {
  const gitDir = gitDirOf(root);
  if (!gitDir) return [];
  const index = join(gitDir, 'index');
  let stamp: string;
  try {
    const st = statSync(index, { bigint: true });
    stamp = `${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return []; // no index yet: Git tracks nothing
    throw err;
  }
  const memo = join(gitDir, 'dvs', 'tracked-dvs-entries');
  try {
    // NUL-separated, like Git's -z output: a path may hold a newline.
    const [head, ...records] = readFileSync(memo, 'utf8').split('\0');
    if (head === stamp) return records.filter(Boolean).map((l) => ({ mode: l.slice(0, 6), path: l.slice(7) }));
  } catch {
    // no memo yet, or unreadable: ask Git
  }
  const entries = readIndex(index) ?? askGit(root);
  if (entries) writeMemo(memo, [stamp, ...entries.map((e) => `${e.mode} ${e.path}`)].join('\0'));
  return entries ?? [];
}

/**
 * The memo, written under a name of its own and renamed over it, so that no reader sees half of one. Not
 * writeFileAtomic: its temp names draw on node:crypto, whose loading would cost every Git hook after a
 * checkout about 5 ms. This name needs only to be unique (the Git directory is no clone's to write in),
 * and O_EXCL refuses anything already there.
 */
function writeMemo(memo: string, text: string): void {
  const tmp = `${memo}.${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    mkdirSync(dirname(memo), { recursive: true });
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, memo);
  } catch {
    // only a shortcut
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing of ours to remove
    }
  }
}

function readIndex(index: string): TrackedEntry[] | undefined {
  // Git itself reads another index when told to (hooks run by `git commit -a` are): leave that to Git.
  if (process.env.GIT_INDEX_FILE !== undefined) return undefined;
  try {
    return indexEntriesUnder(readFileSync(index), '.dvs');
  } catch {
    return undefined;
  }
}

function askGit(root: string): TrackedEntry[] | undefined {
  // Loaded here, not at the top: most commands find the memo and never start a process.
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const r = spawnSync('git', ['ls-files', '--stage', '-z', '--', ':(literal).dvs'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
  const entries: TrackedEntry[] = [];
  for (const rec of r.stdout.split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    entries.push({ mode: rec.slice(0, 6), path: rec.slice(tab + 1) });
  }
  return entries;
}
