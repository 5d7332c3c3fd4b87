import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { Transform, Writable } from 'node:stream';
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
export async function downloadToCache(backend: RemoteBackend, cache: ObjectCache, oid: Oid, call: CallOptions, remoteName: string): Promise<{ size: number }> {
  const source = await backend.download(oid, call);
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
export async function hashRemoteObject(backend: RemoteBackend, oid: Oid, call: CallOptions): Promise<{ oid: Oid; size: number }> {
  return hashSource(await backend.download(oid, call), call);
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
