/**
 * What every format reader shares: a column registry, the row callback, and turning a ContentSource into
 * decoded text (gunzipping when needed). Readers push rows; they never build a table in memory.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { TextDecoder } from 'node:util';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import type { Cell, ContentSource } from './types.js';

/** Bad data, as opposed to a bug: the diff reports its message on one line and carries on. */
export class ContentParseError extends Error {
  override name = 'ContentParseError';
}

/**
 * Column name ↔ index for one side of the diff. Shared by all files of a partitioned directory, so a
 * column is the same index whatever its position in each file's header; JSONL adds columns as it meets
 * them.
 */
export class Columns {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();

  indexOf(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.index.set(name, i);
    }
    return i;
  }

  /**
   * Columns whose text cells are exact numbers (Parquet decimals, int64 beyond 2^53): statistics read them
   * as numbers, while hashes, distinct counts and keys use the exact text.
   */
  readonly numericText = new Set<number>();

  markNumericText(index: number): void {
    this.numericText.add(index);
  }

  /**
   * Columns that are not numbers but are ordered (Parquet dates and timestamps, as ISO text): their
   * statistics keep a min and max, ordered as the footer's bounds are, so reading the rows gives the
   * same bounds as the footer does instead of none.
   */
  readonly bounded = new Set<number>();

  markBounded(index: number): void {
    this.bounded.add(index);
  }

  find(name: string): number | undefined {
    return this.index.get(name);
  }

  get length(): number {
    return this.names.length;
  }
}

/**
 * Receives rows, cells in registry order (index i = column i; a missing index is a null cell). Arrays
 * are only valid during the call. Return false to stop reading early.
 */
export interface RowSink {
  /** Cells as values: CSV text (quoted records), or typed JSONL/Parquet values. */
  values(values: readonly (Cell | string)[], rowNumber: number): boolean;
  /**
   * CSV fast path: cell i is text[start[i], end[i]), no substring made; an empty span is a null cell.
   * The arrays cover at least every registered column. `ascii`: the bytes of `text` when it is ASCII
   * (ascii[i] === text.charCodeAt(i)), for readers that are faster on bytes.
   */
  spans(text: string, start: Int32Array, end: Int32Array, rowNumber: number, ascii?: Uint8Array): boolean;
}

export interface ReadContext {
  source: ContentSource;
  columns: Columns;
  sink: RowSink;
  /** Counted bytes for progress (compressed bytes for gzip). */
  onBytes?(n: number): void;
  /** Things worth telling the user that did not stop the read (ragged rows, bad JSON lines). */
  notes: string[];
  /** Which version is read, for notes. */
  side?: 'before' | 'after';
}

/** `data/a.csv (after)`: where a note is about. */
export function where(ctx: ReadContext): string {
  return ctx.side ? `${ctx.source.path} (${ctx.side})` : ctx.source.path;
}

const DECODE_CHUNK = 64 * 1024;

/** Largest text a single record may span before we call the file broken (an unterminated quote). */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

/**
 * The decoded text of a source, chunk by chunk. Gzip is recognised by its magic bytes, not only by the
 * `.gz` extension: cache objects have no extension at all. Leaving the loop early (a reader that has
 * what it needs) destroys the underlying stream.
 */
export async function* textChunks(ctx: ReadContext): AsyncGenerator<string> {
  for await (const piece of textPieces(ctx)) yield piece.text;
}

/**
 * A piece of decoded text, and the bytes it was decoded from when they are ASCII: then bytes[i] is
 * text.charCodeAt(i) for every i, and a reader may look at the bytes instead of the string (faster).
 */
export interface TextPiece {
  text: string;
  ascii: Uint8Array | undefined;
}

/** textChunks, with the ASCII bytes of each piece. */
export async function* textPieces(ctx: ReadContext): AsyncGenerator<TextPiece> {
  // Reused buffers when the source has them: every chunk is decoded before the next is read. Not for
  // gzip, whose stream reads ahead: a gzipped source is opened again as a stream.
  const reused = ctx.source.chunks !== undefined;
  let opened = await openChunks(ctx.source, reused);
  let { it, first } = opened;
  if (reused && isGzip(first)) {
    await opened.close();
    opened = await openChunks(ctx.source, false);
    ({ it, first } = opened);
  }
  async function* counted(): AsyncGenerator<Buffer> {
    for (let r = first; !r.done; r = await it.next()) {
      ctx.onBytes?.(r.value.length);
      yield r.value;
    }
  }
  let chunks: AsyncIterable<Buffer> = counted();
  let gunzip: Gunzip | undefined;
  if (isGzip(first)) {
    gunzip = createGunzip({ chunkSize: 1 << 20 });
    // pipeline() destroys gunzip with the first error, which makes the loop below throw it.
    pipeline(Readable.from(counted()), gunzip, () => {});
    chunks = gunzip;
  }
  const text = new TextDecoding(ctx);
  try {
    for await (const chunk of chunks) {
      // Decode at most 64 KB at a time: V8 allocates larger strings in its large-object space, which made
      // decoding 1 MB chunks 20 times slower than the same bytes in 64 KB strings. Small strings also
      // mean a kept substring pins only 64 KB of text.
      const bytes = text.accept(chunk);
      for (let off = 0; off < bytes.length; off += DECODE_CHUNK) {
        const piece = bytes.subarray(off, off + DECODE_CHUNK);
        const decoded = text.write(piece);
        // Equal lengths rule out bytes the decoder held from the chunk before (they would come out first).
        yield { text: decoded, ascii: text.ascii && decoded.length === piece.length ? piece : undefined };
      }
    }
    const tail = text.end();
    if (tail) yield { text: tail, ascii: undefined };
  } catch (err) {
    if (gunzip && errnoLike(err)?.startsWith('Z_')) throw new ContentParseError(`gzip data is corrupt (${(err as Error).message})`);
    throw err;
  } finally {
    gunzip?.destroy();
    await opened.close();
  }
}

/** The gzip magic number. */
function isGzip(first: IteratorResult<Buffer>): boolean {
  return !first.done && first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b;
}

interface OpenedChunks {
  it: AsyncIterator<Buffer>;
  /** The first chunk, at least two bytes long unless the content is shorter (to see the magic number). */
  first: IteratorResult<Buffer>;
  /** Stop reading (leaving early destroys the stream, or ends the reused-buffer reads). */
  close(): Promise<void>;
}

async function openChunks(source: ContentSource, reused: boolean): Promise<OpenedChunks> {
  let close: () => Promise<void>;
  let it: AsyncIterator<Buffer>;
  if (reused) {
    const gen = source.chunks!()[Symbol.asyncIterator]();
    it = { next: async () => toBuffer(await gen.next()) };
    close = async () => void (await gen.return?.(undefined));
  } else {
    const raw = (await source.open()) as NodeJS.ReadableStream & Partial<Pick<Readable, 'destroy'>>;
    it = (raw as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    close = async () => void raw.destroy?.();
  }
  let first = await it.next();
  // The magic number is two bytes; a stream may hand them over one at a time. They are copied before the
  // next read, which may reuse their buffer.
  while (!first.done && first.value.length < 2) {
    const held = Buffer.from(first.value);
    const next = await it.next();
    first = { done: false, value: next.done ? held : Buffer.concat([held, next.value]) };
    if (next.done) break;
  }
  return { it, first, close };
}

function toBuffer(r: IteratorResult<Uint8Array>): IteratorResult<Buffer> {
  if (r.done) return r;
  const v = r.value;
  return { done: false, value: Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength) };
}

/** Bytes of a UTF-8 sequence that starts with `lead`; 0 for a continuation byte. */
function sequenceLength(lead: number): number {
  return lead < 0x80 ? 1 : lead < 0xc0 ? 0 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/** Where the last complete UTF-8 sequence of `b` ends: a sequence cut by the chunk boundary waits. */
function completeEnd(b: Uint8Array): number {
  for (let i = b.length - 1; i >= 0 && i >= b.length - 4; i--) {
    const n = sequenceLength(b[i]!);
    if (n === 0) continue;
    return i + n > b.length ? i : b.length;
  }
  return b.length;
}

/**
 * Text decoding, per file, decided on the whole file rather than its first chunk. UTF-8 until the first
 * invalid UTF-8 sequence; if every byte before it was ASCII, the file is Windows-1252 (the superset of
 * Latin-1 that spreadsheets on Windows write) from its first byte: ASCII reads the same in both, so
 * nothing decoded so far changes, and `café` → `cafè` is a change rather than `caf�` on both sides. If
 * valid multi-byte UTF-8 came before it, the file mixes encodings: the invalid bytes read as U+FFFD.
 * Either way a note says so.
 */
class TextDecoding {
  private utf8: StringDecoder | undefined = new StringDecoder('utf8');
  private single: TextDecoder | undefined;
  private offset = 0;
  /** An incomplete UTF-8 sequence at the end of the bytes validated so far (the decoder holds it too). */
  private tail: Uint8Array = new Uint8Array(0);
  /** Valid multi-byte UTF-8 was met: from now on invalid bytes are a mix of encodings, not Windows-1252. */
  private multibyte = false;
  private noted = false;
  /** The chunk last accepted is all ASCII (so is every piece of it). */
  ascii = false;

  constructor(private readonly ctx: ReadContext) {}

  /** Validate a raw chunk (before it is decoded in pieces); returns the bytes to decode. */
  accept(chunk: Buffer): Buffer {
    this.ascii = false;
    if (this.single || this.noted) return chunk;
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const start = this.offset - this.tail.length;
    this.offset += chunk.length;
    const end = completeEnd(data);
    const complete = data.subarray(0, end);
    const held = this.tail;
    this.tail = end < data.length ? Uint8Array.prototype.slice.call(data, end) : new Uint8Array(0);
    // ASCII is valid UTF-8: the common case costs one check, not two. An ASCII `complete` is the whole
    // chunk (nothing held before it, nothing cut at its end: those would be bytes of 0x80 and above).
    if (!this.multibyte && isAscii(complete)) {
      this.ascii = complete.length === chunk.length;
      return chunk;
    }
    if (isUtf8(complete)) {
      this.multibyte = true; // valid, and (from the line above) not all ASCII
      return chunk;
    }
    const bad = firstInvalid(complete);
    const at = start + bad;
    this.noted = true;
    if (!this.multibyte && isAscii(complete.subarray(0, bad))) {
      // Only ASCII so far: the whole file is single-byte text. The decoder may hold the start of what
      // looked like a UTF-8 sequence (`held`): decode it again, as Windows-1252.
      this.utf8 = undefined;
      this.single = new TextDecoder('windows-1252');
      this.ctx.notes.push(`${where(this.ctx)}: not UTF-8 (invalid byte at offset ${at}): decoded as Windows-1252 (Latin-1)`);
      return held.length > 0 ? data : chunk;
    }
    this.ctx.notes.push(`${where(this.ctx)}: mixes encodings: UTF-8 text before byte offset ${at}, not valid UTF-8 from there on: invalid bytes read as U+FFFD`);
    return chunk;
  }

  write(bytes: Buffer): string {
    // An ASCII chunk leaves the UTF-8 decoder holding nothing, before and after: Latin-1 decodes the same
    // bytes to the same text, at the speed of a copy.
    if (this.ascii) return bytes.toString('latin1');
    return this.single ? this.single.decode(bytes, { stream: true }) : this.utf8!.write(bytes);
  }

  end(): string {
    if (this.tail.length > 0 && !this.single && !this.noted) {
      this.ctx.notes.push(`${where(this.ctx)}: the file ends inside a UTF-8 sequence (read as U+FFFD)`);
    }
    return this.single ? this.single.decode() : this.utf8!.end();
  }
}

/** Offset of the first byte where `b` stops being valid UTF-8 (b is known to be invalid). */
function firstInvalid(b: Uint8Array): number {
  let lo = 0;
  let hi = b.length;
  // The longest valid prefix, by bisection; the cut point may fall inside a sequence, hence completeEnd.
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (isUtf8(b.subarray(0, completeEnd(b.subarray(0, mid))))) lo = mid;
    else hi = mid;
  }
  return completeEnd(b.subarray(0, lo));
}

function errnoLike(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

/** All bytes of a source (Parquet without readRange). */
export async function readAll(source: ContentSource): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of (await source.open()) as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts);
}
