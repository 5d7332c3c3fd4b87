import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { errnoCode } from '../errors.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { networkCode, RemoteError, UNREACHABLE_CODES } from './errors.js';
import type { UploadSource } from './types.js';

/**
 * What every backend shares: the errors that mean the same on any store, and the common end of the
 * ladder that turns a client's error into a RemoteError the transfer queue acts on. No backend imports
 * another, so a GCS remote never loads the AWS SDK.
 */

/** How long a first connection may take before the endpoint counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 4_000;

export function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

export function notOnRemote(remote: string, oid: Oid): RemoteError {
  return new RemoteError('REMOTE_OBJECT_MISSING', `object ${shortOid(oid)} is not on remote "${remote}"`, {
    reason: 'not-found',
    hint: 'Push it from a clone that has it (dvs push), then fetch again.',
    data: { oid, remote },
  });
}

export function unreachable(remote: string, endpoint: string, why: string, reason: 'unreachable' | 'connect-timeout', cause: unknown): RemoteError {
  return new RemoteError('REMOTE_UNREACHABLE', `Cannot reach remote "${remote}" at ${endpoint}: ${why}`, {
    reason,
    retriable: reason === 'unreachable',
    fatal: true,
    hint: `Check that the server at ${endpoint} is running and reachable from here (network, VPN, proxy), and the endpoint of the remote (dvs remote list).`,
    data: { remote, endpoint },
    cause,
  });
}

/** The cache object an upload was to send cannot be read. */
export function sourceUnreadable(source: UploadSource, err: unknown): RemoteError {
  if (errnoCode(err) === 'ENOENT') {
    return new RemoteError('OBJECT_MISSING', `object ${shortOid(source.oid)} is not in the cache`, { reason: 'source-corrupt', data: { oid: source.oid } });
  }
  return new RemoteError('CACHE_READ_FAILED', `cannot read cache object ${shortOid(source.oid)}: ${(err as Error).message}`, { reason: 'source-corrupt', cause: err });
}

/** A small cache object's bytes, for a single-request upload. */
export async function readSource(source: UploadSource): Promise<Buffer> {
  try {
    return await readFile(source.path);
  } catch (err) {
    throw sourceUnreadable(source, err);
  }
}

/** Refuse to upload bytes that do not hash to the object's name: a corrupted cache must not spread. */
export function checkSource(source: UploadSource, actual: Oid): void {
  if (actual !== source.oid) {
    throw new RemoteError('SOURCE_CORRUPTED', `the cache object ${shortOid(source.oid)} is corrupted (its bytes hash to ${shortOid(actual)}); not uploaded`, {
      reason: 'source-corrupt',
      hint: 'Run `dvs verify` to quarantine it, then re-track the data or fetch a good copy.',
      data: { oid: source.oid, actual },
    });
  }
}

/** A pack file that is not (or no longer) on the remote: gc repacked it, or it was never complete. */
export function packGone(remote: string, name: string): RemoteError {
  return new RemoteError('REMOTE_OBJECT_MISSING', `pack file ${name.slice(0, 12)}… is not on remote "${remote}"`, {
    reason: 'not-found',
    hint: 'Run the command again: dvs lists the remote\'s packs again and reads the objects from where they are now.',
    data: { pack: name, remote },
  });
}

/** What a backend read off its client's error, for the part of the translation every store shares. */
export interface FailureFacts {
  remote: string;
  endpoint: string;
  /** `remote "origin" (s3://bucket/prefix)`, for messages. */
  where: string;
  /** What was being done: "uploading", "listing objects", … */
  doing: string;
  oid?: Oid;
  /** The store's own words, shown after "failed:". */
  detail: string;
  /** The store said the object is not there. */
  notFound: boolean;
  /** The first connection did not come within CONNECT_TIMEOUT_MS. */
  connectTimeout: boolean;
  /** A timeout, reset or abort on the way (worth retrying). */
  network: boolean;
  throttled: boolean;
  /** A 5xx or another answer that says "try again". */
  serverError: boolean;
  cause: unknown;
}

/**
 * The end of every backend's error ladder, after its own cases (credentials, missing bucket): a missing
 * object, an unreachable endpoint, a network failure, throttling, a server error, else a refusal.
 */
export function translateFailure(f: FailureFacts): RemoteError {
  const at = `${f.doing}${f.oid ? ` ${shortOid(f.oid)}` : ''}`;
  if (f.notFound && f.oid) return notOnRemote(f.remote, f.oid);
  if (f.connectTimeout) return unreachable(f.remote, f.endpoint, `no connection within ${CONNECT_TIMEOUT_MS / 1000} s`, 'connect-timeout', f.cause);
  const net = networkCode(f.cause);
  if (net && UNREACHABLE_CODES.has(net)) return unreachable(f.remote, f.endpoint, net, 'unreachable', f.cause);
  if (net || f.network) return new RemoteError('REMOTE_NETWORK', `${cap(f.where)}: ${f.doing} failed: ${f.detail || net}`, { reason: 'server', retriable: true, cause: f.cause });
  if (f.throttled) return new RemoteError('REMOTE_THROTTLED', `${cap(f.where)} is throttling requests (${f.detail})`, { reason: 'throttled', retriable: true, cause: f.cause });
  if (f.serverError) return new RemoteError('REMOTE_SERVER_ERROR', `${cap(f.where)}: ${at} failed: ${f.detail}`, { reason: 'server', retriable: true, cause: f.cause });
  return new RemoteError('REMOTE_REFUSED', `${cap(f.where)}: ${at} failed: ${f.detail || String(f.cause)}`, { reason: 'refused', cause: f.cause });
}

/**
 * One TCP connection to the endpoint, so that an unreachable server fails in seconds, not minutes: for
 * clients that have no connect timeout of their own (GCS, Azure).
 */
export function probeEndpoint(remote: string, endpoint: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return Promise.reject(new RemoteError('INVALID_CONFIG_VALUE', `remote.${remote}.endpoint is not a URL: ${endpoint}`, { reason: 'refused', fatal: true }));
  }
  const port = Number(url.port || (url.protocol === 'http:' ? 80 : 443));
  return new Promise((ok, fail) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const timer = setTimeout(() => {
      socket.destroy();
      fail(unreachable(remote, endpoint, `no connection within ${CONNECT_TIMEOUT_MS / 1000} s`, 'connect-timeout', undefined));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      ok();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      fail(unreachable(remote, endpoint, errnoCode(err) ?? err.message, 'unreachable', err));
    });
  });
}
