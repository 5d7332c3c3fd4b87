import { closeSync, openSync, readSync } from 'node:fs';
import { ManifestLines, type Manifest, type ManifestEntry } from '../../objects/manifest.js';
import { sha256Hex } from '../../objects/hash.js';
import type { Oid } from '../../objects/oid.js';
import type { ObjectCache } from '../../objects/cache.js';
import { CHUNK_THRESHOLD, chunkListOf, type ChunkList } from '../../transfer/chunk-list.js';

/**
 * The part of two versions of a big manifest that differs, read without reading the rest: a diff of a
 * directory of ten million files after a one-file change reads a few chunks, not 2 GB.
 *
 * Both manifests are cut into content-defined chunks (the chunk lists a push keeps; computed once, by
 * reading each manifest, when none is kept). A chunk that both lists name holds the same bytes in both;
 * a *run* is a longest sequence of such chunks that follow one another in both. The lines of a run that
 * start after its first newline and end inside it (its *inner* lines) are therefore lines of both
 * manifests, and, a manifest's lines being unique (one per path), they are inner at their one place in
 * each. Every other line (one that touches a chunk the other side lacks, or holds the first byte of a
 * run) is read, on both sides. The lines in both manifests are then the inner lines plus those read on
 * both sides, so the lines read give exactly the entries added, deleted or changed: `diffManifests` of
 * the two parts equals `diffManifests` of the whole manifests (sorted parts of sorted manifests).
 *
 * Every byte read is a whole chunk checked against its oid. Undefined (read the manifests whole) when a
 * manifest is under the chunk threshold, a list cannot be had, a chunk repeats within a list, a line is
 * longer than a neighbouring chunk, or the part to read is most of a manifest anyway.
 */
export function manifestDelta(cache: ObjectCache, listDir: string, before: { oid: Oid; where: string }, after: { oid: Oid; where: string }): { before: Manifest; after: Manifest } | undefined {
  const lists: ChunkList[] = [];
  for (const side of [before, after]) {
    const size = cache.sizeOf(side.oid);
    if (size === undefined || size < CHUNK_THRESHOLD) return undefined;
    try {
      lists.push(chunkListOf(listDir, side.oid, cache.pathOf(side.oid)));
    } catch {
      return undefined; // unreadable or damaged: the whole read reports it
    }
  }
  const [a, b] = lists;
  const placeA = placesOf(a);
  const placeB = placesOf(b);
  if (!placeA || !placeB) return undefined;
  const partA = readPart(cache, a, placeB, before.where);
  const partB = partA && readPart(cache, b, placeA, after.where);
  return partA && partB ? { before: { entries: partA }, after: { entries: partB } } : undefined;
}

/** Each chunk's index in its list; undefined when a chunk repeats (then "the same chunk" has no one place). */
function placesOf(list: ChunkList): Map<Oid, number> | undefined {
  const places = new Map<Oid, number>();
  for (const [i, c] of list.chunks.entries()) {
    if (places.has(c.oid)) return undefined;
    places.set(c.oid, i);
  }
  return places;
}

const NEWLINE = 0x0a;

/** The entries of the lines of `list`'s manifest that are not inner lines of a run shared with the other side. */
function readPart(cache: ObjectCache, list: ChunkList, other: Map<Oid, number>, where: string): ManifestEntry[] | undefined {
  const { chunks } = list;
  const n = chunks.length;
  const starts: number[] = [];
  for (let i = 0, at = 0; i < n; at += chunks[i++].length) starts.push(at);
  const shared = chunks.map((c) => other.has(c.oid));
  // A run starts where a shared chunk does not follow, in the other list too, the chunk before it.
  const runStart = chunks.map((c, i) => shared[i] && !(i > 0 && shared[i - 1] && other.get(c.oid) === other.get(chunks[i - 1].oid)! + 1));
  // Chunks read whole: each not shared, each holding a run's first byte, and their neighbours (a line
  // read may start in the chunk before or end in the one after).
  const read = new Array<boolean>(n).fill(false);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    if (shared[i] && !runStart[i]) continue;
    for (const k of [i - 1, i, shared[i] ? -1 : i + 1]) if (k >= 0 && k < n) read[k] = true;
  }
  for (let i = 0; i < n; i++) if (read[i]) bytes += chunks[i].length;
  if (bytes > list.size / 2) return undefined;

  const entries: ManifestEntry[] = [];
  const fd = openSync(cache.pathOf(list.oid), 'r');
  try {
    for (let i = 0; i < n; ) {
      if (!read[i]) {
        i++;
        continue;
      }
      // One group of chunks next to each other, read at once and checked chunk by chunk.
      let j = i;
      while (j < n && read[j]) j++;
      const from = starts[i];
      const buf = Buffer.allocUnsafe(starts[j - 1] + chunks[j - 1].length - from);
      if (readSync(fd, buf, 0, buf.length, from) !== buf.length) return undefined;
      for (let k = i; k < j; k++) {
        if (sha256Hex(buf.subarray(starts[k] - from, starts[k] - from + chunks[k].length)) !== chunks[k].oid) return undefined;
      }
      // The lines to read in the group, as byte spans [start, end) of the group, in order, merged.
      const spans: Array<[number, number]> = [];
      for (let k = i; k < j; k++) {
        if (shared[k] && !runStart[k]) continue;
        const s = starts[k] - from;
        const before = s > 0 ? buf.lastIndexOf(NEWLINE, s - 1) : -1;
        const lineEnd = buf.indexOf(NEWLINE, shared[k] ? s : s + chunks[k].length - 1) + 1;
        // A line reaching past the neighbouring chunk: no shortcut.
        if ((before < 0 && from !== 0) || lineEnd === 0) return undefined;
        const lineStart = before + 1;
        const last = spans[spans.length - 1];
        if (last && lineStart <= last[1]) last[1] = Math.max(last[1], lineEnd);
        else spans.push([lineStart, lineEnd]);
      }
      for (const [s, e] of spans) {
        const atStart = from + s === 0;
        const lines = new ManifestLines(atStart ? where : `${where}, from byte ${from + s}`, (entry) => entries.push(entry), { piece: !atStart });
        lines.feed(buf.toString('utf8', s, e));
      }
      i = j;
    }
  } finally {
    closeSync(fd);
  }
  return entries;
}
