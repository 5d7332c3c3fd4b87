import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, rmSync, write } from 'node:fs';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectCache } from '../objects/cache.js';
import { hashFileInSlices } from '../objects/hash.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from '../remotes/errors.js';
import { hashingCopy } from '../remotes/local-copy.js';
import type { CallOptions, DownloadSource, RemoteBackend } from '../remotes/types.js';

/**
 * Downloads, verified: the bytes are hashed while they stream into a temp file in the cache, and the
 * file enters the cache under `oid` only when its hash is `oid`. Nothing unverified is ever visible.
 */
export async function downloadToCache(backend: RemoteBackend, cache: ObjectCache, oid: Oid, call: CallOptions, remoteName: string, open?: (oid: Oid, call: CallOptions) => Promise<DownloadSource>): Promise<{ size: number }> {
  const source = await (open ? open(oid, call) : backend.download(oid, call));
  const tmp = cache.tempPath();
  try {
    const got = await hashSource(source, call, tmp);
    if (got.oid !== oid) throw corrupted(remoteName, oid, got.oid);
    cache.commit(tmp, oid);
    return { size: got.size };
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Hash a remote object without keeping it (verify --remote --deep). */
export async function hashRemoteObject(backend: RemoteBackend, oid: Oid, call: CallOptions, open?: (oid: Oid, call: CallOptions) => Promise<DownloadSource>): Promise<{ oid: Oid; size: number }> {
  return hashSource(await (open ? open(oid, call) : backend.download(oid, call)), call);
}

/** Hash a download as it arrives and, with `dest`, write it there (created exclusively, read-only). */
async function hashSource(source: DownloadSource, call: CallOptions, dest?: string): Promise<{ oid: Oid; size: number }> {
  if (source.type === 'file') {
    const r = dest === undefined ? await hashFileInSlices(source.path) : await hashingCopy(source.path, dest, source.size);
    call.onBytes?.(r.size);
    return { oid: r.oid, size: r.size };
  }
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      call.onBytes?.(chunk.length);
      cb(null, chunk);
    },
  });
  const sink = dest === undefined ? new Writable({ write: (_chunk, _enc, cb) => cb() }) : createWriteStream(dest, { flags: 'wx', mode: 0o444, highWaterMark: 1 << 20 });
  await pipeline(source.stream, hashing, sink, { signal: call.signal });
  if (source.size !== undefined && size !== source.size) {
    throw new RemoteError('REMOTE_SHORT_READ', `the download stopped after ${size} of ${source.size} bytes`, { reason: 'server', retriable: true });
  }
  return { oid: hash.digest('hex'), size };
}

export function corrupted(remoteName: string, oid: Oid, actual: Oid): RemoteError {
  return new RemoteError('REMOTE_OBJECT_CORRUPTED', `the copy of object ${shortOid(oid)} on remote "${remoteName}" is corrupted (its bytes hash to ${shortOid(actual)}); refused`, {
    reason: 'corrupt',
    hint: `Push a good copy from a clone that has it (dvs push -r ${remoteName}), and check the remote with \`dvs verify --remote ${remoteName} --deep\`.`,
    data: { oid, actual, remote: remoteName },
  });
}

/** What a stream read outside the transfer queue fails with when the remote stops sending. */
export function stalled(remoteName: string, seconds: number): RemoteError {
  return new RemoteError('REMOTE_TIMEOUT', `remote "${remoteName}" sent nothing for ${seconds} s; the read was abandoned`, {
    reason: 'timeout',
    hint: 'The server or the network is slow or stuck; raise transfer.timeout (seconds) if this is expected, and try again.',
  });
}

export interface VerifiedStreamOptions {
  /** What to throw when the bytes do not hash to the oid (the remote's or the cache's error). */
  mismatch(actual: Oid): Error;
  /** Also keep the bytes: they enter this cache under the oid only once they hashed right. */
  cache?: ObjectCache;
  /**
   * A network stream read outside the transfer queue (the library's `open`) has no queue watching it:
   * when no byte arrives for `ms` while the reader waits for one, the stream fails with `error()`.
   */
  stall?: { ms: number; error(): Error };
}

/**
 * A download as a readable stream that hashes the bytes as they pass and, at the end, errors instead of
 * ending when they are not the object's (or fewer than the source announced). With `cache`, the bytes go
 * to a temp file there as well, renamed in only after the check; a consumer that stops early leaves
 * nothing behind.
 */
export function verifiedStream(source: DownloadSource, oid: Oid, options: VerifiedStreamOptions): Readable {
  const input = source.type === 'file' ? createReadStream(source.path, { highWaterMark: 1 << 20 }) : source.stream;
  const hash = createHash('sha256');
  let size = 0;
  let tmp: string | undefined;
  let fd: number | undefined;
  if (options.cache) {
    tmp = options.cache.tempPath();
    fd = openSync(tmp, 'wx', 0o444);
  }
  const dropTemp = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    if (tmp !== undefined) rmSync(tmp, { force: true });
    tmp = undefined;
  };
  let stallWatch: (() => void) | undefined;
  const verifier = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      stallWatch?.();
      hash.update(chunk);
      size += chunk.length;
      if (fd === undefined) return cb(null, chunk);
      writeAll(fd, chunk).then(() => cb(null, chunk), cb);
    },
    flush(cb) {
      const actual = hash.digest('hex');
      if (actual !== oid) return cb(options.mismatch(actual));
      if (source.size !== undefined && size !== source.size) {
        return cb(new RemoteError('REMOTE_SHORT_READ', `the download stopped after ${size} of ${source.size} bytes`, { reason: 'server' }));
      }
      if (fd !== undefined && tmp !== undefined) {
        closeSync(fd);
        fd = undefined;
        options.cache!.commit(tmp, oid);
        tmp = undefined;
      }
      cb();
    },
    destroy(err, cb) {
      dropTemp();
      input.destroy();
      cb(err);
    },
  });
  input.once('error', (err: Error) => verifier.destroy(err));
  if (options.stall) stallWatch = watchForStalls(input, verifier, options.stall);
  return input.pipe(verifier);
}

/**
 * Fails `output` when `input` delivers nothing for `stall.ms`; the function returned is called at each
 * chunk. Bytes waiting in either buffer mean the reader is the slow side (back-pressure), not the
 * server: the watch then waits on.
 */
function watchForStalls(input: Readable, output: Transform, stall: { ms: number; error(): Error }): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (output.destroyed) return;
      if (output.readableLength > 0 || output.writableLength > 0 || input.readableLength > 0) return arm();
      output.destroy(stall.error());
    }, stall.ms);
    timer.unref?.();
  };
  output.once('close', () => clearTimeout(timer));
  input.once('end', () => clearTimeout(timer));
  arm();
  return arm;
}

async function writeAll(fd: number, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    offset += await new Promise<number>((resolve, reject) =>
      write(fd, chunk, offset, chunk.length - offset, null, (err: NodeJS.ErrnoException | null, n: number) => (err ? reject(err) : resolve(n))),
    );
  }
}
