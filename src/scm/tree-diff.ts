import { GitObjectError } from './git-object-error.js';
import type { GitObjectReader } from './git-objects.js';

/** One line of `git diff --raw --no-renames`: modes as Git prints them, 000000 and a zero id for a missing side. */
export interface RawChange {
  oldMode: string;
  newMode: string;
  oldOid: string;
  newOid: string;
  path: string;
}

interface Entry {
  mode: string;
  name: Buffer;
  oid: string;
}

const ZERO = '0'.repeat(40);
const DIR = '040000';
/** The modes Git writes; anything else (old 100664 trees, damage) is left to Git to interpret. */
const MODES: Record<string, string> = { '40000': DIR, '100644': '100644', '100755': '100755', '120000': '120000', '160000': '160000' };

/**
 * What `git diff --raw -r --no-renames <a> <b>` reports between two commits (or trees), read from the
 * object database: both trees are walked in Git's order, only into subtrees whose ids differ, and a name
 * that is a file on one side and a directory on the other is a deletion plus additions, as in Git.
 */
export function diffTrees(reader: GitObjectReader, a: string, b: string): RawChange[] {
  const out: RawChange[] = [];
  walk(reader, treeOf(reader, a), treeOf(reader, b), Buffer.alloc(0), out);
  return out;
}

function treeOf(reader: GitObjectReader, oid: string): string {
  const object = reader.read(oid);
  if (object.type === 'tree') return oid;
  if (object.type !== 'commit') throw new GitObjectError(`${oid} is a ${object.type}`);
  const m = /^tree ([0-9a-f]{40})\n/.exec(object.body.toString('latin1', 0, 46));
  if (!m) throw new GitObjectError(`commit ${oid} names no tree`);
  return m[1];
}

function walk(reader: GitObjectReader, a: string | undefined, b: string | undefined, prefix: Buffer, out: RawChange[]): void {
  const left = a ? entriesOf(reader, a) : [];
  const right = b ? entriesOf(reader, b) : [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const cmp = i >= left.length ? 1 : j >= right.length ? -1 : compareEntries(left[i], right[j]);
    const l = cmp <= 0 ? left[i++] : undefined;
    const r = cmp >= 0 ? right[j++] : undefined;
    const name = (l ?? r)!.name;
    const path = prefix.length ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
    if ((l ?? r)!.mode === DIR) {
      if (l?.oid !== r?.oid) walk(reader, l?.oid, r?.oid, path, out);
    } else if (l?.oid !== r?.oid || l?.mode !== r?.mode) {
      out.push({ oldMode: l?.mode ?? '000000', newMode: r?.mode ?? '000000', oldOid: l?.oid ?? ZERO, newOid: r?.oid ?? ZERO, path: path.toString('utf8') });
    }
  }
}

/** A tree's entries, checked: known modes, names Git accepts, and Git's order (which the walk relies on). */
function entriesOf(reader: GitObjectReader, oid: string): Entry[] {
  const object = reader.read(oid);
  if (object.type !== 'tree') throw new GitObjectError(`${oid} is not a tree`);
  const body = object.body;
  const entries: Entry[] = [];
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0 || space - pos > 6) throw new GitObjectError(`bad tree ${oid}`);
    const mode = MODES[body.toString('latin1', pos, space)];
    const nul = body.indexOf(0, space + 1);
    if (!mode || nul < 0 || nul === space + 1 || nul + 21 > body.length) throw new GitObjectError(`bad tree ${oid}`);
    const name = body.subarray(space + 1, nul);
    if (name.includes(0x2f) || (name.length <= 2 && /^\.\.?$/.test(name.toString('latin1')))) throw new GitObjectError(`bad tree entry in ${oid}`);
    const entry = { mode, name, oid: body.toString('hex', nul + 1, nul + 21) };
    if (entries.length && compareEntries(entries[entries.length - 1], entry) >= 0) throw new GitObjectError(`tree ${oid} not sorted`);
    entries.push(entry);
    pos = nul + 21;
  }
  return entries;
}

/** Git's order of tree entries: by name bytes, a directory's name as if it ended in "/". */
function compareEntries(x: Entry, y: Entry): number {
  const len = Math.min(x.name.length, y.name.length);
  const cmp = x.name.compare(y.name, 0, len, 0, len);
  if (cmp) return cmp;
  const cx = len < x.name.length ? x.name[len] : x.mode === DIR ? 0x2f : 0;
  const cy = len < y.name.length ? y.name[len] : y.mode === DIR ? 0x2f : 0;
  return cx < cy ? -1 : cx > cy ? 1 : 0;
}
