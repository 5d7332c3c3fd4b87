import { createHash } from 'node:crypto';
import type { Oid } from '../objects/oid.js';

/**
 * The bytes of the packed remote format (docs/remote-format.md): the pack header and the index text,
 * written in its one valid encoding and read strictly. Nothing here touches a remote or a disk.
 */

/** Every pack starts with these 12 bytes; object offsets count from the start of the file. */
export const PACK_HEADER = Buffer.from('dvs-pack 1\n\0', 'latin1');

const INDEX_MAGIC = 'dvs-pack-index 1';

export interface IndexedPack {
  name: string;
  size: number;
}

export interface PackEntry {
  oid: Oid;
  /** Number of the pack among the index's packs. */
  pack: number;
  offset: number;
  length: number;
}

export interface PackIndex {
  packs: IndexedPack[];
  entries: PackEntry[];
}

/** The index's text: entries sorted by oid, so equal contents give equal bytes and an equal name. */
export function serializeIndex(index: PackIndex): Buffer {
  const lines = [INDEX_MAGIC, ...index.packs.map((p) => `pack ${p.name.slice(0, 64)} ${p.size}`)];
  const sorted = [...index.entries].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  for (const e of sorted) lines.push(`${e.oid} ${e.pack} ${e.offset} ${e.length}`);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

/** The name an index or pack is stored under: the SHA-256 of its bytes. */
export function contentName(bytes: Uint8Array, ext: 'pack' | 'idx'): string {
  return `${createHash('sha256').update(bytes).digest('hex')}.${ext}`;
}

const OID = /^[0-9a-f]{64}$/;
const NUMBER = /^(0|[1-9][0-9]*)$/;

/** Parse an index; throws an Error naming the first bad line (the caller skips and reports the index). */
export function parseIndex(text: string): PackIndex {
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('does not end with a newline');
  if (lines[0] !== INDEX_MAGIC) throw new Error(`first line is not "${INDEX_MAGIC}"`);
  const packs: IndexedPack[] = [];
  const entries: PackEntry[] = [];
  let i = 1;
  for (; i < lines.length && lines[i].startsWith('pack '); i++) {
    const [, name, size] = lines[i].split(' ');
    if (!OID.test(name ?? '') || !NUMBER.test(size ?? '') || lines[i].split(' ').length !== 3) throw new Error(`line ${i + 1}: bad pack line`);
    packs.push({ name: `${name}.pack`, size: Number(size) });
  }
  if (packs.length === 0) throw new Error('names no pack');
  let previous = '';
  for (; i < lines.length; i++) {
    const f = lines[i].split(' ');
    if (f.length !== 4 || !OID.test(f[0]) || !NUMBER.test(f[1]) || !NUMBER.test(f[2]) || !NUMBER.test(f[3])) throw new Error(`line ${i + 1}: bad entry`);
    const e: PackEntry = { oid: f[0], pack: Number(f[1]), offset: Number(f[2]), length: Number(f[3]) };
    const pack = packs[e.pack];
    if (!pack || e.offset < PACK_HEADER.length || e.offset + e.length > pack.size) throw new Error(`line ${i + 1}: outside its pack`);
    if (e.oid <= previous) throw new Error(`line ${i + 1}: entries not sorted or repeated`);
    previous = e.oid;
    entries.push(e);
  }
  return { packs, entries };
}
