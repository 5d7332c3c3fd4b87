/**
 * Text decoding per file: UTF-8 cut anywhere by chunk boundaries is still UTF-8 (no false note), a file
 * that is not UTF-8 (only ASCII before its first invalid byte, however late) is read as Windows-1252, and
 * invalid bytes after valid multi-byte UTF-8 are noted as a mix of encodings, with their offset.
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
    expect(r.notes).toEqual([`x.csv (after): mixes encodings: UTF-8 text before byte offset ${head.length + 3}, not valid UTF-8 from there on: invalid bytes read as U+FFFD`]);
  });

  it('reads a file that is ASCII until a later chunk as Windows-1252 from its first byte, wherever the chunks are cut', async () => {
    const head = 'id,word\n' + '1,cafe\n'.repeat(10);
    const bytes = Buffer.from(head + '2,cafè\n3,thé\n', 'latin1');
    // A cut right after è leaves it as the start of what could be a UTF-8 sequence, held for the next chunk.
    for (const pieces of [[bytes.subarray(0, head.length + 6), bytes.subarray(head.length + 6)], cut(bytes, 1), cut(bytes, 16)]) {
      const r = await decode(pieces);
      expect(r.text).toBe(head + '2,cafè\n3,thé\n');
      expect(r.notes).toEqual([`x.csv (after): not UTF-8 (invalid byte at offset ${head.length + 5}): decoded as Windows-1252 (Latin-1)`]);
    }
  });
});
