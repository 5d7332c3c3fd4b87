import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { ContentSource } from './types.js';

/** 1 MB reads: fewer, larger chunks are measurably faster to parse than the default 64 KB. */
const CHUNK = 1 << 20;

/**
 * A ContentSource over a local file (a workspace file or a cache object). `logicalPath` is the path shown
 * to the user and used to detect the format; cache objects have no extension of their own.
 */
export async function fileSource(file: string, logicalPath: string = file): Promise<ContentSource> {
  const { size } = await stat(file);
  return {
    path: logicalPath,
    size,
    file,
    open: async () => createReadStream(file, { highWaterMark: CHUNK }),
    chunks: () => reusedChunks(file),
    readRange: async (start, end) => {
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(Math.max(0, end - start));
        const { bytesRead } = await fh.read(buf, 0, buf.length, start);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
  };
}

/**
 * The file in chunks, read into two buffers in turn: the next chunk is read while the caller works on
 * this one, and a chunk's buffer is reused once the caller asks for the one after it (ContentSource.chunks).
 */
async function* reusedChunks(file: string): AsyncGenerator<Uint8Array> {
  const fh = await open(file, 'r');
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let turn = 0;
  let next: Promise<{ bytesRead: number }> | undefined = fh.read(buffers[0]!, 0, CHUNK, null);
  try {
    for (;;) {
      const { bytesRead } = await next;
      next = undefined;
      if (bytesRead === 0) return;
      const buffer = buffers[turn]!;
      turn ^= 1;
      // Reads go on from the file position: this one starts where the chunk about to be yielded ends.
      next = fh.read(buffers[turn]!, 0, CHUNK, null);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    // A caller that stops early leaves a read in flight: let it finish before the handle is closed.
    await next?.catch(() => undefined);
    await fh.close();
  }
}
