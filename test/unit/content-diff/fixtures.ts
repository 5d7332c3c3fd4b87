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
 * chunk boundaries); `range: false` leaves out readRange; `path` overrides the logical path.
 */
export function source(file: string, options: { chunk?: number; range?: boolean; path?: string } = {}): Counted {
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
