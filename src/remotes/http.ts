import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { errnoCode } from '../errors.js';
import type { Oid } from '../objects/oid.js';
import { cap, CONNECT_TIMEOUT_MS, notOnRemote, packGone, translateFailure } from './common.js';
import { RemoteError } from './errors.js';
import { isPackFileName, MARKER_NAME, objectKey, packFileKey, type ByteRange, type CallOptions, type DownloadSource, type PackFileInfo, type RemoteBackend, type RemoteSpec } from './types.js';

/**
 * A read-only remote on any static web server or CDN: `http(s)://host/path`, laid out as a directory
 * remote lays out its objects (`<path>/ab/cdef…`), so a directory that `dvs push` filled and a web
 * server serves is a published dataset. HEAD says whether an object is there (a ranged GET where HEAD
 * is refused), GET streams it (the queue hashes it as it arrives). A web server cannot list, so there is
 * no `list`: callers check objects one by one. Uploads, deletes and the epoch marker's writes are
 * refused; the marker is read, so clones notice when the publisher collected objects.
 *
 * A packed remote (docs/remote-format.md, "Reading over HTTP(S)") is read where the server lists
 * `packs/`: its directory index page (nginx autoindex, Apache, python -m http.server; or nginx's JSON
 * autoindex) names the packs and indexes, which are then read like any file, packs with Range requests.
 * A server that does not list `packs/` leaves only the loose objects readable: listPackFiles says so
 * (REMOTE_CANNOT_LIST), and the commands that miss objects say why.
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
    return { type: 'stream', stream: this.body(res, 'downloading', oid, 0, undefined), size: contentLength(res) };
  }

  /**
   * An answer's body as the stream a download returns: `skip` bytes dropped, at most `length` passed
   * on, and a connection cut mid-body turned into an error the queue retries.
   */
  private body(res: IncomingMessage, doing: string, oid: Oid | undefined, skip: number, length: number | undefined): Transform {
    let at = 0;
    let done = false;
    const end = length === undefined ? Infinity : skip + length;
    const out = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (done) return cb();
        const from = Math.max(skip - at, 0);
        const to = Math.min(chunk.length, end - at);
        at += chunk.length;
        if (to > from) this.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
        // The range is complete: the rest of a whole file sent for it is not read.
        if (at >= end) {
          done = true;
          this.push(null);
          res.unpipe(out);
          res.destroy();
        }
        cb();
      },
    });
    res.on('error', (err) => done || out.destroy(this.translate(err, doing, oid)));
    res.on('aborted', () => done || out.destroy(this.translate(Object.assign(new Error('the server closed the connection mid-download'), { code: 'ECONNRESET' }), doing, oid)));
    out.on('close', () => res.destroy());
    return res.pipe(out);
  }

  /**
   * A pack file, or bytes of it with a Range request. A server that ignores Range answers 200 with the
   * whole file: the bytes before the range are skipped and the stream ends with the range, so callers
   * get what they asked for either way.
   */
  async readPackFile(name: string, range: ByteRange | undefined, call: CallOptions): Promise<DownloadSource> {
    const doing = `downloading pack file ${name.slice(0, 12)}…`;
    const res = await this.send('GET', this.urlOf(packFileKey('', name)), call, range ? { range: `bytes=${range.start}-${range.end - 1}` } : {}, doing);
    if (res.statusCode === 404 || res.statusCode === 410 || res.statusCode === 416) {
      res.resume();
      throw packGone(this.spec.name, name);
    }
    this.check(res, doing);
    const partial = res.statusCode === 206;
    if (partial && range && !String(res.headers['content-range'] ?? '').startsWith(`bytes ${range.start}-`)) {
      res.destroy();
      throw new RemoteError('REMOTE_REFUSED', `${cap(this.where())}: ${doing} failed: asked for bytes ${range.start}-${range.end - 1}, the server sent ${res.headers['content-range'] ?? 'no Content-Range'}`, { reason: 'refused' });
    }
    const skip = range && !partial ? range.start : 0;
    const length = range ? range.end - range.start : contentLength(res);
    return { type: 'stream', stream: this.body(res, doing, undefined, skip, length), size: length };
  }

  /**
   * `packs/` from the server's directory index: the names of the hrefs that are pack files (other links,
   * such as the parent folder or sort orders, are not). One page: an index page is not paged.
   */
  async *listPackFiles(call: CallOptions): AsyncIterable<PackFileInfo[]> {
    const url = this.urlOf('packs/');
    const res = await this.send('GET', url, call, { accept: 'text/html, application/json;q=0.9, */*;q=0.1' }, 'listing packs');
    const status = res.statusCode ?? 0;
    if (status === 404 || status === 403 || status === 405 || status === 410) {
      res.resume();
      // A server that lists the remote's own folder and has no packs/ in it: a loose remote.
      if (status === 404 && (await this.listsFolders(call))) return yield [];
      throw new RemoteError('REMOTE_CANNOT_LIST', `${cap(this.where())} does not list packs/ (HTTP ${status} for ${url.pathname}): only its loose objects can be read`, {
        reason: 'refused',
        hint: PACKS_UNLISTED_HINT,
        data: { remote: this.spec.name, url: url.href, status },
      });
    }
    this.check(res, 'listing packs');
    const page = await this.readText(res, 'listing packs', MAX_INDEX_PAGE);
    yield parseDirectoryIndex(page, /json/i.test(String(res.headers['content-type'] ?? '')));
  }

  /** Whether the remote's root answers with a directory index page (a link to an object shard in it). */
  private async listsFolders(call: CallOptions): Promise<boolean> {
    const res = await this.send('GET', this.urlOf(''), call, { accept: 'text/html' }, 'listing packs');
    if (res.statusCode !== 200) {
      res.resume();
      return false;
    }
    return /href="(\.\/)?[0-9a-f]{2}\/?"/.test((await this.readText(res, 'listing packs', MAX_INDEX_PAGE)) ?? '');
  }

  async readMarker(call: CallOptions): Promise<string | undefined> {
    const res = await this.send('GET', this.urlOf(MARKER_NAME), call, {}, 'reading the epoch marker');
    if (res.statusCode === 404 || res.statusCode === 410) {
      res.resume();
      return undefined;
    }
    this.check(res, 'reading the epoch marker');
    // A marker is a line; a page in its place (a catch-all index) is not one.
    const text = await this.readText(res, 'reading the epoch marker', 4096);
    return text === undefined ? undefined : text.trim();
  }

  /** A small answer's text; undefined (the rest unread) when it is longer than `max` bytes. */
  private async readText(res: IncomingMessage, doing: string, max: number): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res) {
        chunks.push(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (size > max) {
          res.destroy();
          return undefined;
        }
      }
    } catch (err) {
      throw this.translate(err, doing);
    }
    return Buffer.concat(chunks).toString('utf8');
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

/** What a status or fetch that missed objects of a server not listing packs/ tells the user. */
export const PACKS_UNLISTED_HINT = 'This HTTP server does not list packs/; publish the remote with loose objects (push to it with --format loose) or enable directory listing for packs/ (nginx: autoindex on).';

/** A directory index page bigger than this is not one (100,000 pack names fit in about 15 MB). */
const MAX_INDEX_PAGE = 64 << 20;

/**
 * The pack files a directory index page names: hrefs (relative, `./x`, or absolute paths ending in the
 * name) whose last segment is a pack or index name. nginx's JSON autoindex is read too. Sizes and dates
 * are what the page says where it says them exactly (nginx: bytes and minutes); else 0 and none.
 */
export function parseDirectoryIndex(page: string | undefined, json: boolean): PackFileInfo[] {
  if (page === undefined) return [];
  const found = new Map<string, PackFileInfo>();
  if (json) {
    let entries: unknown;
    try {
      entries = JSON.parse(page);
    } catch {
      return [];
    }
    for (const e of Array.isArray(entries) ? entries : []) {
      const { name, size, mtime } = e as { name?: unknown; size?: unknown; mtime?: unknown };
      if (typeof name !== 'string' || !isPackFileName(name)) continue;
      const when = typeof mtime === 'string' ? new Date(mtime) : undefined;
      found.set(name, { name, size: typeof size === 'number' ? size : 0, modified: when && !Number.isNaN(when.getTime()) ? when : undefined });
    }
    return [...found.values()];
  }
  const href = /href\s*=\s*["']([^"'#?]+)[^"']*["'][^>]*>[^<]*<\/a>([^<\n]*)/gi;
  for (let m; (m = href.exec(page)); ) {
    let name: string;
    try {
      name = decodeURIComponent(m[1].slice(m[1].lastIndexOf('/') + 1));
    } catch {
      continue;
    }
    if (!isPackFileName(name) || found.has(name)) continue;
    // nginx: `<a href="x">x</a>   02-Dec-2026 14:08   12345`
    const after = /^\s*(\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2})\s+(\d+)\s*$/.exec(m[2]);
    const when = after ? new Date(`${after[1].replace(/-/g, ' ')} UTC`) : undefined;
    found.set(name, { name, size: after ? Number(after[2]) : 0, modified: when && !Number.isNaN(when.getTime()) ? when : undefined });
  }
  return [...found.values()];
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
