import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DvsError } from '../errors.js';
import type { RemoteLocation } from './types.js';

/**
 * Remote URLs: `s3://bucket/prefix`, `gs://bucket/prefix`, `http(s)://host/path` (read-only),
 * `file:///abs/path` or a plain path. A
 * relative path is relative to the repository root (`root`), so a committed `../store` means the
 * same place on every clone.
 */
export function parseRemoteUrl(url: string, root: string, where = 'remote url'): RemoteLocation {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(url);
  if (!m) {
    if (url.trim() === '') throw invalid(url, where, 'empty');
    return { scheme: 'local', path: isAbsolute(url) ? resolve(url) : resolve(root, url) };
  }
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  if (scheme === 'file') {
    try {
      return { scheme: 'local', path: fileURLToPath(url) };
    } catch (err) {
      throw invalid(url, where, (err as Error).message);
    }
  }
  if (scheme === 's3' || scheme === 'gs') {
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/');
    if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket)) {
      throw invalid(url, where, `"${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)`);
    }
    if (prefix.split('/').some((p) => p === '.' || p === '..')) throw invalid(url, where, 'the prefix may not contain "." or ".." parts');
    return scheme === 's3' ? { scheme: 's3', bucket, prefix } : { scheme: 'gcs', bucket, prefix };
  }
  if (scheme === 'http' || scheme === 'https') return { scheme: 'http', url: parseHttpUrl(url, where) };
  throw new DvsError('UNSUPPORTED_REMOTE_URL', `${where}: unsupported remote URL scheme "${scheme}://" in ${url}`, {
    hint: 'Use a directory path, file:///path, s3://bucket/prefix, gs://bucket/prefix or http(s)://host/path (read-only).',
    data: { url },
  });
}

/** The base URL of an HTTP(S) remote: origin and path, without a trailing slash. */
function parseHttpUrl(url: string, where: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw invalid(url, where, (err as Error).message);
  }
  if (!u.hostname) throw invalid(url, where, 'no host');
  if (u.username || u.password) {
    throw new DvsError('INVALID_REMOTE_URL', `${where}: the remote URL "${u.protocol}//…@${u.host}${u.pathname}" carries credentials, which would be stored and shown with it`, {
      hint: 'Give the URL without them, and the credentials to this clone only: dvs remote modify --local <name> user <name>, then password <secret> (or auth bearer and token <secret>).',
      data: { url: `${u.protocol}//${u.host}${u.pathname}` },
    });
  }
  if (u.search || u.hash) throw invalid(url, where, 'an HTTP(S) remote URL takes no query (?…) or fragment (#…)');
  // The URL parser has resolved `.` and `..` segments already.
  const path = u.pathname.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${path}`;
}

function invalid(url: string, where: string, why: string): DvsError {
  return new DvsError('INVALID_REMOTE_URL', `${where}: invalid remote URL "${url}": ${why}`, {
    hint: 'Use a directory path, file:///path, s3://bucket/prefix, gs://bucket/prefix or http(s)://host/path (read-only).',
    data: { url },
  });
}

/** A URL as shown to people and used to key the local record of what a remote holds. */
export function canonicalUrl(location: RemoteLocation, endpoint?: string): string {
  switch (location.scheme) {
    case 'local':
      return `file://${location.path}`;
    case 's3':
      return `s3://${location.bucket}/${location.prefix}${endpoint ? ` @ ${endpoint}` : ''}`;
    case 'gcs':
      return `gs://${location.bucket}/${location.prefix}${endpoint ? ` @ ${endpoint}` : ''}`;
    case 'http':
      return location.url;
  }
}
