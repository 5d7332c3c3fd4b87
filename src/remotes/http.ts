import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { errnoCode } from '../errors.js';
import type { Oid } from '../objects/oid.js';
import { cap, CONNECT_TIMEOUT_MS, notOnRemote, translateFailure } from './common.js';
import { RemoteError } from './errors.js';
import { MARKER_NAME, objectKey, type CallOptions, type DownloadSource, type RemoteBackend, type RemoteSpec } from './types.js';

/**
 * A read-only remote on any static web server or CDN: `http(s)://host/path`, laid out as a directory
 * remote lays out its objects (`<path>/ab/cdef…`), so a directory that `dvs push` filled and a web
 * server serves is a published dataset. HEAD says whether an object is there (a ranged GET where HEAD
 * is refused), GET streams it (the queue hashes it as it arrives). A web server cannot list, so there is
 * no `list`: callers check objects one by one. Uploads, deletes and the epoch marker's writes are
 * refused; the marker is read, so clones notice when the publisher collected objects.
 */
const MAX_REDIRECTS = 5;

type Auth = { kind: 'none' } | { kind: 'basic'; header: string; origin: string } | { kind: 'bearer'; header: string; origin: string };

export class HttpBackend implements RemoteBackend {
  readonly scheme = 'http' as const;
  readonly display: string;
  readonly defaultJobs = 16;
  readonly statBatchSize = 1;
  readonly listPageSize = 1000;
  readonly network = true;
  readonly readOnly = true;
  private readonly base: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  private headRefused = false;

  private constructor(
    private readonly spec: RemoteSpec,
    private readonly auth: Auth,
    ca: string | undefined,
  ) {
    if (spec.location.scheme !== 'http') throw new Error('HttpBackend needs an http location');
    this.base = new URL(spec.location.url);
    this.display = spec.location.url;
    // Keep-alive with as many sockets as the queue runs requests, so that 10,000 small objects do not
    // cost 10,000 connections.
    const sockets = Math.max(spec.options.jobs ?? 0, 64);
    this.agent = this.base.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: sockets, ...(ca ? { ca: [...rootCertificates, ca] } : {}) })
      : new HttpAgent({ keepAlive: true, maxSockets: sockets });
  }

  static async open(spec: RemoteSpec): Promise<HttpBackend> {
    if (spec.location.scheme !== 'http') throw new Error('HttpBackend needs an http location');
    const auth = resolveAuth(spec);
    let ca: string | undefined;
    if (spec.options.ca_file !== undefined) {
      const path = isAbsolute(spec.options.ca_file) ? spec.options.ca_file : resolve(spec.root, spec.options.ca_file);
      try {
        ca = readFileSync(path, 'utf8');
      } catch (err) {
        throw new RemoteError('REMOTE_CONFIG', `Remote "${spec.name}": cannot read the CA file ${path} (remote.${spec.name}.ca_file): ${errnoCode(err) ?? (err as Error).message}`, {
          reason: 'refused',
          fatal: true,
          hint: `Point ca_file at a PEM certificate: dvs remote modify --local ${spec.name} ca_file <path>`,
          cause: err,
        });
      }
    }
    return new HttpBackend(spec, auth, ca);
  }

  private urlOf(key: string): URL {
    return new URL(`${this.base.pathname.replace(/\/+$/, '')}/${key}`, this.base);
  }

  async stat(oids: readonly Oid[], call: CallOptions): Promise<Array<number | undefined>> {
    return Promise.all(oids.map((oid) => this.statOne(oid, call)));
  }

  private async statOne(oid: Oid, call: CallOptions): Promise<number | undefined> {
    const url = this.urlOf(objectKey('', oid));
    if (!this.headRefused) {
      const res = await this.send('HEAD', url, call, {}, 'checking', oid);
      res.resume();
      if (res.statusCode === 404 || res.statusCode === 410) return undefined;
      if (res.statusCode === 405 || res.statusCode === 501) this.headRefused = true;
      else {
        this.check(res, 'checking', oid);
        const length = contentLength(res);
        if (length !== undefined) return length;
      }
    }
    // No HEAD, or no length in its answer: ask for the first byte, whose answer names the total.
    const res = await this.send('GET', url, call, { range: 'bytes=0-0' }, 'checking', oid);
    res.destroy();
    if (res.statusCode === 404 || res.statusCode === 410) return undefined;
    this.check(res, 'checking', oid);
    const total = /\/(\d+)\s*$/.exec(String(res.headers['content-range'] ?? ''));
    if (res.statusCode === 206 && total) return Number(total[1]);
    const length = contentLength(res);
    if (res.statusCode === 200 && length !== undefined) return length;
    throw new RemoteError('REMOTE_REFUSED', `${cap(this.where())}: checking ${oid.slice(0, 10)} failed: the server names no size (HTTP ${res.statusCode}, no Content-Length)`, { reason: 'refused' });
  }

  async download(oid: Oid, call: CallOptions): Promise<DownloadSource> {
    const res = await this.send('GET', this.urlOf(objectKey('', oid)), call, {}, 'downloading', oid);
    if (res.statusCode === 404 || res.statusCode === 410) {
      res.resume();
      throw notOnRemote(this.spec.name, oid);
    }
    this.check(res, 'downloading', oid);
    if (res.headers['content-encoding'] && res.headers['content-encoding'] !== 'identity') {
      res.destroy();
      throw new RemoteError('REMOTE_REFUSED', `${cap(this.where())}: downloading ${oid.slice(0, 10)} failed: the server sent it ${res.headers['content-encoding']}-encoded, which dvs did not ask for`, {
        reason: 'refused',
        hint: 'Serve the objects as they are (no compression for this path on the server).',
      });
    }
    // A connection cut mid-body shows up as an error of the response: translate it so the queue retries.
    const out = new Transform({
      transform(chunk, _enc, cb) {
        cb(null, chunk);
      },
    });
    res.on('error', (err) => out.destroy(this.translate(err, 'downloading', oid)));
    res.on('aborted', () => out.destroy(this.translate(Object.assign(new Error('the server closed the connection mid-download'), { code: 'ECONNRESET' }), 'downloading', oid)));
    out.on('close', () => res.destroy());
    return { type: 'stream', stream: res.pipe(out), size: contentLength(res) };
  }

  async readMarker(call: CallOptions): Promise<string | undefined> {
    const res = await this.send('GET', this.urlOf(MARKER_NAME), call, {}, 'reading the epoch marker');
    if (res.statusCode === 404 || res.statusCode === 410) {
      res.resume();
      return undefined;
    }
    this.check(res, 'reading the epoch marker');
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        // A marker is a line; a page in its place (a catch-all index) is not one.
        if (size > 4096) {
          res.destroy();
          return undefined;
        }
      }
    } catch (err) {
      throw this.translate(err, 'reading the epoch marker');
    }
    return Buffer.concat(chunks).toString('utf8').trim();
  }

  async upload(): Promise<void> {
    throw readOnly(this.spec.name, this.display, 'upload to');
  }

  async delete(): Promise<void> {
    throw readOnly(this.spec.name, this.display, 'delete from');
  }

  async writeMarker(): Promise<void> {
    throw readOnly(this.spec.name, this.display, 'write to');
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private where(): string {
    return `remote "${this.spec.name}" (${this.display})`;
  }

  /** One request, redirects followed (never from https to http); the answer with its body unread. */
  private async send(method: 'GET' | 'HEAD', url: URL, call: CallOptions, extra: OutgoingHttpHeaders, doing: string, oid?: Oid): Promise<IncomingMessage> {
    let target = url;
    for (let hop = 0; ; hop++) {
      let res: IncomingMessage;
      try {
        res = await this.once(method, target, call, extra);
      } catch (err) {
        throw this.translate(err, doing, oid);
      }
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (![301, 302, 303, 307, 308].includes(status) || !location) return res;
      res.resume();
      const next = new URL(location, target);
      if (hop >= MAX_REDIRECTS || (target.protocol === 'https:' && next.protocol !== 'https:') || !/^https?:$/.test(next.protocol)) {
        throw new RemoteError('REMOTE_REFUSED', `${cap(this.where())}: ${doing} failed: redirected ${hop >= MAX_REDIRECTS ? 'too many times' : `from ${target.protocol} to ${next.protocol}`} (to ${next.origin})`, {
          reason: 'refused',
          fatal: true,
          hint: 'Use the URL the server redirects to (dvs remote add --force <name> <url>), over https.',
        });
      }
      target = next;
    }
  }

  private once(method: string, url: URL, call: CallOptions, extra: OutgoingHttpHeaders): Promise<IncomingMessage> {
    const headers: OutgoingHttpHeaders = { 'accept-encoding': 'identity', 'user-agent': 'dvs', ...extra };
    // Credentials go to the remote's own origin only, never to where it redirects.
    if (this.auth.kind !== 'none' && url.origin === this.auth.origin) headers.authorization = this.auth.header;
    const sameProtocol = url.protocol === this.base.protocol;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((ok, fail) => {
      const req = request(url, { method, headers, signal: call.signal, ...(sameProtocol ? { agent: this.agent } : {}) }, ok);
      req.on('error', fail);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`), { connectTimeout: true })), CONNECT_TIMEOUT_MS);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.end();
    });
  }

  /** Throw for any answer but success (404s are the caller's). */
  private check(res: IncomingMessage, doing: string, oid?: Oid): void {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return;
    res.resume();
    const detail = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
    if (status === 401 || status === 403) {
      const given = this.auth.kind === 'none' ? 'no credentials were sent' : `${this.auth.kind} credentials were sent`;
      throw new RemoteError('REMOTE_AUTH', `${cap(this.where())} refused access while ${doing}: ${detail} (${given})`, {
        reason: 'auth',
        fatal: true,
        hint: this.auth.kind === 'none'
          ? `Give this clone credentials: dvs remote modify --local ${this.spec.name} user <name>, then password <secret> (basic); or token <secret> (bearer). Or set DVS_HTTP_USER/DVS_HTTP_PASSWORD or DVS_HTTP_TOKEN with remote.${this.spec.name}.auth.`
          : `Check the ${this.auth.kind === 'basic' ? 'user and password' : 'token'} (dvs remote list shows where they are set; change them with dvs remote modify --local ${this.spec.name} ${this.auth.kind === 'basic' ? 'password' : 'token'} <secret>).`,
        data: { remote: this.spec.name, url: this.display, status },
      });
    }
    throw translateFailure({
      remote: this.spec.name,
      endpoint: this.base.origin,
      where: this.where(),
      doing,
      oid,
      detail,
      notFound: false,
      connectTimeout: false,
      network: false,
      throttled: status === 429,
      serverError: status >= 500 || status === 408,
      cause: undefined,
    });
  }

  private translate(err: unknown, doing: string, oid?: Oid): RemoteError {
    if (err instanceof RemoteError) return err;
    const e = err as { message?: string; name?: string; connectTimeout?: boolean };
    const message = e.message ?? String(err);
    if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(`${message} ${(err as { code?: string }).code ?? ''}`)) {
      return new RemoteError('REMOTE_REFUSED', `${cap(this.where())}: ${doing} failed: the server's certificate is not trusted (${message})`, {
        reason: 'refused',
        fatal: true,
        hint: `If the server uses a private CA, name its certificate: dvs remote modify --local ${this.spec.name} ca_file <ca.pem>`,
        cause: err,
      });
    }
    return translateFailure({
      remote: this.spec.name,
      endpoint: this.base.origin,
      where: this.where(),
      doing,
      oid,
      detail: message,
      notFound: false,
      connectTimeout: e.connectTimeout === true,
      network: e.name === 'AbortError' || /timeout|socket hang up|aborted|closed/i.test(message),
      throttled: false,
      serverError: false,
      cause: err,
    });
  }
}

function contentLength(res: IncomingMessage): number | undefined {
  const v = res.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export function readOnly(remote: string, display: string, what: string): RemoteError {
  return new RemoteError('REMOTE_READ_ONLY', `Remote "${remote}" (${display}) is read-only: dvs cannot ${what} an HTTP(S) remote`, {
    reason: 'refused',
    fatal: true,
    hint: 'Push to the directory (or bucket) the web server publishes, with a remote of that kind: dvs push -r <that remote>.',
    data: { remote },
  });
}

/**
 * Credentials: `auth` basic or bearer (inferred from which secret is set when absent), the secrets from
 * config.local or the user config (never the committed config: it could send them anywhere), else from
 * DVS_HTTP_USER / DVS_HTTP_PASSWORD / DVS_HTTP_TOKEN.
 */
function resolveAuth(spec: RemoteSpec): Auth {
  const o = spec.options;
  for (const key of ['user', 'password', 'token'] as const) {
    // Only this machine's files may hold them (ops/remote/open.ts refuses the committed config first,
    // with a usage error; this guards every other way a spec is built).
    if (o[key] !== undefined && spec.sources[key] !== '.dvs/config.local' && spec.sources[key] !== 'user config') {
      throw new RemoteError('SECRET_IN_SHARED_CONFIG', `remote.${spec.name}.${key} is set in ${spec.sources[key] ?? 'a file this machine does not own'}; dvs does not use secrets a repository supplies`, {
        reason: 'auth',
        fatal: true,
        hint: `Remove it from .dvs/config and set it for this clone only: dvs remote modify --local ${spec.name} ${key} <value>`,
        data: { key: `remote.${spec.name}.${key}` },
      });
    }
  }
  const env = process.env;
  const user = o.user ?? env.DVS_HTTP_USER;
  const password = o.password ?? env.DVS_HTTP_PASSWORD;
  const token = o.token ?? env.DVS_HTTP_TOKEN;
  const kind = o.auth ?? (o.token !== undefined ? 'bearer' : o.user !== undefined ? 'basic' : 'none');
  if (kind !== 'basic' && kind !== 'bearer' && kind !== 'none') {
    throw new RemoteError('REMOTE_CONFIG', `remote.${spec.name}.auth is "${kind}"; it must be basic, bearer or none`, {
      reason: 'refused',
      fatal: true,
      hint: `dvs remote modify --local ${spec.name} auth basic   (or bearer, or none)`,
    });
  }
  if (spec.location.scheme !== 'http') throw new Error('HttpBackend needs an http location');
  const origin = new URL(spec.location.url).origin;
  const missing = (what: string) =>
    new RemoteError('REMOTE_NO_CREDENTIALS', `Remote "${spec.name}" uses ${kind} authentication but no ${what} is set`, {
      reason: 'auth',
      fatal: true,
      hint: `Set it for this clone only: dvs remote modify --local ${spec.name} ${what === 'user' ? 'user <name>' : what === 'password' ? 'password <secret>' : 'token <secret>'} (or DVS_HTTP_${what.toUpperCase()}).`,
      data: { remote: spec.name },
    });
  if (kind === 'basic') {
    if (user === undefined) throw missing('user');
    if (password === undefined) throw missing('password');
    return { kind, origin, header: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  }
  if (kind === 'bearer') {
    if (token === undefined) throw missing('token');
    return { kind, origin, header: `Bearer ${token}` };
  }
  return { kind: 'none' };
}
