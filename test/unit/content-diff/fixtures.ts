/** Test helpers: fixtures are generated into a temp dir; sources count what the diff reads. */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ContentSource } from '../../../src/diff/content/index.js';

export interface Counted extends ContentSource {
  reads: { opens: number; rangeCalls: number; rangeBytes: number };
}

/**
 * A source over a file. `chunk` sets the stream's chunk size (tiny chunks exercise records that straddle
 * chunk boundaries); `range: false` leaves out readRange; `path` overrides the logical path. `reused`:
 * also chunks(), in one buffer that is overwritten with junk before every next chunk, so a reader that
 * holds on to a chunk too long reads junk (the contract of ContentSource.chunks, at its strictest).
 */
export function source(file: string, options: { chunk?: number; range?: boolean; path?: string; reused?: boolean } = {}): Counted {
  const bytes = readFileSync(file);
  const reads = { opens: 0, rangeCalls: 0, rangeBytes: 0 };
  const s: Counted = {
    path: options.path ?? file,
    size: bytes.length,
    reads,
    open: async () => {
      reads.opens++;
      return createReadStream(file, { highWaterMark: options.chunk ?? 64 * 1024 });
    },
  };
  if (options.reused) {
    const size = options.chunk ?? 64 * 1024;
    s.chunks = async function* () {
      reads.opens++;
      const buffer = Buffer.alloc(size);
      for (let at = 0; at < bytes.length; at += size) {
        buffer.fill(0x7e);
        const n = bytes.copy(buffer, 0, at, at + size);
        yield buffer.subarray(0, n);
      }
      buffer.fill(0x7e);
    };
  }
  if (options.range !== false) {
    s.readRange = async (start, end) => {
      reads.rangeCalls++;
      reads.rangeBytes += end - start;
      return new Uint8Array(bytes.subarray(start, end));
    };
  }
  return s;
}

export function write(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export function writeGz(dir: string, name: string, content: string): string {
  return write(dir, name, gzipSync(Buffer.from(content)));
}

/** CSV text from rows (no quoting: the caller quotes where a test wants it). */
export function csv(rows: (string | number)[][]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

/** xorshift32, for reproducible data. */
export function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}
