import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DvsError } from '../errors.js';
import type { RemoteLocation } from './types.js';

const URL_HINT = 'Use a directory path, file:///path, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix, ssh://[user@]host[:port]/path or http(s)://host/path (read-only).';

/**
 * Remote URLs: `s3://bucket/prefix`, `gs://bucket/prefix`, `azure://container/prefix`,
 * `ssh://[user@]host[:port]/path`, `http(s)://host/path` (read-only), `file:///abs/path` or a plain
 * path. A relative path is relative to the repository root (`root`), so a committed `../store` means the
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
  if (scheme === 'azure') return parseAzureUrl(url, rest, where);
  if (scheme === 'ssh' || scheme === 'sftp') return parseSshUrl(url, where);
  if (scheme === 'http' || scheme === 'https') return { scheme: 'http', url: parseHttpUrl(url, where) };
  throw new DvsError('UNSUPPORTED_REMOTE_URL', `${where}: unsupported remote URL scheme "${scheme}://" in ${url}`, {
    hint: URL_HINT,
    data: { url },
  });
}

/** `ssh://[user@]host[:port]/path`: the path is absolute on the server. No password in a URL (it gets committed). */
function parseSshUrl(url: string, where: string): RemoteLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(url, where, 'expected ssh://[user@]host[:port]/path');
  }
  if (u.password) throw invalid(url, where, 'a password does not belong in the URL (it would be committed); set it with dvs remote modify --local <name> password <password>, or use a key');
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw invalid(url, where, 'no host');
  let path: string;
  let written: string;
  try {
    path = decodeURIComponent(u.pathname).replace(/\/{2,}/g, '/').replace(/(.)\/+$/, '$1');
    // URL() resolves "." and ".." itself: judge the path as written.
    written = decodeURIComponent(url.replace(/^[^:]+:\/\/[^/]*/, '').replace(/[?#].*$/, ''));
  } catch {
    throw invalid(url, where, 'the path is not valid percent-encoding');
  }
  if (written.split('/').some((p) => p === '.' || p === '..')) throw invalid(url, where, 'the path may not contain "." or ".." parts');
  if (path === '' || path === '/') throw invalid(url, where, 'name a directory on the server: ssh://host/srv/dvs');
  return { scheme: 'ssh', host, port: u.port ? Number(u.port) : undefined, user: u.username ? decodeURIComponent(u.username) : undefined, path };
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

/** `azure://container/prefix`; the storage account comes from the remote's options or the environment. */
function parseAzureUrl(url: string, rest: string, where: string): RemoteLocation {
  const slash = rest.indexOf('/');
  const container = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/');
  if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(container)) {
    throw invalid(url, where, `"${container}" is not a valid container name (3-63 lowercase letters, digits and single hyphens)`);
  }
  if (prefix.split('/').some((p) => p === '.' || p === '..')) throw invalid(url, where, 'the prefix may not contain "." or ".." parts');
  return { scheme: 'azure', container, prefix };
}

function invalid(url: string, where: string, why: string): DvsError {
  return new DvsError('INVALID_REMOTE_URL', `${where}: invalid remote URL "${url}": ${why}`, {
    hint: URL_HINT,
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
    case 'azure':
      return `azure://${location.container}/${location.prefix}${endpoint ? ` @ ${endpoint}` : ''}`;
    case 'ssh':
      return `ssh://${location.user ? `${location.user}@` : ''}${location.host.includes(':') ? `[${location.host}]` : location.host}${location.port ? `:${location.port}` : ''}${location.path}`;
    case 'http':
      return location.url;
  }
}
