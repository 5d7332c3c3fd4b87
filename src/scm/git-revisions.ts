import { readFileSync } from 'node:fs';
import type { GitDirs } from './git-object-dir.js';
import { GitObjectError, leftToGit } from './git-object-error.js';
import { OID, type GitObjectReader } from './git-objects.js';

/** Where Git looks for a short name, in its order (refs.c, ref_rev_parse_rules, after the name itself). */
const RULES = ['refs/%s', 'refs/tags/%s', 'refs/heads/%s', 'refs/remotes/%s', 'refs/remotes/%s/HEAD'];
/** Refs each work tree keeps in its own Git directory: left to Git. */
const PER_WORKTREE = /^refs\/(worktree|bisect|rewritten)\//;
const MAX_SYMREF_DEPTH = 5;
const MAX_TAG_DEPTH = 10;

/**
 * The commit a revision names, read from Git's refs and objects without starting Git, for the forms
 * typed most: a full object id, HEAD (or @), a branch, tag, remote-tracking or full ref name, each
 * followed by any `~N`, `^` and `^N` steps. Anything else (abbreviated ids, `@{…}`, `:/text`, `^{…}`,
 * pseudo-refs such as ORIG_HEAD, a short name that several refs match, which Git warns about) gives
 * undefined, as does anything unexpected while reading: the caller asks Git, which decides and words
 * the errors.
 */
export function readCommitOf(dirs: GitDirs, reader: GitObjectReader, rev: string): string | undefined {
  const m = /^([^~^]+)((?:[~^][0-9]*)*)$/.exec(rev);
  if (!m) return undefined;
  try {
    const named = objectNamed(dirs, m[1]);
    let commit = named && peelToCommit(reader, named);
    if (!commit) return undefined;
    let shallow: Set<string> | undefined;
    for (const step of m[2].match(/[~^][0-9]*/g) ?? []) {
      const n = step.length > 1 ? Number(step.slice(1)) : 1;
      if (!Number.isSafeInteger(n)) return undefined;
      // `~N` follows first parents N times; `^N` takes the Nth parent (`^0`: the commit itself).
      const [times, index] = step[0] === '~' ? [n, 0] : [n === 0 ? 0 : 1, n - 1];
      for (let i = 0; i < times && commit; i++) {
        // A shallow clone's boundary commits name parents it does not have; Git treats them as roots.
        shallow ??= shallowCommits(dirs);
        commit = shallow.has(commit) ? undefined : parentsOf(reader, commit)[index];
      }
      if (!commit) return undefined;
    }
    return commit;
  } catch (err) {
    if (leftToGit(err)) return undefined;
    throw err;
  }
}

/** The object a revision's name (before any `~`/`^`) stands for, or undefined when Git must say. */
function objectNamed(dirs: GitDirs, name: string): string | undefined {
  if (OID.test(name)) return name;
  if (name === 'HEAD' || name === '@') return resolveRef(dirs, 'HEAD', 0);
  if (!isPlainRefName(name) || /^[A-Z_]+$/.test(name)) return undefined; // pseudo-refs: Git's
  const candidates = [...(name.startsWith('refs/') ? [name] : []), ...RULES.map((r) => r.replace('%s', name))];
  if (candidates.some((c) => PER_WORKTREE.test(c))) return undefined;
  const packed = packedRefs(dirs);
  const found = candidates.filter((c) => looseRef(dirs.commonDir, c) !== undefined || packed.has(c));
  // Several refs of that name: Git picks one and warns that it is ambiguous; let it.
  return found.length === 1 ? resolveRef(dirs, found[0], 0) : undefined;
}

/** A ref's object id, symbolic refs followed; a loose ref wins over a packed one, as in Git. */
function resolveRef(dirs: GitDirs, name: string, depth: number): string | undefined {
  if (depth > MAX_SYMREF_DEPTH) return undefined;
  const loose = looseRef(name === 'HEAD' ? dirs.gitDir : dirs.commonDir, name);
  if (loose === undefined) return name === 'HEAD' ? undefined : packedRefs(dirs).get(name);
  const id = /^([0-9a-f]{40})\n?$/.exec(loose);
  if (id) return id[1];
  const target = /^ref: (refs\/\S+)\n?$/.exec(loose);
  if (!target || !isPlainRefName(target[1]) || PER_WORKTREE.test(target[1])) return undefined;
  return resolveRef(dirs, target[1], depth + 1);
}

/** The text of a loose ref file, or undefined when there is none (a folder of that name is none either). */
function looseRef(dir: string, name: string): string | undefined {
  try {
    return readFileSync(`${dir}/${name}`, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw err;
  }
}

const packedCache = new WeakMap<GitDirs, Map<string, string>>();

/** `packed-refs`: "<id> <name>" lines; peeled ("^<id>") and comment lines are skipped. */
function packedRefs(dirs: GitDirs): Map<string, string> {
  let refs = packedCache.get(dirs);
  if (refs) return refs;
  refs = new Map();
  for (const line of (looseRef(dirs.commonDir, 'packed-refs') ?? '').split('\n')) {
    const m = /^([0-9a-f]{40}) (refs\/.+)$/.exec(line);
    if (m) refs.set(m[2], m[1]);
  }
  packedCache.set(dirs, refs);
  return refs;
}

/**
 * A name Git would take as a ref as written, kept to the plain forms: letters, digits and `._/+-`, no
 * `..`, no empty, dotted or `.lock` component. Anything else goes to Git.
 */
function isPlainRefName(name: string): boolean {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._/+-]*$/.test(name) || name.includes('..') || name.endsWith('/') || name.endsWith('.')) return false;
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** The commit a tag (or chain of tags) points to; undefined for a tree or a blob. */
function peelToCommit(reader: GitObjectReader, oid: string): string | undefined {
  for (let depth = 0; depth < MAX_TAG_DEPTH; depth++) {
    const object = reader.read(oid);
    if (object.type === 'commit') return oid;
    if (object.type !== 'tag') return undefined;
    const m = /^object ([0-9a-f]{40})\n/.exec(object.body.toString('latin1', 0, 48));
    if (!m) return undefined;
    oid = m[1];
  }
  return undefined;
}

function parentsOf(reader: GitObjectReader, commit: string): string[] {
  const object = reader.read(commit);
  if (object.type !== 'commit') throw new GitObjectError(`${commit} is a ${object.type}`);
  const text = object.body.toString('latin1', 0, Math.min(object.body.length, 64 * 1024));
  const header = text.slice(0, text.indexOf('\n\n') + 1 || text.length);
  return [...header.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]);
}

function shallowCommits(dirs: GitDirs): Set<string> {
  return new Set((looseRef(dirs.commonDir, 'shallow') ?? '').split('\n').filter((l) => OID.test(l)));
}
