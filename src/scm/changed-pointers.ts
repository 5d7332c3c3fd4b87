import { GitObjectReader } from './git-objects.js';
import { readableObjectDir } from './git-object-dir.js';
import { diffTrees, type RawChange } from './tree-diff.js';

export interface ChangedPointer {
  path: string;
  /** Blob before (absent when added) and after (absent when deleted). */
  oldBlob?: string;
  newBlob?: string;
}

const ZERO_OID = /^0+$/;
const GITLINK = '160000';

/**
 * Pointer files that differ between two commits, with their blob ids: the cheap way to find what
 * changed between two refs without listing either tree. Read from Git's object database by dvs itself
 * when the repository is one it reads exactly as Git does (see readableObjectDir and GitObjectReader):
 * starting `git` costs more than a post-checkout hook with nothing to do may take. Anything else, or
 * anything unexpected while reading, gives the answer of `git diff --raw` instead; node:child_process is
 * loaded only then.
 */
export async function changedPointersBetween(root: string, a: string, b: string): Promise<ChangedPointer[]> {
  return readChangedPointers(root, a, b) ?? changedPointersByGit(root, a, b);
}

/** The answer of `git diff --raw` (node:child_process is loaded only now). */
export async function changedPointersByGit(root: string, a: string, b: string): Promise<ChangedPointer[]> {
  const { runGitSync } = await import('./git.js');
  const out = runGitSync(root, ['diff', '--raw', '-z', '--no-renames', '--no-abbrev', a, b, '--']);
  return pointersOf(parseRawDiff(out));
}

/** The changed pointers read without Git, or undefined when Git must answer. Exported for the tests. */
export function readChangedPointers(root: string, a: string, b: string): ChangedPointer[] | undefined {
  const objects = readableObjectDir(root);
  if (!objects) return undefined;
  const reader = new GitObjectReader(objects);
  try {
    return changedPointersIn(reader, a, b);
  } finally {
    reader.close();
  }
}

/** The changed pointers read with an open reader of the repository's objects; undefined when Git must answer. */
export function changedPointersIn(reader: GitObjectReader, a: string, b: string): ChangedPointer[] | undefined {
  try {
    const changes = diffTrees(reader, a, b).filter((c) => isPointerPath(c.path));
    // `git diff` may hide submodules (diff.ignoreSubmodules, .gitmodules): leave those to it.
    if (changes.some((c) => c.oldMode === GITLINK || c.newMode === GITLINK)) return undefined;
    return pointersOf(changes);
  } catch {
    return undefined; // GitObjectError, a damaged file read out of range, or one that vanished: Git decides
  }
}

/** `git diff --raw -z` output as changes (the status letter is not kept). */
export function parseRawDiff(out: string): RawChange[] {
  const fields = out.split('\0');
  const changes: RawChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [oldMode, newMode, oldOid, newOid] = fields[i].slice(1).split(' ');
    changes.push({ oldMode, newMode, oldOid, newOid, path: fields[i + 1] });
  }
  return changes;
}

function isPointerPath(path: string): boolean {
  return path.endsWith('.dvs') && !path.endsWith('/.dvs') && path !== '.dvs' && !path.startsWith('.dvs/');
}

function pointersOf(changes: RawChange[]): ChangedPointer[] {
  // A mode of 000000 marks the side where the file does not exist; submodules and links are not pointers.
  return changes
    .filter((c) => isPointerPath(c.path))
    .map((c) => ({ path: c.path, oldBlob: ZERO_OID.test(c.oldOid) ? undefined : c.oldOid, newBlob: ZERO_OID.test(c.newOid) ? undefined : c.newOid }));
}
