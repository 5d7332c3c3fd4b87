/**
 * Reading Git's index (`.git/index`) directly, for the one question dvs asks of it on most commands:
 * which paths Git tracks under one folder, and with which modes (src/repo/trust.ts). Asking
 * `git ls-files` costs a process, 30–40 ms, most of a Git hook's budget, and every checkout rewrites
 * the index, so a post-checkout hook would pay it every time.
 *
 * The format is Git's Documentation/gitformat-index.txt: versions 2, 3 and 4, SHA-1 or SHA-256 object
 * names. Anything this reader is not sure of (a split index, a sparse-index directory entry over the
 * folder, an unknown version, a file that does not parse exactly to its end) gives `undefined`, and the
 * caller asks Git. The index is written by Git on this machine, never by a clone.
 */

export interface IndexEntry {
  /** Relative to the work tree, with `/` separators. */
  path: string;
  /** Git's mode in octal, as `git ls-files --stage` prints it: 100644, 100755, 120000, 160000. */
  mode: string;
}

/** ctime, mtime, dev, ino, mode, uid, gid, size: ten 32-bit fields before the object name. */
const STAT_BYTES = 40;
const EXTENDED_FLAG = 0x4000;
const NAME_LENGTH_MASK = 0xfff;
/** The mode of a sparse-index directory entry: it stands for a whole tree Git did not expand. */
const DIRECTORY_MODE = 0o040000;
/** An object name is 20 bytes (SHA-1) or 32 (SHA-256); the index does not say which. */
const HASH_SIZES = [20, 32];

/**
 * Every entry of the index at or under `folder` (a path relative to the work tree, no trailing slash),
 * in index order, all stages included: what `git ls-files --stage -- ':(literal)<folder>'` lists.
 */
export function indexEntriesUnder(index: Uint8Array, folder: string): IndexEntry[] | undefined {
  const data = Buffer.from(index.buffer, index.byteOffset, index.byteLength);
  if (data.length < 12 || data.toString('latin1', 0, 4) !== 'DIRC') return undefined;
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) return undefined;
  // Only the right object-name size parses to the exact end of the file: try each.
  for (const hashSize of HASH_SIZES) {
    const found = readEntries(data, version, hashSize, folder);
    if (found) return found;
  }
  return undefined;
}

function readEntries(data: Buffer, version: number, hashSize: number, folder: string): IndexEntry[] | undefined {
  const count = data.readUInt32BE(8);
  const exact = Buffer.from(folder, 'utf8');
  const found: IndexEntry[] = [];
  // Version 4 stores each path as a change to the one before: the previous path, kept here.
  let name = Buffer.alloc(256);
  let nameLength = 0;
  let pos = 12;
  for (let i = 0; i < count; i++) {
    const start = pos;
    const flagsAt = start + STAT_BYTES + hashSize;
    if (flagsAt + 2 > data.length) return undefined;
    const mode = data.readUInt32BE(start + 24);
    const flags = data.readUInt16BE(flagsAt);
    let nameAt = flagsAt + 2;
    if (flags & EXTENDED_FLAG) {
      if (version < 3) return undefined;
      nameAt += 2;
    }
    // The path: `buf[at, at + length)`.
    let buf: Buffer;
    let at: number;
    let length: number;
    if (version === 4) {
      // A varint (Git's offset encoding) of how many bytes to drop from the previous path, then the rest.
      let byte = data[nameAt++];
      if (byte === undefined) return undefined;
      let drop = byte & 0x7f;
      while (byte & 0x80) {
        byte = data[nameAt++];
        if (byte === undefined) return undefined;
        drop = ((drop + 1) << 7) | (byte & 0x7f);
      }
      const end = data.indexOf(0, nameAt);
      if (end < 0 || drop > nameLength) return undefined;
      const keep = nameLength - drop;
      nameLength = keep + (end - nameAt);
      if (nameLength > name.length) name = Buffer.concat([name.subarray(0, keep), Buffer.alloc(nameLength * 2 - keep)]);
      data.copy(name, keep, nameAt, end);
      [buf, at, length] = [name, 0, nameLength];
      pos = end + 1;
    } else {
      // The length is in the flags, unless it is 0xfff or more: then the NUL says.
      length = flags & NAME_LENGTH_MASK;
      if (length === NAME_LENGTH_MASK) {
        const end = data.indexOf(0, nameAt + length);
        if (end < 0) return undefined;
        length = end - nameAt;
      } else if (data[nameAt + length] !== 0) {
        return undefined;
      }
      [buf, at] = [data, nameAt];
      // 1 to 8 NUL bytes pad the entry to a multiple of eight.
      pos = start + ((nameAt + length - start + 8) & ~7);
    }
    const under = isUnder(buf, at, length, exact);
    if ((mode & 0o170000) === DIRECTORY_MODE) {
      // A sparse index keeps a tree Git did not check out as one entry ("dir/"): the folder may be in it.
      if (buf[at + length - 1] !== 0x2f || under || isUnder(exact, 0, exact.length, buf.subarray(at, at + length - 1))) return undefined;
      continue;
    }
    if (under) found.push({ path: buf.toString('utf8', at, at + length), mode: mode.toString(8).padStart(6, '0') });
  }
  // Extensions, then the checksum. A split index ("link") keeps most entries in another file.
  const end = data.length - hashSize;
  while (pos + 8 <= end) {
    if (data.toString('latin1', pos, pos + 4) === 'link') return undefined;
    pos += 8 + data.readUInt32BE(pos + 4);
  }
  return pos === end ? found : undefined;
}

/** Whether the path `buf[at, at + length)` is `folder` or lies under it. */
function isUnder(buf: Buffer, at: number, length: number, folder: Buffer): boolean {
  const n = folder.length;
  if (length < n || (length > n && buf[at + n] !== 0x2f /* / */)) return false;
  for (let k = 0; k < n; k++) if (buf[at + k] !== folder[k]) return false;
  return true;
}
