import { describe, expect, it } from 'vitest';
import { DvsError } from '../../src/errors.js';
import type { Manifest } from '../../src/objects/manifest.js';
import { parsePointer, serializePointer } from '../../src/pointer/format.js';
import { checkAppend, partitionOf } from '../../src/ops/data/append-only.js';
import { mergeAppended } from '../../src/ops/git/merge-driver.js';
import { partitionDigest } from '../../src/ops/remote/locks.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

const m = (...entries: Array<[string, string]>): Manifest => ({ entries: entries.map(([path, oid]) => ({ path, oid, size: 1, exec: false })) });
const tally = () => ({ conflicts: [] as string[], fromOurs: 0, fromTheirs: 0 });

describe('append_only in pointers', () => {
  it('is written after files, read back, and kept by a rewrite that does not name it', () => {
    const text = serializePointer({ kind: 'dir', oid: A, size: 3, files: 2, appendOnly: true });
    expect(text).toContain(`size: 3\nfiles: 2\nappend_only: true\n`);
    const p = parsePointer(text, 'd.dvs');
    expect(p.appendOnly).toBe(true);
    expect(serializePointer({ kind: 'dir', oid: B, size: 4, files: 3 }, p.doc)).toContain('files: 3\nappend_only: true\n');
    expect(parsePointer(serializePointer({ kind: 'dir', oid: B, size: 4, files: 3, appendOnly: false }, p.doc), 'd.dvs').appendOnly).toBeUndefined();
  });

  it('refuses a value that is not a boolean, and true on a file pointer', () => {
    const base = `version: 1\nkind: dir\noid: sha256:${A}\nsize: 1\nfiles: 1\n`;
    expect(() => parsePointer(base + 'append_only: yes please\n', 'd.dvs')).toThrow(DvsError);
    expect(() => parsePointer(`version: 1\nkind: file\noid: sha256:${A}\nsize: 1\nappend_only: true\n`, 'f.dvs')).toThrow(/directories only/);
  });
});

describe('append-only rules', () => {
  it('a recorded entry changed or gone is a problem; new entries are not', () => {
    expect(checkAppend(m(['x', A], ['y', B]), m(['x', A], ['y', C], ['z', C]))).toEqual([{ path: 'y', reason: 'changed' }]);
    expect(checkAppend(m(['x', A]), m(['w', A]))).toEqual([{ path: 'x', reason: 'gone' }]);
    expect(partitionOf('2024-09/part-1.jsonl')).toBe('2024-09');
    expect(partitionOf('top.jsonl')).toBe('top.jsonl');
  });

  it('merges appends as a union; a changed partition or one name with two contents conflicts by partition', () => {
    const base = m(['p1/a', A]);
    const t = tally();
    const merged = mergeAppended(base, m(['p1/a', A], ['p1/b', B]), m(['p1/a', A], ['p2/c', C]), t);
    expect(merged.entries.map((e) => e.path)).toEqual(['p1/a', 'p1/b', 'p2/c']);
    expect(t).toEqual({ conflicts: [], fromOurs: 1, fromTheirs: 1 });
    const changed = tally();
    mergeAppended(base, m(['p1/a', B]), m(['p1/a', A], ['p3/x', A]), changed);
    expect(changed.conflicts).toEqual(['p1']);
    const twice = tally();
    mergeAppended(base, m(['p1/a', A], ['p4/x', A]), m(['p1/a', A], ['p4/x', B]), twice);
    expect(twice.conflicts).toEqual(['p4']);
  });

  it('a partition digest covers only the files under it', () => {
    const one = partitionDigest(m(['p1/a', A], ['p2/b', B]), 'p1');
    expect(one.files).toBe(1);
    expect(partitionDigest(m(['p1/a', A], ['p2/b', C]), 'p1').digest).toBe(one.digest);
    expect(partitionDigest(m(['p1/a', A], ['p1/b', C]), 'p1').entries).toEqual(expect.arrayContaining(one.entries));
    expect(partitionDigest(m(['p1/a', A], ['p2/b', B]), '').files).toBe(2);
  });
});
