import { describe, expect, it } from 'vitest';
import { DvsError } from '../../src/errors.js';
import { parsePointer, parsePointerDocument, pointerHasKey, serializePointer, type Pointer } from '../../src/pointer/format.js';

// parsePointer reads a pointer written the way dvs writes it without the YAML library, and anything else
// through it (format.ts, parseCanonicalPointer). Both readings must agree on every text: same fields,
// same document when it is asked for, same error.

const OID = 'a'.repeat(64);
const HEAD = serializePointer({ kind: 'file', oid: OID, size: 1 }).split('version:')[0];

const outcome = (parse: () => Pointer) => {
  try {
    const p = parse();
    return { kind: p.kind, oid: p.oid, size: p.size, files: p.files, exec: p.exec, appendOnly: p.appendOnly, source: p.source, doc: p.doc.toString(), lineage: pointerHasKey(p, 'lineage') };
  } catch (err) {
    if (err instanceof DvsError) return { code: err.code, message: err.message };
    throw err;
  }
};

const TEXTS = [
  serializePointer({ kind: 'file', oid: OID, size: 12 }),
  serializePointer({ kind: 'file', oid: OID, size: 0, exec: true }),
  serializePointer({ kind: 'dir', oid: OID, size: 100, files: 3 }),
  serializePointer({ kind: 'dir', oid: OID, size: 100, files: 3, appendOnly: true }),
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 7`, // no header, no final newline
  `${HEAD}version: 1\nkind: dir\noid: sha256:${OID}\nsize: 9007199254740991\nfiles: 0\nexec: true\n`, // exec on a directory: ignored
  `${HEAD}version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nfiles: 5\nappend_only: false\n`,
  // valid YAML that the quick reading leaves to the library
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 007\n`,
  `version: 1\nkind: "file"\noid: sha256:${OID}\nsize: 3\n`,
  `version: 1\r\nkind: file\r\noid: sha256:${OID}\r\nsize: 3\r\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 3 # bytes\n`,
  `# café\nversion: 1\nkind: file\noid: sha256:${OID}\nsize: 3\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nlineage:\n  transform: dedup\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nowner: me\n`,
  `---\nversion: 1\nkind: file\noid: sha256:${OID}\nsize: 3\n`,
  // invalid: the library's error in both
  `version: 2\nkind: file\noid: sha256:${OID}\nsize: 3\n`,
  `version: 1\nkind: link\noid: sha256:${OID}\nsize: 3\n`,
  `version: 1\nkind: file\noid: sha256:${'A'.repeat(64)}\nsize: 3\n`,
  `version: 1\nkind: file\noid: md5:${OID}\nsize: 3\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 99999999999999999\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: -1\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nsize: 4\n`,
  `version: 1\nkind: dir\noid: sha256:${OID}\nsize: 3\n`, // no file count
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nappend_only: true\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nexec: yes\n`,
  `version: 1\nkind: file\noid: sha256:${OID}\n`,
  `version: 1\nkind: file\nsize: 3\n`,
  '',
  '# only a comment\n',
];

describe('pointers as dvs writes them, read without the YAML library', () => {
  it('agree with the YAML reading on every text: fields, document and errors', () => {
    for (const text of TEXTS) {
      expect(outcome(() => parsePointer(text, 'p.dvs')), JSON.stringify(text)).toEqual(outcome(() => parsePointerDocument(text, 'p.dvs')));
    }
  });

  it('take the quick reading for what dvs writes, and parse the YAML only when the document is asked for', () => {
    const p = parsePointer(serializePointer({ kind: 'dir', oid: OID, size: 100, files: 3 }), 'd.dvs');
    expect(Object.getOwnPropertyDescriptor(p, 'doc')?.get).toBeTypeOf('function');
    expect(pointerHasKey(p, 'lineage')).toBe(false);
    expect(pointerHasKey(p, 'files')).toBe(true);
    // A rewrite edits the document, keeping the header comment.
    const rewritten = serializePointer({ kind: 'dir', oid: OID, size: 200, files: 4 }, p.doc);
    expect(rewritten).toContain('# dvs pointer');
    expect(parsePointer(rewritten, 'd.dvs')).toMatchObject({ size: 200, files: 4 });
    // Anything else goes through the library, which keeps the document at once.
    const q = parsePointer(`version: 1\nkind: file\noid: sha256:${OID}\nsize: 3\nlineage:\n  transform: x\n`, 'q.dvs');
    expect(Object.getOwnPropertyDescriptor(q, 'doc')?.get).toBeUndefined();
    expect(pointerHasKey(q, 'lineage')).toBe(true);
  });
});
