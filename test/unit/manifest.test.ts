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
