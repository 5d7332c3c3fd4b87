import { closeSync, fstatSync, openSync, readdirSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { readFullyAt } from '../base/read-at.js';
import { applyDelta } from './git-delta.js';
import { GitObjectError } from './git-object-error.js';
import { Pack } from './git-pack.js';

export type GitObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface GitObject {
  type: GitObjectType;
  body: Buffer;
}

const TYPES: Record<number, GitObjectType> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
/** A full SHA-1 object id, as dvs reads it. */
export const OID = /^[0-9a-f]{40}$/;
/** Commits and trees are small; a bigger object (or a delta claiming one) is refused, not allocated. */
const MAX_OBJECT = 64 << 20;
/** Git itself never writes chains deeper than 4095 (pack.depth's ceiling). */
const MAX_DELTA_DEPTH = 4096;
/** Bytes inflated for one object, its chain of deltas included: a hostile chain stops here. */
const MAX_WORK = 512 << 20;
const CACHE_BYTES = 16 << 20;

/**
 * Objects of a SHA-1 repository's object directory, read without running Git: loose objects and
 * version-2 packs, deltas resolved. Only what a tree diff needs, and only the formats Git writes by
 * default; anything else (a missing object, a damaged file, an unknown format) throws GitObjectError
 * and the caller asks `git` instead. Everything read is untrusted: sizes are capped, ranges checked, and
 * delta chains bounded.
 */
export class GitObjectReader {
  private packs?: Pack[];
  /** Resolved pack objects by "pack:offset": trees share delta bases, and diffs read the same trees again. */
  private readonly cache = new Map<string, GitObject>();
  private cached = 0;

  constructor(private readonly objectsDir: string) {}

  read(oid: string): GitObject {
    if (!OID.test(oid)) throw new GitObjectError(`not a SHA-1 object id: ${oid}`);
    const id = Buffer.from(oid, 'hex');
    const packs = this.openPacks();
    for (let p = 0; p < packs.length; p++) {
      const offset = packs[p].find(id);
      if (offset !== undefined) return this.resolve(p, offset);
    }
    const loose = this.readLoose(oid);
    if (loose) return loose;
    throw new GitObjectError(`object ${oid} not found`);
  }

  close(): void {
    for (const pack of this.packs ?? []) pack.close();
    this.packs = [];
  }

  private openPacks(): Pack[] {
    if (this.packs) return this.packs;
    const dir = `${this.objectsDir}/pack`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      names = [];
    }
    this.packs = [];
    for (const name of names.sort()) {
      if (!name.endsWith('.idx')) continue;
      const base = `${dir}/${name.slice(0, -4)}`;
      this.packs.push(Pack.open(`${base}.idx`, `${base}.pack`));
    }
    return this.packs;
  }

  private readLoose(oid: string): GitObject | undefined {
    let fd: number;
    try {
      fd = openSync(`${this.objectsDir}/${oid.slice(0, 2)}/${oid.slice(2)}`, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_OBJECT + 1024) throw new GitObjectError('loose object too large');
      const compressed = Buffer.allocUnsafe(size);
      const raw = inflateLoose(compressed.subarray(0, readFullyAt(fd, compressed, 0)));
      const nul = raw.indexOf(0);
      const header = nul > 0 && nul < 32 ? raw.toString('latin1', 0, nul) : '';
      const match = /^(commit|tree|blob|tag) (0|[1-9][0-9]{0,9})$/.exec(header);
      if (!match || Number(match[2]) !== raw.length - nul - 1) throw new GitObjectError(`bad loose object ${oid}`);
      return { type: match[1] as GitObjectType, body: raw.subarray(nul + 1) };
    } finally {
      closeSync(fd);
    }
  }

  /** The object at a pack offset: follow its chain of deltas down to a whole object, then apply them. */
  private resolve(packIndex: number, offset: number): GitObject {
    const pack = this.packs![packIndex];
    const deltas: Buffer[] = [];
    const visited: number[] = [];
    let work = 0;
    let at = offset;
    let base: GitObject | undefined;
    while (!base) {
      const hit = this.cache.get(`${packIndex}:${at}`);
      if (hit) {
        base = hit;
        break;
      }
      if (deltas.length >= MAX_DELTA_DEPTH) throw new GitObjectError('delta chain too deep');
      const entry = pack.entryAt(at, MAX_OBJECT);
      work += entry.data.length;
      if (work > MAX_WORK) throw new GitObjectError('delta chain too costly');
      visited.push(at);
      if (entry.kind === 'object') {
        base = { type: TYPES[entry.type], body: entry.data };
        visited.pop();
        this.remember(`${packIndex}:${at}`, base);
      } else {
        deltas.push(entry.data);
        if (entry.kind === 'ofs-delta') {
          at = entry.baseOffset;
        } else {
          // Git writes a pack's bases into the pack itself (index-pack completes thin packs).
          const found = pack.find(entry.baseOid);
          if (found === undefined) throw new GitObjectError('delta base outside its pack');
          at = found;
        }
      }
    }
    let object = base;
    for (let i = deltas.length - 1; i >= 0; i--) {
      object = { type: object.type, body: applyDelta(object.body, deltas[i], MAX_OBJECT) };
      this.remember(`${packIndex}:${visited[i]}`, object);
    }
    return object;
  }

  private remember(key: string, object: GitObject): void {
    if (object.body.length > CACHE_BYTES / 4) return;
    this.cache.set(key, object);
    this.cached += object.body.length;
    for (const [k, v] of this.cache) {
      if (this.cached <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cached -= v.body.length;
    }
  }
}

/** A loose object: one zlib stream of "<type> <size>\0<body>" (the header is checked by the caller). */
function inflateLoose(compressed: Buffer): Buffer {
  try {
    return inflateSync(compressed, { maxOutputLength: MAX_OBJECT + 32 });
  } catch {
    throw new GitObjectError('damaged loose object');
  }
}
