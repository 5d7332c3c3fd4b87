import { currentOwner, isGone } from './owner.js';

/**
 * The names of the temp files dvs creates, and how to recognise them.
 *
 * In the workspace (checkout's link-then-rename, writeFileAtomic's pointers, .gitignore, config), a temp
 * file sits beside its target, so that the final rename stays within one directory:
 * `.<the target's name, cut to 100 bytes>.dvs-tmp-<16 random hex>`. Whatever the target's length the
 * name stays far below the 255-byte limit (and eCryptfs's 143), and it is cut only between whole UTF-8
 * characters. The directory scan and the pointer search skip these names, so a temp file left by a
 * killed command is never data nor a pointer, and checkout removes it. Only names of exactly this shape
 * are ever removed (a fixed marker, then random hex: no user names a file so by accident); the 8-hex
 * names of earlier checkouts are recognised too.
 *
 * In temp directories (`.dvs/cache/tmp`, a local remote's `tmp/`) names start with their maker:
 * `<host hash>-<pid>-<start time>-<random>`, so the next command can remove at once what a killed
 * process of this host left there, instead of waiting for `dvs gc` an hour later.
 */
const MARKER = '.dvs-tmp-';
const STEM_BYTES = 100;
const LEGACY_STEM_CHARS = 40;
const WORKSPACE_TEMP = /^\.([^]+)\.dvs-tmp-([0-9a-f]{16}|[0-9a-f]{8})$/;

/** A fresh temp name for writing `target` (a file name, not a path) in the same directory. */
export function workspaceTempName(target: string): string {
  return `.${stemOf(target)}${MARKER}${randomHex(8)}`;
}

/** Whether a directory entry's name is a dvs temp file (of any target). */
export function isWorkspaceTemp(name: string): boolean {
  // Cheap tests first: the directory scan asks this for every file of a 100,000-file directory.
  return name.charCodeAt(0) === 46 && name.includes(MARKER) && WORKSPACE_TEMP.test(name);
}

/** Whether `name` is a temp file dvs made to write `target` (a file name in the same directory). */
export function isWorkspaceTempOf(name: string, target: string): boolean {
  if (!isWorkspaceTemp(name)) return false;
  const [, stem, hex] = WORKSPACE_TEMP.exec(name)!;
  return stem === stemOf(target) || (hex.length === 8 && stem === target.slice(0, LEGACY_STEM_CHARS));
}

/** The start of a name, at most STEM_BYTES of UTF-8, cut between characters. */
function stemOf(name: string): string {
  // Each UTF-16 unit is at most 3 bytes of UTF-8: short names need no counting.
  if (name.length * 3 <= STEM_BYTES || Buffer.byteLength(name) <= STEM_BYTES) return name;
  let bytes = 0;
  let end = 0;
  for (const ch of name) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > STEM_BYTES) break;
    bytes += size;
    end += ch.length;
  }
  return name.slice(0, end);
}

const OWNED_TEMP = /^([0-9a-f]{8})-(\d+)-(\d+)-/;
let ownerPrefix: string | undefined;

/**
 * A prefix naming this process, for temp files in temp directories; callers add something unique to
 * them (worker threads share the pid).
 */
export function ownedTempPrefix(): string {
  if (!ownerPrefix) {
    const me = currentOwner();
    ownerPrefix = `${hostTag()}-${me.pid}-${me.start ?? 0}`;
  }
  return `${ownerPrefix}-${randomHex(6)}`;
}

/** Whether a temp directory's entry was made by a process of this host that is gone. */
export function isOrphanedTemp(name: string): boolean {
  const m = OWNED_TEMP.exec(name);
  if (!m) return false;
  const me = currentOwner();
  if (m[1] !== hostTag()) return false;
  return isGone({ host: me.host, pid: Number(m[2]), start: m[3] === '0' ? undefined : m[3] });
}

let myHostTag: string | undefined;
function hostTag(): string {
  return (myHostTag ??= crypto().createHash('sha256').update(currentOwner().host).digest('hex').slice(0, 8));
}

/** Random hex from a pool: checkout names 100,000 temp files, and a kernel call for each costs. */
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = crypto().randomBytes(4096);
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.toString('hex', poolAt - bytes, poolAt);
}

/** node:crypto, loaded when a temp name is first made: most commands (status, hooks) never make one. */
const crypto = () => process.getBuiltinModule('node:crypto');
