import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffManifests } from '../../src/diff/data-diff.js';
import { DvsError } from '../../src/errors.js';
import { ObjectCache } from '../../src/objects/cache.js';
import { byteOrder, compareBytes, differingLines, loadManifest, parseManifest, readManifest, serializeManifest, sortEntries, type ManifestEntry } from '../../src/objects/manifest.js';
import { manifestDelta } from '../../src/ops/data/manifest-delta.js';
import { CHUNK_THRESHOLD } from '../../src/transfer/chunk-list.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof DvsError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('directory manifest', () => {
  it('serialises sorted entries in one canonical form and parses them back', () => {
    const entries: ManifestEntry[] = sortEntries([
      { path: 'b/c.csv', oid: B, size: 10, exec: false },
      { path: 'a.sh', oid: A, size: 3, exec: true },
      { path: 'name with spaces %.txt', oid: A, size: 3, exec: false },
      { path: 'odd\nname', oid: B, size: 0, exec: false },
    ]);
    const text = serializeManifest({ entries }).toString();
    expect(text.startsWith('dvs-manifest 1\n')).toBe(true);
    expect(text).toContain(`${A} 3 x a.sh\n`);
    expect(text).toContain('odd%0Aname');
    expect(parseManifest(text, 'm').entries).toEqual(entries);
  });

  it('rejects paths that leave the directory', () => {
    for (const bad of ['../escape', '/etc/passwd', 'a/../../b', 'a//b', './a']) {
      const text = `dvs-manifest 1\n${A} 1 - ${bad}\n`;
      expect(code(() => parseManifest(text, 'm'))).toBe('PATH_OUTSIDE_REPO');
    }
  });

  it('rejects truncated, unsorted and malformed manifests', () => {
    expect(code(() => parseManifest(`dvs-manifest 1\n${A} 1 - a`, 'm'))).toBe('MANIFEST_INVALID');
    expect(code(() => parseManifest(`dvs-manifest 1\n${A} 1 - b\n${A} 1 - a\n`, 'm'))).toBe('MANIFEST_INVALID');
    expect(code(() => parseManifest(`dvs-manifest 1\n${A.slice(1)} 1 - a\n`, 'm'))).toBe('MANIFEST_INVALID');
    expect(code(() => parseManifest(`something else\n`, 'm'))).toBe('MANIFEST_INVALID');
  });
});

const dir = mkdtempSync(join(tmpdir(), 'dvs-manifest-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cache = new ObjectCache(join(dir, 'cache'));
const listDir = join(dir, 'chunk-lists');

const oidOf = (s: string) => createHash('sha256').update(s).digest('hex');

function entry(i: number, content = `file ${i}`): ManifestEntry {
  return { path: `d${String(Math.floor(i / 1000)).padStart(4, '0')}/f${String(i).padStart(7, '0')}.bin`, oid: oidOf(content), size: content.length, exec: false };
}

describe('manifests read block by block', () => {
  const entries = Array.from({ length: 500 }, (_, i) => entry(i, i % 7 ? `file ${i}` : ''));
  entries[3] = { ...entries[3], exec: true, path: 'd0000/f0000003 with%0A and %25.bin'.replace('%0A', '\n').replace('%25', '%') };
  const text = serializeManifest({ entries }).toString();
  const oid = cache.addBuffer(text);

  it('gives the entries parseManifest gives, whatever the block size (lines cut across blocks)', () => {
    for (const block of [1, 7, 100, 4096, 1 << 20]) {
      const read: ManifestEntry[] = [];
      readManifest(cache, oid, 'data', (e) => read.push(e), block);
      expect(read).toEqual(parseManifest(text, 'm').entries);
    }
  });

  it('reports a truncated manifest as invalid, and damaged bytes as corruption (not as what they look like)', () => {
    const cut = cache.addBuffer(text.slice(0, -10));
    expect(code(() => readManifest(cache, cut, 'data', () => {}, 64))).toBe('MANIFEST_INVALID');
    const damagedOid = oidOf('not this');
    const path = cache.pathOf(damagedOid);
    cache.ensureDir(join(path, '..'));
    writeFileSync(path, text.replace('dvs-manifest 1', 'dvs-manifest 9'));
    chmodSync(path, 0o444);
    expect(code(() => readManifest(cache, damagedOid, 'data', () => {}, 64))).toBe('OBJECT_CORRUPTED');
    expect(code(() => readManifest(cache, oidOf('absent'), 'data', () => {}))).toBe('OBJECT_MISSING');
  });
});

describe('the differing part of two big manifests (diff reads only what changed)', () => {
  // About 10 MB: over the chunk threshold, some 40 chunks.
  const count = 100_000;
  const base = Array.from({ length: count }, (_, i) => entry(i));
  const store = (list: ManifestEntry[]) => {
    const text = serializeManifest({ entries: list }).toString();
    expect(text.length).toBeGreaterThan(CHUNK_THRESHOLD);
    return { oid: cache.addBuffer(text), list };
  };
  const before = store(base);

  // The last: the most lines of both sides the part may hold (one change site reads about three chunks' worth).
  const edits: Array<[string, (l: ManifestEntry[]) => ManifestEntry[], number]> = [
    ['one file changed in the middle', (l) => l.map((e, i) => (i === 50_000 ? entry(i, 'changed') : e)), count / 5],
    ['the first and the last file changed', (l) => l.map((e, i) => (i === 0 || i === count - 1 ? entry(i, 'changed') : e)), count / 5],
    ['files deleted, added, renamed and made executable in places', (l) => {
      const out = l.filter((_, i) => i < 20_000 || i >= 20_040);
      out.push({ ...entry(61_000), path: `${entry(61_000).path}.new` });
      out[40_000] = { ...out[40_000], exec: true };
      const moved = out.splice(80_000, 1)[0];
      out.push({ ...moved, path: `zz/${moved.path}` });
      return sortEntries(out);
    }, count / 2],
  ];
  for (const [what, edit, most] of edits) {
    it(what, () => {
      const after = store(edit(base.slice()));
      const part = manifestDelta(cache, listDir, { oid: before.oid, where: 'a' }, { oid: after.oid, where: 'b' });
      expect(part).toBeDefined();
      expect(diffManifests(part!.before, part!.after)).toEqual(diffManifests({ entries: before.list }, { entries: after.list }));
      // A few chunks' worth of lines, not the manifests.
      expect(part!.before.entries.length + part!.after.entries.length).toBeLessThan(most);
    });
  }

  it('declines (the caller reads whole manifests) below the chunk threshold', () => {
    const small = cache.addBuffer(serializeManifest({ entries: base.slice(0, 100) }));
    expect(manifestDelta(cache, listDir, { oid: small, where: 'a' }, { oid: before.oid, where: 'b' })).toBeUndefined();
  });
});

describe('manifests known valid (dvs diff)', () => {
  /** A random sorted manifest over a small name space, so that two of them share, change and move files. */
  function randomManifest(seed: number): ManifestEntry[] {
    let x = seed;
    const next = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
    const names = ['a', 'a.b', 'a/b', 'b%c', 'b/c d', 'c-1', 'é', 'z\nline', '\u{1F600}', 'dir/x', 'dir/y/z', 'dir.txt'];
    const oids = [A, B, 'c'.repeat(64)];
    const byPath = new Map<string, ManifestEntry>();
    for (let k = next(9); k > 0; k--) {
      const path = names[next(names.length)];
      const top = path.split('/')[0];
      // A path may not be both a file and a directory: keep the manifest valid.
      if ([...byPath.keys()].some((p) => p.startsWith(path + '/') || path.startsWith(p + '/') || (p.split('/')[0] === top && (p === top) !== (path === top)))) continue;
      const oid = oids[next(oids.length)];
      byPath.set(path, { path, oid, size: oid.charCodeAt(0) + next(2), exec: next(3) === 0 });
    }
    return sortEntries([...byPath.values()]);
  }

  it('compares line by line exactly as entry by entry, and builds entries only when asked', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { ObjectCache } = await import('../../src/objects/cache.js');
    const { diffManifests } = await import('../../src/diff/data-diff.js');
    const { loadManifest } = await import('../../src/objects/manifest.js');
    const dir = mkdtempSync(join(tmpdir(), 'dvs-manifest-'));
    try {
      const cache = new ObjectCache(dir);
      const known = new Set<string>();
      const kinds = new Set<string>();
      const valid = { isValidManifest: (oid: string) => known.has(oid), markValidManifest: (oid: string) => void known.add(oid) };
      for (let seed = 1; seed < 300; seed++) {
        const [x, y] = [randomManifest(seed), randomManifest(seed * 7 + 3)];
        const [ox, oy] = [cache.addBuffer(serializeManifest({ entries: x })), cache.addBuffer(serializeManifest({ entries: y }))];
        const expected = diffManifests({ entries: x }, { entries: y });
        for (const c of expected) kinds.add(c.change);
        // First read: validated (and remembered); second read: taken as valid, compared by text.
        const first = [loadManifest(cache, ox, 'd', valid), loadManifest(cache, oy, 'd', valid)];
        expect(diffManifests(first[0], first[1])).toEqual(expected);
        expect(known.has(ox) && known.has(oy)).toBe(true);
        const again = [loadManifest(cache, ox, 'd', valid), loadManifest(cache, oy, 'd', valid)];
        expect(again[0].text).toBeDefined();
        expect(diffManifests(again[0], again[1])).toEqual(expected);
        expect(again[0].entries).toEqual(x);
        expect(again[1].entries).toEqual(y);
      }
      expect([...kinds].sort()).toEqual(['added', 'deleted', 'modified', 'renamed']);
      // Only the lines that differ: the same changes as the whole manifests, for every pair above.
      for (let seed = 1; seed < 300; seed++) {
        const [x, y] = [randomManifest(seed), randomManifest(seed * 7 + 3)];
        const [ox, oy] = [cache.addBuffer(serializeManifest({ entries: x })), cache.addBuffer(serializeManifest({ entries: y }))];
        if (ox === oy) continue;
        const part = differingLines(cache, { oid: ox, where: 'a' }, { oid: oy, where: 'b' }, valid);
        expect(part, `seed ${seed}`).toBeDefined();
        expect(diffManifests(part!.before, part!.after), `seed ${seed}`).toEqual(diffManifests({ entries: x }, { entries: y }));
      }
      // A manifest not known valid is still checked: a bad one fails as before.
      const bad = cache.addBuffer(`dvs-manifest 1\n${A} 1 - ../escape\n`);
      expect(code(() => loadManifest(cache, bad, 'd', valid))).toBe('PATH_OUTSIDE_REPO');
      expect(known.has(bad)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the differing lines of two manifests known valid (dvs diff)', () => {
  const known = new Set<string>();
  const valid = { isValidManifest: (oid: string) => known.has(oid), markValidManifest: (oid: string) => void known.add(oid) };
  const put = (entries: ManifestEntry[]) => {
    const oid = cache.addBuffer(serializeManifest({ entries: sortEntries(entries) }));
    known.add(oid);
    return oid;
  };
  // Paths whose lines end alike (same oid, size and file name in different folders), so that a shared
  // end of the bytes can fall in the middle of a line.
  const base: ManifestEntry[] = Array.from({ length: 1000 }, (_, i) => ({ path: `d${i % 10}/${i % 3 ? 'x' : 'xx'}/f${Math.floor(i / 10)}.bin`, oid: i % 2 ? A : B, size: 7, exec: false }));
  const edits: Array<[string, (e: ManifestEntry[]) => ManifestEntry[]]> = [
    ['one file modified in the middle', (e) => e.map((x, i) => (i === 500 ? { ...x, oid: 'c'.repeat(64) } : x))],
    ['the first line changed', (e) => e.map((x, i) => (i === 0 ? { ...x, exec: true } : x))],
    ['the last line removed', (e) => sortEntries(e).slice(0, -1)],
    ['lines appended at the end', (e) => [...e, { path: 'zz/new.bin', oid: A, size: 7, exec: false }, { path: 'zz/new2.bin', oid: B, size: 7, exec: false }]],
    ['a line added at the start', (e) => [...e, { path: 'a.bin', oid: A, size: 7, exec: false }]],
    ['a file moved to a folder whose name ends the same', (e) => e.map((x) => (x.path === 'd3/xx/f0.bin' ? { ...x, path: 'd3/x/f0.bin0' } : x))],
    ['a size that differs in one digit', (e) => e.map((x, i) => (i === 999 ? { ...x, size: 17 } : x))],
    ['everything but one file removed', (e) => e.slice(400, 401)],
  ];
  for (const [what, edit] of edits) {
    it(what, () => {
      const before = base;
      const after = sortEntries(edit(base.slice()));
      const [ob, oa] = [put(before), put(after)];
      const part = differingLines(cache, { oid: ob, where: 'a' }, { oid: oa, where: 'b' }, valid)!;
      expect(diffManifests(part.before, part.after)).toEqual(diffManifests({ entries: sortEntries(before.slice()) }, { entries: after }));
      if (what.startsWith('one file')) expect(part.before.entries.length + part.after.entries.length).toBeLessThan(6);
      // The parts are manifests of their own: sorted, valid lines.
      for (const m of [part.before, part.after]) expect(parseManifest(serializeManifest({ entries: m.entries }).toString(), 'part').entries).toEqual(m.entries);
    });
  }

  it('keeps a line whole when all of it ends a longer line on the other side', () => {
    const before: ManifestEntry[] = [{ path: 'p', oid: B, size: 7, exec: false }];
    const after: ManifestEntry[] = [{ path: `a ${B} 7 - p`, oid: A, size: 7, exec: false }];
    const part = differingLines(cache, { oid: put(before), where: 'a' }, { oid: put(after), where: 'b' }, valid)!;
    expect(diffManifests(part.before, part.after)).toEqual(diffManifests({ entries: before }, { entries: after }));
    expect(part.after.entries).toEqual(after);
  });

  it('declines manifests not known valid, and checks the bytes of those it reads', () => {
    const x = put(base.slice(0, 10));
    const unknown = cache.addBuffer(serializeManifest({ entries: sortEntries(base.slice(5, 20)) }));
    expect(differingLines(cache, { oid: x, where: 'a' }, { oid: unknown, where: 'b' }, valid)).toBeUndefined();
    expect(loadManifest(cache, x, 'd', valid).text).toBeDefined();
  });
});

describe('byteOrder', () => {
  // The walk sorts each folder's names with it (workspace/scan.ts): it must give UTF-8 byte order, the
  // manifest's, whether or not a name has a character past U+FFFF (which `<` orders differently).
  const alphabet = ['a', 'b', 'B', '-', '.', '/', '0', 'é', '\uFF5E', '\u{1F600}', '\u{10000}', 'z'];
  const randomName = (rand: () => number) => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

  it('orders as compareBytes does, ties in their given order', () => {
    for (let round = 0; round < 300; round++) {
      const keys = Array.from({ length: 1 + Math.floor(rand() * 30) }, () => randomName(rand));
      if (round % 2 === 0) for (let k = 0; k < keys.length; k++) keys[k] = keys[k].replace(/[\u{10000}-\u{10FFFF}]/gu, 'q');
      const expected = Array.from(keys.keys()).sort((a, b) => compareBytes(keys[a], keys[b]) || a - b);
      expect(byteOrder(keys), JSON.stringify(keys)).toEqual(expected);
    }
  });

  it('puts a character past U+FFFF after U+FF5E, as UTF-8 does and `<` does not', () => {
    expect(byteOrder(['\u{1F600}', '\uFF5E'])).toEqual([1, 0]);
    expect(['\u{1F600}', '\uFF5E'].sort()).toEqual(['\u{1F600}', '\uFF5E']);
  });
});
