import { DvsError, isDvsError } from '../errors.js';
import type { ObjectCache } from './cache.js';
import { checkRelativePath, pathProblem } from '../base/paths.js';
import type { Oid } from './oid.js';

/**
 * A directory manifest lists a tracked directory's files. It is stored as an object like any other, so
 * its oid names the whole tree. Encoding (one valid form, so equal trees give equal oids):
 *
 *   dvs-manifest 1\n
 *   <64 hex oid> <size> <x|-> <path>\n     one line per file, sorted by path (byte order)
 *
 * Paths are POSIX, relative, with `%`, CR and LF percent-encoded.
 */
export interface ManifestEntry {
  path: string;
  oid: Oid;
  size: number;
  exec: boolean;
}

export interface Manifest {
  entries: ManifestEntry[];
  /**
   * The manifest's text, when it was read from the cache and is known valid: two of them can be
   * compared line by line (diffManifests) without building an object per entry.
   */
  readonly text?: string;
}

const HEADER = 'dvs-manifest 1';
const NEWLINE = 0x0a;

const SURROGATE = /[\uD800-\uDFFF]/;

/** UTF-8 byte order, the order the spec fixes (JS's `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareBytes(a: string, b: string): number {
  if (SURROGATE.test(a) || SURROGATE.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The positions of `keys` in UTF-8 byte order (ties in their given order). Only a key with a surrogate
 * (a character past U+FFFF) orders differently by `<`, so the byte comparison is paid only when one is
 * there: sorting the 200 names of a folder makes some 1,500 comparisons.
 */
export function byteOrder(keys: readonly string[]): number[] {
  const order = Array.from(keys.keys());
  // Array.prototype.sort is stable: equal keys keep their given order.
  if (keys.some((k) => SURROGATE.test(k))) return order.sort((a, b) => compareBytes(keys[a], keys[b]));
  return order.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
}

/** The merge walk over two sorted entry lists: an entry only in `a`, only in `b`, or the pair at one path. */
export function mergeEntries(a: readonly ManifestEntry[], b: readonly ManifestEntry[], on: { onlyA(e: ManifestEntry): void; onlyB(e: ManifestEntry): void; both(x: ManifestEntry, y: ManifestEntry): void }): void {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const cmp = i >= a.length ? 1 : j >= b.length ? -1 : compareBytes(a[i].path, b[j].path);
    if (cmp < 0) on.onlyA(a[i++]);
    else if (cmp > 0) on.onlyB(b[j++]);
    else on.both(a[i++], b[j++]);
  }
}

export function sortEntries(entries: ManifestEntry[]): ManifestEntry[] {
  return entries.sort((a, b) => compareBytes(a.path, b.path));
}

function encodePath(p: string): string {
  return /[%\r\n]/.test(p) ? p.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A') : p;
}

const ESCAPES: Record<string, string> = { '%25': '%', '%0D': '\r', '%0A': '\n' };

/** The path a manifest line spells, or undefined when it is not spelled the one valid way. */
function decodePath(p: string): string | undefined {
  if (p.includes('\r')) return undefined;
  if (!p.includes('%')) return p;
  if (/%(?!25|0D|0A)/.test(p)) return undefined;
  return p.replace(/%(?:25|0D|0A)/g, (escape) => ESCAPES[escape]);
}

/** A size written as the spec says: decimal digits, no sign, no leading zero; -1 otherwise. */
function sizeAt(line: string, start: number, end: number): number {
  const n = end - start;
  if (n < 1 || n > 16 || (n > 1 && line.charCodeAt(start) === 48 /* 0 */)) return -1;
  let size = 0;
  for (let k = start; k < end; k++) {
    const digit = line.charCodeAt(k) - 48;
    if (digit < 0 || digit > 9) return -1;
    size = size * 10 + digit;
  }
  return Number.isSafeInteger(size) ? size : -1;
}

/** Lines encoded per piece: a manifest of millions of entries is more text than one string may hold. */
const LINES_PER_PIECE = 1 << 16;

/** The manifest's one valid encoding, as bytes (built in pieces, so that any size can be encoded). */
export function serializeManifest(manifest: Manifest): Buffer {
  const pieces: Buffer[] = [];
  let lines = [HEADER];
  let previous: string | undefined;
  for (const e of manifest.entries) {
    if (previous !== undefined && compareBytes(previous, e.path) >= 0) {
      throw new DvsError('MANIFEST_UNSORTED', `manifest entries out of order at ${e.path}`);
    }
    previous = e.path;
    lines.push(`${e.oid} ${e.size} ${e.exec ? 'x' : '-'} ${encodePath(e.path)}`);
    if (lines.length === LINES_PER_PIECE) {
      pieces.push(Buffer.from(lines.join('\n') + '\n'));
      lines = [];
    }
  }
  if (lines.length) pieces.push(Buffer.from(lines.join('\n') + '\n'));
  return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
}

/**
 * One entry line, checked by the regexp engine in a single pass (a loop of charCodeAt over each oid
 * cost more than the rest of the parse): 64 lowercase hex digits, a size in decimal with no sign or
 * leading zero, `x` or `-`, a path. Sticky: it matches at `lastIndex` or not at all.
 */
const ENTRY_LINE = /[0-9a-f]{64} (?:0|[1-9][0-9]{0,15}) [x-] [^\n]*\n/y;

/** Parse and validate a manifest; `where` names it in messages. Rejects paths that leave the directory. */
export function parseManifest(text: string, where: string): Manifest {
  const headerEnd = text.indexOf('\n');
  checkHeader(headerEnd < 0 ? text : text.slice(0, headerEnd), where);
  if (!text.endsWith('\n')) throw truncated(where);
  const entries: ManifestEntry[] = [];
  const lines = new ManifestLines(where, (e) => entries.push(e));
  lines.feed(text);
  return { entries };
}

const CORRUPT_HINT = 'The object may be corrupted: run `dvs verify`.';

function checkHeader(firstLine: string, where: string): void {
  if (firstLine !== HEADER) {
    throw new DvsError('MANIFEST_INVALID', `${where}: not a dvs manifest (first line is "${firstLine.slice(0, 40)}")`, { hint: CORRUPT_HINT });
  }
}

function truncated(where: string): DvsError {
  return new DvsError('MANIFEST_INVALID', `${where}: truncated (no final newline)`, { hint: CORRUPT_HINT });
}

function malformed(where: string, line: number): DvsError {
  return new DvsError('MANIFEST_INVALID', `${where}: line ${line} is malformed`, { hint: CORRUPT_HINT });
}

/**
 * The checking parser of a manifest's lines, fed in pieces that each end at a line's end: a manifest of
 * ten million entries (about 1 GB) is more text than one JavaScript string may hold, so big ones are
 * read block by block (readManifest) and each entry handed on as it is parsed. Every check of the spec
 * holds across pieces: the header, the one valid spelling of each line, byte order, no path both a file
 * and a folder.
 */
export class ManifestLines {
  private line = 0;
  /** Whether the next line fed is the header. */
  private header: boolean;
  private previous: string | undefined;
  private readonly files = new OpenFiles();

  /**
   * `piece`: the text fed is a run of entry lines from inside a manifest, not its start (no header;
   * lines are numbered from the piece's first, and `where` should say where the piece starts).
   */
  constructor(private readonly where: string, private readonly onEntry: (e: ManifestEntry) => void, options: { piece?: boolean } = {}) {
    this.header = !options.piece;
  }

  /** Whole lines (the text ends with a newline); the first piece starts with the header. */
  feed(text: string): void {
    const { where } = this;
    let pos = 0;
    if (this.header) {
      const headerEnd = text.indexOf('\n');
      checkHeader(headerEnd < 0 ? text : text.slice(0, headerEnd), where);
      pos = headerEnd + 1;
      this.line = 1;
      this.header = false;
    }
    const line = ENTRY_LINE;
    while (pos < text.length) {
      const i = ++this.line;
      line.lastIndex = pos;
      if (!line.test(text)) throw malformed(where, i);
      const end = line.lastIndex - 1; // the line's newline
      const s1 = text.indexOf(' ', pos + 65);
      const size = sizeAt(text, pos + 65, s1);
      const path = decodePath(text.slice(s1 + 3, end));
      if (size < 0 || path === undefined || path === '') throw malformed(where, i);
      // The message is built only for a bad path: a string per line costs as much as the check.
      if (pathProblem(path)) checkRelativePath(path, `${where}: line ${i}`);
      if (this.previous !== undefined && compareBytes(this.previous, path) >= 0) {
        throw new DvsError('MANIFEST_INVALID', `${where}: line ${i}: paths are not sorted or repeat ("${path}")`);
      }
      this.previous = path;
      const parent = this.files.fileAbove(path, i);
      if (parent) {
        throw new DvsError('MANIFEST_INVALID', `${where}: line ${i}: "${path}" lies inside "${parent.path}", which line ${parent.line} lists as a file`, {
          hint: 'A path cannot be both a file and a directory. The object may be corrupted: run `dvs verify`.',
          data: { line: i, path, file: parent.path, fileLine: parent.line },
        });
      }
      this.onEntry({ path, oid: text.slice(pos, pos + 64), size, exec: text.charCodeAt(s1 + 1) === 120 /* x */ });
      pos = end + 1;
    }
  }
}

/**
 * Finds a path listed below one that is also listed as a file ("a" and "a/b"), in one pass over sorted
 * paths. Between "a" and "a/b" byte order puts siblings such as "a-b" and "a.txt" (bytes below "/"), so
 * the previous line is not enough; but every path between them starts with "a". The stack holds the
 * earlier paths that are prefixes of the latest one: the only files a later path can lie inside.
 */
class OpenFiles {
  /** The earlier paths that are prefixes of the latest one, and their line numbers (two arrays: no object per line). */
  private readonly paths: string[] = [];
  private readonly lines: number[] = [];

  /** The listed file that `path` lies inside, or undefined; then remembers `path`. */
  fileAbove(path: string, line: number): { path: string; line: number } | undefined {
    const { paths, lines } = this;
    while (paths.length && !path.startsWith(paths[paths.length - 1])) {
      paths.pop();
      lines.pop();
    }
    // What is left are prefixes of `path`; one followed by "/" names a directory of it.
    for (let k = paths.length - 1; k >= 0; k--) {
      if (path.charCodeAt(paths[k].length) === 47 /* / */) return { path: paths[k], line: lines[k] };
    }
    paths.push(path);
    lines.push(line);
    return undefined;
  }
}

/** Bytes read at a time by readManifest: far below the longest string, large enough to cost no time. */
const READ_BLOCK = 8 << 20;

/**
 * Read a manifest from the cache block by block, handing on each entry as it is parsed, and check the
 * bytes against its name at the end (a corrupted object throws OBJECT_CORRUPTED then, after entries
 * were handed on: callers drop what they built). Memory is one block, whatever the manifest's size.
 * `onBlock` sees the bytes as they are read (a push cuts a big manifest into chunks in the same read).
 */
export function readManifest(cache: ObjectCache, oid: Oid, dataPath: string, onEntry: (e: ManifestEntry) => void, blockSize = READ_BLOCK, onBlock?: (block: Buffer) => void): void {
  const cursor = new ManifestCursor(cache, oid, dataPath, blockSize, onBlock);
  try {
    for (let e = cursor.next(); e !== undefined; e = cursor.next()) {
      try {
        onEntry(e);
      } catch (err) {
        cursor.drain(); // damaged bytes are reported as damage, not as what the caller made of them
        throw err;
      }
    }
  } finally {
    cursor.close();
  }
}

/**
 * A manifest's entries in order, pulled one at a time (readManifest pushes them): for a merge walk
 * against another sorted stream, such as the workspace's files. Holds one block of entries at a time;
 * every check of ManifestLines applies, and after the last entry the bytes are checked against the oid
 * (`next()` throws OBJECT_CORRUPTED then). A reader that stops early calls `close()`.
 */
export class ManifestCursor {
  private readonly blocks: Generator<Buffer, number, void>;
  private readonly lines: ManifestLines;
  private readonly where: string;
  private batch: ManifestEntry[] = [];
  private at = 0;
  private carry: Buffer = Buffer.alloc(0);
  private bytes = 0;
  private finished = false;
  /** Entries handed out so far: the index of the next one in the manifest. */
  index = 0;

  /** `onBlock` sees the bytes as they are read (the reader reuses its block: copy what you keep). */
  constructor(
    cache: ObjectCache,
    oid: Oid,
    dataPath: string,
    blockSize = READ_BLOCK,
    private readonly onBlock?: (block: Buffer) => void,
  ) {
    this.where = `manifest of ${dataPath} (${oid.slice(0, 10)})`;
    this.lines = new ManifestLines(this.where, (e) => this.batch.push(e));
    this.blocks = cache.blocks(oid, `manifest of ${dataPath}`, blockSize);
  }

  /** The next entry without taking it; undefined after the last. */
  peek(): ManifestEntry | undefined {
    while (this.at >= this.batch.length && !this.finished) this.fill();
    return this.batch[this.at];
  }

  /** The next entry; undefined after the last. */
  next(): ManifestEntry | undefined {
    const e = this.peek();
    if (e !== undefined) {
      this.at++;
      this.index++;
    }
    return e;
  }

  /** Read the rest only to check the bytes against the oid (throws OBJECT_CORRUPTED if they do not match). */
  drain(): void {
    this.finished = true;
    while (!this.blocks.next().done);
  }

  close(): void {
    this.blocks.return(0);
  }

  private fill(): void {
    this.batch = [];
    this.at = 0;
    const r = this.blocks.next();
    if (r.done) {
      this.finished = true;
      if (this.bytes === 0) checkHeader('', this.where);
      if (this.carry.length) {
        if (this.bytes === this.carry.length) checkHeader(this.carry.toString('utf8').split('\n')[0], this.where);
        throw truncated(this.where);
      }
      return;
    }
    const block = r.value;
    this.onBlock?.(block);
    this.bytes += block.length;
    const data = this.carry.length ? Buffer.concat([this.carry, block]) : block;
    const cut = data.lastIndexOf(0x0a) + 1;
    try {
      if (cut > 0) this.lines.feed(data.toString('utf8', 0, cut));
    } catch (err) {
      this.drain();
      throw err;
    }
    // A copy: the reader reuses its block.
    this.carry = Buffer.from(data.subarray(cut));
  }
}

export function manifestTotals(manifest: Manifest): { files: number; size: number } {
  let size = 0;
  for (const e of manifest.entries) size += e.size;
  return { files: manifest.entries.length, size };
}

/**
 * Manifests already found valid on this machine (the stat cache remembers their oids). A manifest's bytes
 * are checked against its oid at every read, so one valid once is valid at every later read.
 */
export interface ValidManifests {
  isValidManifest(oid: Oid): boolean;
  markValidManifest(oid: Oid): void;
}

/**
 * A directory's manifest from the cache, its bytes checked against its name. Missing or corrupted: a DvsError.
 * With `valid`, a manifest validated before is not validated again: its text is kept for a line-by-line
 * comparison and its entries are built only when asked for (checking 20,000 lines costs more than
 * anything else `dvs diff` does). Manifests above TEXT_LIMIT are always read block by block.
 */
export function loadManifest(cache: ObjectCache, oid: Oid, dataPath: string, valid?: ValidManifests): Manifest {
  if (valid?.isValidManifest(oid) && (cache.sizeOf(oid) ?? Infinity) <= TEXT_LIMIT) {
    return new ValidatedManifest(cache.readVerified(oid, `manifest of ${dataPath}`).toString('utf8'));
  }
  const entries: ManifestEntry[] = [];
  readManifest(cache, oid, dataPath, (e) => entries.push(e));
  valid?.markValidManifest(oid);
  return { entries };
}

/**
 * The lines that differ between two manifests both known valid: the lines they share at their start and
 * at their end are left out without being decoded. A manifest's lines are sorted and unique (one per
 * path), so no line left out can equal a line kept on the other side, and diffManifests of the two parts
 * equals diffManifests of the whole manifests: after a change to a few files of a directory of 20,000, a
 * diff decodes and compares a few lines instead of two 2 MB texts. Both are still read whole and checked
 * against their oids. Undefined when either is not known valid or is too big to hold as one buffer.
 */
export function differingLines(cache: ObjectCache, before: { oid: Oid; where: string }, after: { oid: Oid; where: string }, valid: ValidManifests): { before: Manifest; after: Manifest } | undefined {
  for (const side of [before, after]) {
    if (!valid.isValidManifest(side.oid) || (cache.sizeOf(side.oid) ?? Infinity) > TEXT_LIMIT) return undefined;
  }
  const a = cache.readVerified(before.oid, before.where);
  const b = cache.readVerified(after.oid, after.where);
  const header = HEADER.length + 1;
  const shorter = Math.min(a.length, b.length);
  // The shared start, cut back to the start of the line where the two first differ.
  let start = header;
  for (let step = 1 << 16; start < shorter; ) {
    const n = Math.min(step, shorter - start);
    if (a.subarray(start, start + n).equals(b.subarray(start, start + n))) start += n;
    else if (n === 1) break;
    else step = n >> 1;
  }
  start = Math.max(header, a.lastIndexOf(NEWLINE, start - 1) + 1);
  // The shared end (never reaching into the shared start), moved forward to a line start.
  let tail = 0;
  for (let step = 1 << 16; tail < shorter - start; ) {
    const n = Math.min(step, shorter - start - tail);
    if (a.subarray(a.length - tail - n, a.length - tail).equals(b.subarray(b.length - tail - n, b.length - tail))) tail += n;
    else if (n === 1) break;
    else step = n >> 1;
  }
  // It must start a line on both sides: moved forward past a newline of its own until it does.
  let kept = tail;
  while (kept > 0 && (a[a.length - kept - 1] !== NEWLINE || b[b.length - kept - 1] !== NEWLINE)) {
    const nl = a.indexOf(NEWLINE, a.length - kept);
    kept = nl < 0 ? 0 : a.length - nl - 1;
  }
  const part = (buf: Buffer) => new ValidatedManifest(HEADER + '\n' + buf.toString('utf8', start, buf.length - kept));
  return { before: part(a), after: part(b) };
}

/**
 * Manifests above this size (bytes) are read as a stream by the commands that can (status, checkout):
 * about 170,000 entries, far above the directories whose speed the latency bench watches, far below
 * what the heap holds as one object per entry.
 */
export const STREAM_ABOVE = 16 << 20;

/** The largest manifest held as one string (V8's limit is 512 MiB; memory says far less). */
const TEXT_LIMIT = 64 << 20;

/** A manifest whose text parseManifest accepted (here or in an earlier command). */
class ValidatedManifest implements Manifest {
  private built?: ManifestEntry[];

  constructor(readonly text: string) {}

  get entries(): ManifestEntry[] {
    if (!this.built) {
      const lines = manifestLines(this.text);
      this.built = new Array(lines.length);
      for (let i = 0; i < lines.length; i++) this.built[i] = entryOfLine(lines[i]);
    }
    return this.built;
  }

  set entries(entries: ManifestEntry[]) {
    this.built = entries;
  }
}

/** The entry lines of a valid manifest's text (header and final newline left out). */
export function manifestLines(text: string): string[] {
  return text.length === HEADER.length + 1 ? [] : text.slice(HEADER.length + 1, -1).split('\n');
}

/** The entry on one line of a valid manifest. */
export function entryOfLine(line: string): ManifestEntry {
  const s1 = line.indexOf(' ', 65);
  return { path: pathOfLine(line, s1), oid: line.slice(0, 64), size: Number(line.slice(65, s1)), exec: line.charCodeAt(s1 + 1) === 120 /* x */ };
}

/** The path on one line of a valid manifest; `s1` is the index of the space after the size. */
export function pathOfLine(line: string, s1 = line.indexOf(' ', 65)): string {
  return decodePath(line.slice(s1 + 3))!;
}

/**
 * The manifest, or undefined when the cache does not have it: a corrupted one is moved to quarantine and
 * counts as not had (a fetch brings a good copy). For callers to whom a missing manifest is no error.
 */
export function loadManifestIfPresent(cache: ObjectCache, oid: Oid, dataPath: string): Manifest | undefined {
  const entries: ManifestEntry[] = [];
  return readManifestIfPresent(cache, oid, dataPath, (e) => entries.push(e)) ? { entries } : undefined;
}

/**
 * readManifest for callers to whom a missing manifest is no error: false when the cache does not have
 * it, or has a corrupted copy (moved to quarantine; entries may have been handed on before the damage
 * showed: drop them).
 */
export function readManifestIfPresent(cache: ObjectCache, oid: Oid, dataPath: string, onEntry: (e: ManifestEntry) => void, onBlock?: (block: Buffer) => void): boolean {
  if (!cache.has(oid)) return false;
  try {
    readManifest(cache, oid, dataPath, onEntry, READ_BLOCK, onBlock);
    return true;
  } catch (err) {
    if (isDvsError(err) && err.code === 'OBJECT_CORRUPTED') {
      try {
        cache.quarantine(oid);
      } catch {
        // already moved
      }
      return false;
    }
    throw err;
  }
}
