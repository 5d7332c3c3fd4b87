import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * Variables that point Git elsewhere for objects or change which objects a name means. With any of them
 * set, what `git` would read is not simply `<git dir>/objects`.
 */
const REDIRECTING_ENV = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_REPLACE_REF_BASE', 'GIT_GRAFT_FILE'];

/** Where a repository's Git data lives, for reading it without Git. */
export interface GitDirs {
  /** This work tree's own Git directory: its HEAD, its index. */
  gitDir: string;
  /** The directory shared by all work trees: refs, packed-refs, config, objects. */
  commonDir: string;
  objects: string;
}

/**
 * The object directory of the repository whose work tree is `root`, when dvs may read it without Git
 * and get the answer Git would give: a SHA-1 repository (no `extensions.*` but `worktreeConfig`, format
 * version 0 or 1, no config includes that might add some), no alternates, no replace refs, no grafts,
 * and no environment variable sending Git elsewhere (GIT_DIR and GIT_COMMON_DIR are accepted when they
 * name the directory found here). `.git` may be a directory or a `gitdir:` file (linked worktrees,
 * submodules). Undefined otherwise: the caller runs `git`.
 */
export function readableObjectDir(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return readableGitDirs(root, env)?.objects;
}

/** The directories of a repository that readableObjectDir accepts; undefined otherwise. */
export function readableGitDirs(root: string, env: NodeJS.ProcessEnv = process.env): GitDirs | undefined {
  try {
    if (REDIRECTING_ENV.some((name) => env[name] !== undefined)) return undefined;
    const dotGit = `${root}/.git`;
    const st = statSync(dotGit, { throwIfNoEntry: false });
    if (!st) return undefined; // a work tree below Git's top level, or no repository: Git knows
    let gitDir = dotGit;
    if (st.isFile()) {
      const m = /^gitdir: (.+?)\r?\n?$/.exec(readFileSync(dotGit, 'utf8'));
      if (!m) return undefined;
      gitDir = isAbsolute(m[1]) ? m[1] : resolve(root, m[1]);
    } else if (!st.isDirectory()) {
      return undefined;
    }
    const commonFile = `${gitDir}/commondir`;
    let commonDir = gitDir;
    if (existsSync(commonFile)) {
      const line = readFileSync(commonFile, 'utf8').replace(/\r?\n$/, '');
      if (!line || line.includes('\n')) return undefined;
      commonDir = isAbsolute(line) ? line : resolve(gitDir, line);
    }
    if (!sameDir(env.GIT_DIR, root, gitDir) || !sameDir(env.GIT_COMMON_DIR, root, commonDir)) return undefined;
    if (!configAllows(readFileSync(`${commonDir}/config`, 'utf8'))) return undefined;
    if (existsSync(`${commonDir}/refs/replace`) || existsSync(`${commonDir}/info/grafts`)) return undefined;
    const packedRefs = `${commonDir}/packed-refs`;
    if (existsSync(packedRefs) && readFileSync(packedRefs, 'latin1').includes('refs/replace/')) return undefined;
    const objects = `${commonDir}/objects`;
    if (!statSync(objects, { throwIfNoEntry: false })?.isDirectory()) return undefined;
    if (existsSync(`${objects}/info/alternates`)) return undefined;
    return { gitDir, commonDir, objects };
  } catch {
    return undefined;
  }
}

/** Whether a GIT_DIR-like variable is unset or names `expected` (relative values are Git's, from `root`). */
function sameDir(value: string | undefined, root: string, expected: string): boolean {
  if (value === undefined) return true;
  try {
    return realpathSync(resolve(root, value)) === realpathSync(expected);
  } catch {
    return false;
  }
}

/**
 * Whether a repository's config leaves its objects as dvs reads them: no extension but `worktreeConfig`
 * (objectFormat, partialClone, refStorage, … all mean "ask Git"), format version 0 or 1, and no include
 * (which could bring in anything). Read conservatively: a line that merely looks like a section header
 * counts as one, which can only send more repositories to Git.
 */
export function configAllows(text: string): boolean {
  const lower = text.toLowerCase();
  if (/^\s*\[\s*include/m.test(lower)) return false;
  const version = /repositoryformatversion\s*=\s*(\S+)/.exec(lower);
  if (version && !['0', '1'].includes(version[1])) return false;
  if (!lower.includes('extensions')) return true;
  let inExtensions = false;
  for (const raw of lower.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const header = /^\[([^\]]*)\](.*)$/.exec(line);
    if (header) {
      const name = header[1].trim();
      inExtensions = name.startsWith('extensions');
      if (inExtensions && (name !== 'extensions' || header[2].trim())) return false;
      continue;
    }
    if (line.startsWith('[')) return false;
    if (inExtensions && !/^worktreeconfig\s*(=\s*(true|yes|on|1|false|no|off|0))?$/.test(line)) return false;
  }
  return true;
}
