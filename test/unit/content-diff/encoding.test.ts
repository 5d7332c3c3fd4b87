/**
 * Text decoding per file: UTF-8 cut anywhere by chunk boundaries is still UTF-8 (no false note), a file
 * that is not UTF-8 from the start is read as Windows-1252, invalid bytes later are noted with their offset.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Columns, textChunks, type ReadContext } from '../../../src/diff/content/reader.js';

async function decode(chunks: Buffer[]): Promise<{ text: string; notes: string[] }> {
  const notes: string[] = [];
  const ctx: ReadContext = {
    source: { path: 'x.csv', size: chunks.reduce((n, c) => n + c.length, 0), open: async () => Readable.from(chunks) },
    columns: new Columns(),
    notes,
    side: 'after',
    sink: { values: () => true, spans: () => true },
  };
  let text = '';
  for await (const t of textChunks(ctx)) text += t;
  return { text, notes };
}

/** `bytes` cut into pieces of `size` bytes. */
function cut(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('text encodings', () => {
  it('keeps UTF-8 whose multi-byte characters straddle chunk boundaries, without a note', async () => {
    const text = 'id,word\n' + Array.from({ length: 200 }, (_, i) => `${i},café 日本 😀 naïve\n`).join('');
    const bytes = Buffer.from(text, 'utf8');
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const r = await decode(cut(bytes, size));
      expect(r.text, `chunks of ${size}`).toBe(text);
      expect(r.notes, `chunks of ${size}`).toEqual([]);
    }
  });

  it('reads a file that is not UTF-8 as Windows-1252 and says so', async () => {
    const r = await decode([Buffer.from('id,word\n1,cafè\n2,“quoted”\n', 'latin1'), Buffer.from([0x33, 0x2c, 0x93, 0x78, 0x94, 0x0a])]);
    expect(r.text).toBe('id,word\n1,cafè\n2,\u001cquoted\u001d\n3,“x”\n');
    expect(r.notes).toEqual(['x.csv (after): not UTF-8 (invalid byte at offset 13): decoded as Windows-1252 (Latin-1)']);
  });

  it('notes invalid UTF-8 met after a valid start, with its offset', async () => {
    const head = Buffer.from('id,word\n' + '1,café\n'.repeat(10), 'utf8');
    const r = await decode([head, Buffer.from([0x32, 0x2c, 0x63, 0xe8, 0x0a])]);
    expect(r.text.endsWith('2,c\ufffd\n')).toBe(true);
    expect(r.notes).toEqual([`x.csv (after): not valid UTF-8 from byte offset ${head.length + 3} on: invalid bytes read as U+FFFD (is the file in another encoding?)`]);
  });
});
