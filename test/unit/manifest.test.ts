import { describe, expect, it } from 'vitest';
import { DvsError } from '../../src/errors.js';
import { parseManifest, serializeManifest, sortEntries, type ManifestEntry } from '../../src/objects/manifest.js';

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
    const text = serializeManifest({ entries });
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
      // A manifest not known valid is still checked: a bad one fails as before.
      const bad = cache.addBuffer(`dvs-manifest 1\n${A} 1 - ../escape\n`);
      expect(code(() => loadManifest(cache, bad, 'd', valid))).toBe('PATH_OUTSIDE_REPO');
      expect(known.has(bad)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
