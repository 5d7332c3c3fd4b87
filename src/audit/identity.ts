import { hostname, userInfo } from 'node:os';
import { runGit } from '../scm/git.js';

/**
 * Who, where and at which code commit something happened: shared by audit events, lineage records and
 * run records. The user is Git's author identity (what `git commit` would record), so events name the
 * same person as the commits that carry them.
 */

const identities = new Map<string, Promise<string>>();

/** "Name <email>" from Git, or the login name when Git has no identity configured. */
export function currentUser(root: string): Promise<string> {
  let found = identities.get(root);
  if (!found) {
    found = runGit(root, ['var', 'GIT_AUTHOR_IDENT'])
      .then((out) => out.trim().replace(/\s+\d+\s+[+-]\d{4}$/, ''))
      .catch(() => loginName());
    identities.set(root, found);
  }
  return found;
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function currentHost(): string {
  return hostname();
}

/**
 * The commit HEAD names, or null in a repository without commits. Asked once per process: no dvs
 * command moves HEAD.
 */
export function headCommit(root: string): Promise<string | null> {
  let found = heads.get(root);
  if (!found) {
    found = runGit(root, ['rev-parse', '--verify', '--quiet', 'HEAD']).then((out) => out.trim() || null, () => null);
    heads.set(root, found);
  }
  return found;
}

const heads = new Map<string, Promise<string | null>>();

export interface CodeState {
  commit: string | null;
  /** The checked-out branch, or null when HEAD is detached. */
  branch: string | null;
  /** Tracked code differs from the commit (untracked files and dvs's own files do not count). */
  dirty: boolean;
  /** Up to 20 of the paths that differ. */
  changes: string[];
}

/**
 * Files dvs writes (pointers, .gitignore entries, its own directory) never make the code "dirty": the
 * data they stand for is recorded by oid anyway, and a pipeline commits after its last step.
 */
const OWN_FILES = /(^|\/)\.gitignore$|\.dvs$|^\.dvs\//;

/** Commit, branch and dirtiness from one `git status --porcelain=v2 --branch`. */
export async function codeState(root: string): Promise<CodeState> {
  const out = await runGit(root, ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=no']).catch(() => '');
  let commit: string | null = null;
  let branch: string | null = null;
  const changes: string[] = [];
  const records = out.split('\0');
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    if (rec.startsWith('# branch.oid ')) {
      const oid = rec.slice(13);
      commit = /^[0-9a-f]{40,64}$/.test(oid) ? oid : null;
    } else if (rec.startsWith('# branch.head ')) {
      const head = rec.slice(14);
      branch = head === '(detached)' ? null : head;
    } else if (rec.startsWith('1 ') || rec.startsWith('2 ') || rec.startsWith('u ')) {
      // Fields before the path: 8 for ordinary changes, 9 for renames (then the old path follows), 10 for conflicts.
      const fields = rec[0] === '1' ? 8 : rec[0] === '2' ? 9 : 10;
      const parts = rec.split(' ');
      changes.push(parts.slice(fields).join(' '));
      if (rec[0] === '2') i++;
    }
  }
  if (out) heads.set(root, Promise.resolve(commit)); // the same answer headCommit would get
  const code = changes.filter((p) => !OWN_FILES.test(p));
  return { commit, branch, dirty: code.length > 0, changes: code.slice(0, 20) };
}
