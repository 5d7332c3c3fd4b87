/**
 * What every format reader shares: a column registry, the row callback, and turning a ContentSource into
 * decoded text (gunzipping when needed). Readers push rows; they never build a table in memory.
 */
import { StringDecoder } from 'node:string_decoder';
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
   * The arrays cover at least every registered column.
   */
  spans(text: string, start: Int32Array, end: Int32Array, rowNumber: number): boolean;
}

export interface ReadContext {
  source: ContentSource;
  columns: Columns;
  sink: RowSink;
  /** Counted bytes for progress (compressed bytes for gzip). */
  onBytes?(n: number): void;
  /** Things worth telling the user that did not stop the read (ragged rows, bad JSON lines). */
  notes: string[];
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
  const raw = (await ctx.source.open()) as NodeJS.ReadableStream & Partial<Pick<Readable, 'destroy'>>;
  const it = (raw as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let first = await it.next();
  // The magic number is two bytes; a stream may hand them over one at a time.
  while (!first.done && first.value.length < 2) {
    const next = await it.next();
    if (next.done) break;
    first = { done: false, value: Buffer.concat([first.value, next.value]) };
  }
  async function* counted(): AsyncGenerator<Buffer> {
    for (let r = first; !r.done; r = await it.next()) {
      ctx.onBytes?.(r.value.length);
      yield r.value;
    }
  }
  let chunks: AsyncIterable<Buffer> = counted();
  let gunzip: Gunzip | undefined;
  if (!first.done && first.value.length >= 2 && first.value[0] === 0x1f && first.value[1] === 0x8b) {
    gunzip = createGunzip({ chunkSize: 1 << 20 });
    // pipeline() destroys gunzip with the first error, which makes the loop below throw it.
    pipeline(Readable.from(counted()), gunzip, () => {});
    chunks = gunzip;
  }
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of chunks) {
      // Decode at most 64 KB at a time: V8 allocates larger strings in its large-object space, which made
      // decoding 1 MB chunks 20 times slower than the same bytes in 64 KB strings. Small strings also
      // mean a kept substring pins only 64 KB of text.
      for (let off = 0; off < chunk.length; off += DECODE_CHUNK) yield decoder.write(chunk.subarray(off, off + DECODE_CHUNK));
    }
    const tail = decoder.end();
    if (tail) yield tail;
  } catch (err) {
    if (gunzip && errnoLike(err)?.startsWith('Z_')) throw new ContentParseError(`gzip data is corrupt (${(err as Error).message})`);
    throw err;
  } finally {
    gunzip?.destroy();
    raw.destroy?.();
  }
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
