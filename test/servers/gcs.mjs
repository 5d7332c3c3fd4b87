// A small Google Cloud Storage server speaking the JSON API, for tests and the benchmark: strict
// enough that the real @google-cloud/storage v7 client runs end to end against it (uploads, hash
// validation, ranges, listing, errors). node:http only, no dependencies; binds to 127.0.0.1.
//
//   import { startGcsServer, makeGcsClient } from './gcs.mjs';
//   const server = await startGcsServer();            // in memory; { dir } keeps objects on disk
//   const storage = await makeGcsClient(server);        // Storage with the options below
//   ...; await server.stop();
//
// Standalone, for fault tests that kill -9 it mid-upload and restart it on the same port and dir:
//   node test/servers/gcs.mjs --port N --dir D [--parent PID]   (prints the URL on stdout; with
//   --parent it exits once that process is gone)
//   or startGcsProcess({ port, dir }) -> { url, port, pid, kill(signal='SIGKILL'), stop() }.
// In dir mode completed objects survive a restart, and so do resumable sessions (the bytes of
// every completed chunk PUT; a chunk cut off mid-request is dropped, so a client asking for the
// upload status after a restart gets 308 with the Range it can resume from).
//
// Client options (read from @google-cloud/storage 7.22 source): new Storage({ apiEndpoint:
// 'http://127.0.0.1:PORT', projectId: 'test-project' }). A custom apiEndpoint makes the client skip
// google-auth-library for JSON requests (nodejs-common/util.js: customEndpoint &&
// !useAuthWithCustomEndpoint), and resumable uploads use plain gaxios when the host is not a
// googleapis.com domain (resumable-upload.js); projectId stops it asking the auth library (and so
// the metadata server) for one. No Authorization header is sent and no request leaves loopback
// (servers.test.ts checks this). useAuthWithCustomEndpoint must stay unset/false. Setting
// METADATA_SERVER_DETECTION=none in tests is belt and braces: nothing here calls it.
//
// What the client does and throws (measured with 7.22 against this server, see servers.test.ts):
// - file.save(data) is a RESUMABLE upload by default (POST ...uploadType=resumable, then PUT);
//   pass { resumable: false } for one multipart/related request. chunkSize (a multiple of 256 KiB)
//   makes it send chunks: 308 + `Range: bytes=0-N` until the last one (`bytes A-B/TOTAL`, with
//   X-Goog-Hash: crc32c=…,md5=… of the whole object, which this server checks: 400 on mismatch).
// - Upload validation: the client compares its crc32c (default; md5 with validation: 'md5') with
//   the object resource's crc32c/md5Hash; on mismatch it throws code 'FILE_NO_UPLOAD'.
// - Download validation needs `x-goog-stored-content-encoding: identity` and `x-goog-hash` (sent);
//   a mismatch throws RequestError code 'CONTENT_DOWNLOAD_MISMATCH'. Range reads (start/end) are
//   never validated by the client.
// - JSON API errors reject with ApiError: err.code = HTTP status (number), err.message = our
//   message, err.errors = [{ reason: 'notFound' | 'conflict' | 'conditionNotMet' | … }].
//   404 getMetadata/delete: code 404, reason 'notFound'. file.exists() -> false. createBucket on
//   an existing bucket: 409 'conflict'. save with { preconditionOpts: { ifGenerationMatch: 0 } } on
//   an existing object: code 412, reason 'conditionNotMet' (multipart; for a resumable upload the
//   412 comes from the session start and is a GaxiosError: err.status = 412, err.code undefined,
//   so check `err.code ?? err.status`). A 404 download (createReadStream/download) rejects with
//   code 404 and err.message = the raw JSON body text (the client overwrites it).
// - Retries: the client retries 408/429/5xx and connection errors with backoff (maxRetries 3,
//   totalTimeout 600 s; ~1-3 s per retry; retryOptions.maxRetryDelay is in seconds and must be
//   >= 1, or save() throws 'minTimeout is greater than maxTimeout');
//   server.failNext(n, status) injects such failures. CAUTION, an SDK bug (7.22): under the default
//   idempotencyStrategy (RetryConditional) a save() without preconditionOpts.ifGenerationMatch is
//   not retried, and with resumable: false it also leaves storage.retryOptions.autoRetry = false on
//   the whole Storage instance, so nothing it does afterwards is retried. Content-addressed objects
//   are idempotent: use retryOptions.idempotencyStrategy = IdempotencyStrategy.RetryAlways, or
//   save with ifGenerationMatch: 0 (create-if-absent; a 412 then means "already there").
//
// Routes (object names are URL-encoded in the path, '/' as %2F):
//   POST   /storage/v1/b?project=P                     create bucket (409 if it exists)
//   GET    /storage/v1/b?project=P                     list buckets
//   GET    /storage/v1/b/B                             bucket resource or 404
//   DELETE /storage/v1/b/B                             204; 409 if not empty
//   GET    /storage/v1/b/B/o?prefix&delimiter&maxResults&pageToken&startOffset&endOffset
//                                                     &includeTrailingDelimiter   list
//   GET    /storage/v1/b/B/o/N                         object resource; ?alt=media: bytes (+Range)
//   GET    /download/storage/v1/b/B/o/N?alt=media      bytes (the resource's mediaLink)
//   DELETE /storage/v1/b/B/o/N                         204 or 404
//   POST   /upload/storage/v1/b/B/o?uploadType=multipart|media|resumable&name=N
//   PUT    /upload/storage/v1/b/B/o?uploadType=resumable&upload_id=ID   resumable data / status
// Preconditions ifGenerationMatch / ifGenerationNotMatch / ifMetagenerationMatch /
// ifMetagenerationNotMatch apply to every object route (412 conditionNotMet). Anything else under
// /storage, /upload or /download answers 501 notImplemented, so a missing feature is obvious.

import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, promises as fsp } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8 tables.

const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Continue a CRC32C over `buf`; start with crc = 0. Returns an unsigned 32-bit number. */
export function crc32c(buf, crc = 0) {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  const n = buf.length;
  for (; i + 8 <= n; i += 8) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c =
      t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^ t[768 + buf[i + 4]] ^ t[512 + buf[i + 5]] ^ t[256 + buf[i + 6]] ^
      t[buf[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** GCS's encoding of a CRC32C: the 4 bytes big-endian, base64. */
export function crc32cBase64(crc) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

class Hasher {
  constructor() {
    this.md5 = createHash('md5');
    this.crc = 0;
    this.size = 0;
  }
  update(buf) {
    this.md5.update(buf);
    this.crc = crc32c(buf, this.crc);
    this.size += buf.length;
  }
  digest() {
    return { md5Hash: this.md5.digest('base64'), crc32c: crc32cBase64(this.crc), size: this.size };
  }
}

// ---------------------------------------------------------------------------------------------
// Errors in the JSON API's shape.

class GcsError extends Error {
  constructor(code, reason, message) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}
const notFound = (message) => new GcsError(404, 'notFound', message);
const badRequest = (message, reason = 'invalid') => new GcsError(400, reason, message);

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    // teeny-request parses JSON only for exactly this type (or without charset).
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendError(res, err) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, {
    error: {
      code: err.code,
      message: err.message,
      errors: [{ message: err.message, domain: 'global', reason: err.reason }],
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Storage: an in-memory index of buckets and objects; bytes in memory or in files under `dir`.
//
// dir layout: buckets/<bucket>/bucket.json, buckets/<bucket>/objects/<sha256(name)>.json (the
// object's metadata, written last by rename) and <sha256(name)>.<generation>.data;
// sessions/<id>.json (+ <id>.part, the bytes of the completed chunks).

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

class Store {
  constructor(dir) {
    this.dir = dir ? resolve(dir) : null;
    /** @type {Map<string, {meta: object, objects: Map<string, object>, sorted: string[] | null}>} */
    this.buckets = new Map();
    /** @type {Map<string, object>} resumable sessions */
    this.sessions = new Map();
    /** @type {Map<string, Promise<object>>} the write in progress per bucket/name */
    this.writing = new Map();
    this.lastGeneration = 0;
  }

  nextGeneration() {
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000);
    return this.lastGeneration;
  }

  async load() {
    if (!this.dir) return;
    await fsp.mkdir(join(this.dir, 'buckets'), { recursive: true });
    await fsp.mkdir(join(this.dir, 'sessions'), { recursive: true });
    for (const name of await fsp.readdir(join(this.dir, 'buckets'))) {
      const bdir = join(this.dir, 'buckets', name);
      let meta;
      try {
        meta = JSON.parse(await fsp.readFile(join(bdir, 'bucket.json'), 'utf8'));
      } catch {
        continue; // a bucket whose creation was cut off
      }
      const bucket = { meta, objects: new Map(), sorted: null };
      this.buckets.set(name, bucket);
      const odir = join(bdir, 'objects');
      const files = await fsp.readdir(odir).catch(() => []);
      const live = new Set();
      for (const f of files) {
        if (!f.endsWith('.json')) continue;
        try {
          const o = JSON.parse(await fsp.readFile(join(odir, f), 'utf8'));
          bucket.objects.set(o.name, o);
          live.add(o.dataFile);
          this.lastGeneration = Math.max(this.lastGeneration, Number(o.generation));
        } catch {
          /* a metadata file cut off mid-write: the object was never acknowledged */
        }
      }
      // Data files no metadata points at: uploads cut off before their metadata was written.
      for (const f of files) {
        if (!f.endsWith('.json') && !live.has(join(odir, f))) await fsp.rm(join(odir, f), { force: true });
      }
    }
    for (const f of await fsp.readdir(join(this.dir, 'sessions'))) {
      if (!f.endsWith('.json')) continue;
      try {
        const s = JSON.parse(await fsp.readFile(join(this.dir, 'sessions', f), 'utf8'));
        // Bytes past `received` belong to a chunk PUT that never completed.
        await fsp.truncate(s.partFile, s.received).catch(() => {});
        this.sessions.set(s.id, s);
      } catch {
        /* ignore */
      }
    }
  }

  bucket(name) {
    const b = this.buckets.get(name);
    if (!b) throw notFound(`The specified bucket does not exist.`);
    return b;
  }

  async createBucket(name, body) {
    if (typeof name !== 'string' || !BUCKET_NAME.test(name)) {
      throw badRequest(`Invalid bucket name: '${name}'`);
    }
    if (this.buckets.has(name)) {
      throw new GcsError(
        409,
        'conflict',
        'Your previous request to create the named bucket succeeded and you already own it.',
      );
    }
    const now = new Date().toISOString();
    const meta = {
      kind: 'storage#bucket',
      id: name,
      name,
      projectNumber: '0',
      metageneration: '1',
      location: (body.location || 'US').toUpperCase(),
      storageClass: body.storageClass || 'STANDARD',
      timeCreated: now,
      updated: now,
      etag: 'CAE=',
    };
    if (this.dir) {
      const bdir = join(this.dir, 'buckets', name);
      await fsp.mkdir(join(bdir, 'objects'), { recursive: true });
      await writeAtomic(join(bdir, 'bucket.json'), JSON.stringify(meta));
    }
    this.buckets.set(name, { meta, objects: new Map(), sorted: null });
    return meta;
  }

  async deleteBucket(name) {
    const b = this.bucket(name);
    if (b.objects.size > 0) throw new GcsError(409, 'conflict', 'The bucket you tried to delete is not empty.');
    this.buckets.delete(name);
    if (this.dir) await fsp.rm(join(this.dir, 'buckets', name), { recursive: true, force: true });
  }

  /** The object or a 404. */
  object(bucketName, name) {
    const o = this.bucket(bucketName).objects.get(name);
    if (!o) throw notFound(`No such object: ${bucketName}/${name}`);
    return o;
  }

  /**
   * Store a complete object. `data` is a Buffer (memory mode) or the path of a file that is moved
   * into place (dir mode; a Buffer is written out). `meta` carries contentType and the rest of
   * the client's metadata; `hashes` the digest of the bytes; `check` re-tests preconditions just
   * before the commit (the object may have changed since the upload began).
   */
  async putObject(bucketName, name, options) {
    // One write per name at a time: in dir mode the commit awaits file writes, and two uploads with
    // ifGenerationMatch=0 racing for one name must not both pass the check before either commits.
    const key = `${bucketName}/${name}`;
    const before = this.writing.get(key) ?? Promise.resolve();
    const mine = before.catch(() => {}).then(() => this.putObjectNow(bucketName, name, options));
    this.writing.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.writing.get(key) === mine) this.writing.delete(key);
    }
  }

  async putObjectNow(bucketName, name, { data, meta, hashes, check }) {
    const bucket = this.bucket(bucketName);
    check?.(bucket.objects.get(name));
    if (meta.md5Hash && meta.md5Hash !== hashes.md5Hash) {
      throw badRequest(`Provided MD5 hash "${meta.md5Hash}" doesn't match calculated MD5 hash "${hashes.md5Hash}".`);
    }
    if (meta.crc32c && meta.crc32c !== hashes.crc32c) {
      throw badRequest(`Provided CRC32C "${meta.crc32c}" doesn't match calculated CRC32C "${hashes.crc32c}".`);
    }
    const generation = this.nextGeneration();
    const now = new Date().toISOString();
    const o = {
      name,
      bucket: bucketName,
      generation: String(generation),
      metageneration: '1',
      contentType: meta.contentType || 'application/octet-stream',
      storageClass: 'STANDARD',
      size: String(hashes.size),
      md5Hash: hashes.md5Hash,
      crc32c: hashes.crc32c,
      etag: createHash('md5').update(`${name}/${generation}`).digest('base64').slice(0, 12),
      timeCreated: now,
      updated: now,
      timeStorageClassUpdated: now,
    };
    for (const k of ['contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl']) {
      if (typeof meta[k] === 'string') o[k] = meta[k];
    }
    if (meta.metadata && typeof meta.metadata === 'object') {
      o.metadata = Object.fromEntries(
        Object.entries(meta.metadata).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)]),
      );
    }
    const old = bucket.objects.get(name);
    if (this.dir) {
      const base = join(this.dir, 'buckets', bucketName, 'objects', sha256(name));
      o.dataFile = `${base}.${generation}.data`;
      if (Buffer.isBuffer(data)) await writeAtomic(o.dataFile, data);
      else await fsp.rename(data, o.dataFile);
      await writeAtomic(`${base}.json`, JSON.stringify(o));
      if (old?.dataFile) await fsp.rm(old.dataFile, { force: true });
    } else {
      o.data = data;
    }
    if (!old) bucket.sorted = null;
    bucket.objects.set(name, o);
    return o;
  }

  async deleteObject(bucketName, name) {
    const bucket = this.bucket(bucketName);
    const o = bucket.objects.get(name);
    if (!o) throw notFound(`No such object: ${bucketName}/${name}`);
    bucket.objects.delete(name);
    bucket.sorted = null;
    if (this.dir) {
      await fsp.rm(join(this.dir, 'buckets', bucketName, 'objects', `${sha256(name)}.json`), { force: true });
      await fsp.rm(o.dataFile, { force: true });
    }
  }

  sortedNames(bucketName) {
    const bucket = this.bucket(bucketName);
    if (!bucket.sorted) bucket.sorted = [...bucket.objects.keys()].sort(compareNames);
    return bucket.sorted;
  }

  /** A readable stream (or Buffer) of bytes [start, end] of an object. */
  read(o, start, end) {
    if (o.data) return o.data.subarray(start, end + 1);
    if (end < start) return Buffer.alloc(0);
    return createReadStream(o.dataFile, { start, end });
  }

  // --- resumable sessions ---------------------------------------------------------------------

  async createSession(bucketName, name, meta, preconditions) {
    const id = randomBytes(16).toString('hex');
    const s = { id, bucket: bucketName, name, meta, preconditions, received: 0, done: null };
    if (this.dir) {
      s.partFile = join(this.dir, 'sessions', `${id}.part`);
      await fsp.writeFile(s.partFile, '');
      await this.saveSession(s);
    } else {
      s.chunks = [];
    }
    this.sessions.set(id, s);
    return s;
  }

  async saveSession(s) {
    if (!this.dir) return;
    const { chunks, busy, ...rest } = s;
    await writeAtomic(join(this.dir, 'sessions', `${s.id}.json`), JSON.stringify(rest));
  }

  async dropSessionFiles(s) {
    if (!this.dir) return;
    await fsp.rm(join(this.dir, 'sessions', `${s.id}.json`), { force: true });
    await fsp.rm(s.partFile, { force: true });
  }

  /** Hash of the session's bytes so far (for the final commit). */
  async sessionHashes(s) {
    const h = new Hasher();
    if (s.chunks) {
      for (const c of s.chunks) h.update(c);
    } else if (s.received > 0) {
      for await (const c of createReadStream(s.partFile, { start: 0, end: s.received - 1 })) h.update(c);
    }
    return h.digest();
  }
}

function compareNames(a, b) {
  // GCS orders names by their UTF-8 bytes.
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sha256(s) {
  return createHash('sha256').update(s).digest('hex');
}

async function writeAtomic(path, data) {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fsp.writeFile(tmp, data);
  await fsp.rename(tmp, path);
}

// ---------------------------------------------------------------------------------------------
// Request handling.

function readBody(req) {
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolveBody, reject) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => resolveBody(Buffer.concat(parts)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

async function readJson(req) {
  const body = await readBody(req);
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    /* fall through */
  }
  throw badRequest('Parse Error', 'parseError');
}

/** Parse a multipart/related body: [{ headers, body }]. */
function parseMultipart(contentType, body) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  if (!m) throw badRequest('Missing multipart boundary', 'invalid');
  const boundary = m[1] || m[2];
  const delim = Buffer.from(`--${boundary}`);
  const parts = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw badRequest('Malformed multipart body');
  for (;;) {
    pos += delim.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // "--": the closing delimiter
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else throw badRequest('Malformed multipart body');
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) throw badRequest('Malformed multipart body');
    const headers = {};
    for (const line of body.subarray(pos, headerEnd).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headerEnd + 4);
    if (next < 0) throw badRequest('Malformed multipart body: no closing boundary');
    parts.push({ headers, body: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
  return parts;
}

function checkPreconditions(q, o) {
  const gen = o ? o.generation : '0';
  const fail = (what) => {
    throw new GcsError(412, 'conditionNotMet', `At least one of the pre-conditions you specified did not hold. (${what})`);
  };
  if (q.ifGenerationMatch !== undefined && String(q.ifGenerationMatch) !== gen) fail('ifGenerationMatch');
  if (q.ifGenerationNotMatch !== undefined && String(q.ifGenerationNotMatch) === gen) fail('ifGenerationNotMatch');
  if (q.ifMetagenerationMatch !== undefined && (!o || String(q.ifMetagenerationMatch) !== o.metageneration)) {
    fail('ifMetagenerationMatch');
  }
  if (q.ifMetagenerationNotMatch !== undefined && o && String(q.ifMetagenerationNotMatch) === o.metageneration) {
    fail('ifMetagenerationNotMatch');
  }
}

function pickPreconditions(q) {
  const out = {};
  for (const k of ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch']) {
    if (q[k] !== undefined) out[k] = q[k];
  }
  return out;
}

function objectResource(origin, o) {
  const { data, dataFile, ...rest } = o;
  const enc = encodeURIComponent(o.name);
  return {
    kind: 'storage#object',
    id: `${o.bucket}/${o.name}/${o.generation}`,
    selfLink: `${origin}/storage/v1/b/${o.bucket}/o/${enc}`,
    mediaLink: `${origin}/download/storage/v1/b/${o.bucket}/o/${enc}?generation=${o.generation}&alt=media`,
    ...rest,
  };
}

function bucketResource(origin, meta) {
  return { ...meta, selfLink: `${origin}/storage/v1/b/${meta.name}` };
}

/** Parse `Range: bytes=…` against `size`: [start, end] inclusive, null for none, or throw 416. */
function parseRange(header, size) {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // malformed: ignored, like HTTP says
  let start;
  let end;
  if (m[1] === '') {
    const n = Number(m[2]);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) {
    throw new GcsError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.');
  }
  return [start, end];
}

async function sendMedia(req, res, store, o) {
  const size = Number(o.size);
  const range = parseRange(req.headers.range, size);
  const [start, end] = range ?? [0, size - 1];
  const headers = {
    'Content-Type': o.contentType,
    'Content-Length': String(end - start + 1),
    'Accept-Ranges': 'bytes',
    ETag: `"${o.etag}"`,
    'Last-Modified': new Date(o.updated).toUTCString(),
    'x-goog-generation': o.generation,
    'x-goog-metageneration': o.metageneration,
    'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
    'x-goog-stored-content-length': o.size,
    // Without this header the client silently skips download validation.
    'x-goog-stored-content-encoding': o.contentEncoding || 'identity',
    'x-goog-storage-class': o.storageClass,
  };
  if (o.contentEncoding) headers['Content-Encoding'] = o.contentEncoding;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  const body = store.read(o, start, end);
  if (Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  await new Promise((done) => {
    body.on('error', () => {
      res.destroy();
      done();
    });
    res.on('close', () => {
      body.destroy();
      done();
    });
    body.pipe(res);
  });
}

function listObjects(store, origin, bucketName, q) {
  const prefix = q.prefix ?? '';
  const delimiter = q.delimiter ?? '';
  const max = Math.min(Math.max(Number(q.maxResults) || 1000, 1), 1000);
  const includeTrailing = q.includeTrailingDelimiter === 'true';
  let after = null;
  if (q.pageToken) {
    try {
      after = Buffer.from(q.pageToken, 'base64url').toString('utf8');
    } catch {
      throw badRequest('Invalid pageToken');
    }
  }
  const bucket = store.bucket(bucketName);
  // Entries in name order: an object, or a prefix standing where its first name would be.
  // maxResults counts both (GCS: "maximum combined number of entries in items[] and prefixes[]").
  const items = [];
  const prefixes = [];
  let lastPrefix = null;
  let lastKey = null;
  let count = 0;
  let nextPageToken;
  for (const name of store.sortedNames(bucketName)) {
    if (!name.startsWith(prefix)) continue;
    if (q.startOffset && compareNames(name, q.startOffset) < 0) continue;
    if (q.endOffset && compareNames(name, q.endOffset) >= 0) continue;
    let key = name;
    let isPrefix = false;
    if (delimiter) {
      const i = name.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        key = name.slice(0, i + delimiter.length);
        isPrefix = true;
      }
    }
    // Resume strictly after the last key of the previous page (a prefix covers all its names).
    if (after !== null && compareNames(key, after) <= 0) continue;
    if (isPrefix && key === lastPrefix) {
      if (includeTrailing && name === key) items.push(objectResource(origin, bucket.objects.get(name)));
      continue;
    }
    if (count === max) {
      nextPageToken = Buffer.from(lastKey).toString('base64url');
      break;
    }
    if (isPrefix) {
      prefixes.push(key);
      lastPrefix = key;
      if (includeTrailing && name === key) items.push(objectResource(origin, bucket.objects.get(name)));
    } else {
      items.push(objectResource(origin, bucket.objects.get(name)));
      lastPrefix = null;
    }
    lastKey = key;
    count++;
  }
  const out = { kind: 'storage#objects' };
  if (nextPageToken) out.nextPageToken = nextPageToken;
  if (prefixes.length) out.prefixes = prefixes;
  if (items.length) out.items = items;
  return out;
}

/** Content-Range of a resumable PUT: { start, end, total } with null for '*'. */
function parseContentRange(h) {
  if (h === undefined) return { start: 0, end: null, total: null, whole: true };
  let m = /^bytes \*\/(\d+|\*)$/.exec(h.trim());
  if (m) return { query: true, total: m[1] === '*' ? null : Number(m[1]) };
  m = /^bytes (\d+)-(\d+|\*|-1)\/(\d+|\*)$/.exec(h.trim());
  if (!m) throw badRequest(`Failed to parse Content-Range header: ${h}`);
  return {
    start: Number(m[1]),
    end: m[2] === '*' ? null : Number(m[2]),
    total: m[3] === '*' ? null : Number(m[3]),
  };
}

function parseGoogHash(h) {
  const out = {};
  for (const kv of (h || '').split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i).trim().toLowerCase()] = kv.slice(i + 1).trim();
  }
  return out;
}

function sendIncomplete(res, s) {
  // 308 "Resume Incomplete"; Range only once some bytes are persisted.
  const headers = { 'Content-Length': '0' };
  if (s.received > 0) headers.Range = `bytes=0-${s.received - 1}`;
  res.writeHead(308, headers);
  res.end();
}

async function finishSession(store, origin, res, s, googHash) {
  const hashes = await store.sessionHashes(s);
  if (googHash.md5 && googHash.md5 !== hashes.md5Hash) {
    throw badRequest(`Provided MD5 hash "${googHash.md5}" doesn't match calculated MD5 hash "${hashes.md5Hash}".`);
  }
  if (googHash.crc32c && googHash.crc32c !== hashes.crc32c) {
    throw badRequest(`Provided CRC32C "${googHash.crc32c}" doesn't match calculated CRC32C "${hashes.crc32c}".`);
  }
  if (!s.chunks) await fsp.truncate(s.partFile, s.received); // drop bytes of cut-off chunks
  const data = s.chunks ? Buffer.concat(s.chunks) : s.partFile;
  const o = await store.putObject(s.bucket, s.name, {
    data,
    meta: s.meta,
    hashes,
    check: (old) => checkPreconditions(s.preconditions, old),
  });
  s.done = o.generation;
  store.sessions.delete(s.id);
  await store.dropSessionFiles(s);
  store.finished.set(s.id, { bucket: s.bucket, name: s.name, generation: o.generation });
  sendJson(res, 200, objectResource(origin, o));
}

/**
 * Receive the body of a resumable PUT. Returns { got, commit }: the bytes in the body, and a
 * function that makes the new bytes part of the session (called only once the body is complete
 * and checked; a request cut off midway leaves the session as it was).
 */
async function receiveChunk(store, req, s, start) {
  // Bytes the server already has (a client resending after a lost response) are skipped.
  let skip = Math.max(0, s.received - start);
  let got = 0;
  const keep = (c) => {
    if (skip >= c.length) {
      skip -= c.length;
      return null;
    }
    const part = skip ? c.subarray(skip) : c;
    skip = 0;
    return part;
  };
  if (s.chunks) {
    const pending = [];
    for await (const c of req) {
      got += c.length;
      const part = keep(c);
      if (part) pending.push(part);
    }
    const commit = async () => {
      for (const p of pending) {
        s.chunks.push(p);
        s.received += p.length;
      }
    };
    return { got, commit };
  }
  const ws = createWriteStream(s.partFile, { flags: 'r+', start: s.received });
  let added = 0;
  try {
    for await (const c of req) {
      got += c.length;
      const part = keep(c);
      if (part) {
        added += part.length;
        if (!ws.write(part)) await new Promise((r) => ws.once('drain', r));
      }
    }
  } finally {
    await new Promise((r) => ws.end(r));
  }
  const commit = async () => {
    s.received += added;
    await store.saveSession(s);
  };
  return { got, commit };
}

async function handleResumablePut(store, origin, req, res, q) {
  const id = q.upload_id;
  const s = id ? store.sessions.get(id) : undefined;
  if (!s) {
    await readBody(req);
    // A finished session answers a status query (or a resent last chunk) with the object.
    const fin = id ? store.finished.get(id) : undefined;
    const o = fin && store.buckets.get(fin.bucket)?.objects.get(fin.name);
    if (o && o.generation === fin.generation) return sendJson(res, 200, objectResource(origin, o));
    throw notFound('No such upload session (it expired, or the server lost it in a restart).');
  }
  if (s.busy) throw new GcsError(503, 'backendError', 'Another request is writing to this upload session.');
  s.busy = true;
  try {
    const cr = parseContentRange(req.headers['content-range']);
    const googHash = parseGoogHash(req.headers['x-goog-hash']);
    if (cr.query) {
      await readBody(req);
      if (cr.total !== null && cr.total === s.received) return await finishSession(store, origin, res, s, googHash);
      return sendIncomplete(res, s);
    }
    if (cr.start > s.received) {
      throw badRequest(`Invalid request: the upload has ${s.received} bytes, a chunk cannot start at ${cr.start}.`);
    }
    const { got, commit } = await receiveChunk(store, req, s, cr.start);
    if (cr.end !== null && cr.end >= cr.start && got !== cr.end - cr.start + 1) {
      throw badRequest(`Content-Range ${req.headers['content-range']} does not match the ${got} bytes sent.`);
    }
    if (cr.total !== null && cr.start + got > cr.total) {
      throw badRequest(`The chunk ends past the declared total ${cr.total}.`);
    }
    await commit();
    // `bytes A-*/…` (the Node client's single-request form) and no Content-Range at all mean
    // "the body is the rest of the object"; otherwise the total says when it is complete.
    const last = cr.whole || cr.end === null || cr.total !== null;
    if (last && (cr.total === null || s.received === cr.total)) {
      return await finishSession(store, origin, res, s, googHash);
    }
    return sendIncomplete(res, s);
  } finally {
    s.busy = false;
  }
}

async function handleUploadPost(store, origin, req, res, bucketName, q) {
  store.bucket(bucketName);
  const type = q.uploadType;
  if (type === 'resumable') {
    const meta = await readJson(req);
    const name = q.name ?? meta.name;
    if (!name) throw badRequest('Required parameter: name', 'required');
    if (req.headers['x-upload-content-type'] && !meta.contentType) meta.contentType = req.headers['x-upload-content-type'];
    const preconditions = pickPreconditions(q);
    checkPreconditions(preconditions, store.bucket(bucketName).objects.get(name));
    const s = await store.createSession(bucketName, name, meta, preconditions);
    const location = `${origin}/upload/storage/v1/b/${bucketName}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${s.id}`;
    res.writeHead(200, { Location: location, 'X-GUploader-UploadID': s.id, 'Content-Length': '0' });
    res.end();
    return;
  }
  let meta;
  let data;
  if (type === 'multipart') {
    const parts = parseMultipart(req.headers['content-type'], await readBody(req));
    if (parts.length !== 2) throw badRequest('A multipart upload needs a metadata part and a media part.');
    try {
      meta = JSON.parse(parts[0].body.toString('utf8') || '{}');
    } catch {
      throw badRequest('Parse Error', 'parseError');
    }
    if (!meta.contentType && parts[1].headers['content-type']) meta.contentType = parts[1].headers['content-type'];
    data = Buffer.from(parts[1].body);
  } else if (type === 'media') {
    data = await readBody(req);
    meta = { contentType: req.headers['content-type'] };
  } else {
    throw badRequest(`Invalid upload type: ${type}`);
  }
  const name = q.name ?? meta.name;
  if (!name) throw badRequest('Required parameter: name', 'required');
  const h = new Hasher();
  h.update(data);
  const o = await store.putObject(bucketName, name, {
    data,
    meta,
    hashes: h.digest(),
    check: (old) => checkPreconditions(q, old),
  });
  sendJson(res, 200, objectResource(origin, o));
}

async function route(store, req, res) {
  const url = new URL(req.url, 'http://x');
  const q = Object.fromEntries(url.searchParams);
  const origin = `http://${req.headers.host}`;
  // Split the raw (still encoded) path so an encoded '/' in an object name stays in the name.
  const raw = url.pathname;
  const dec = (s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest('Malformed URL encoding');
    }
  };
  let m;
  const method = req.method;

  if (raw === '/storage/v1/b') {
    if (method === 'POST') {
      const body = await readJson(req);
      if (!q.project) throw badRequest('Required parameter: project', 'required');
      return sendJson(res, 200, bucketResource(origin, await store.createBucket(body.name, body)));
    }
    if (method === 'GET') {
      const items = [...store.buckets.values()].map((b) => bucketResource(origin, b.meta));
      return sendJson(res, 200, { kind: 'storage#buckets', items });
    }
  }
  if ((m = /^\/storage\/v1\/b\/([^/]+)$/.exec(raw))) {
    const b = dec(m[1]);
    if (method === 'GET') return sendJson(res, 200, bucketResource(origin, store.bucket(b).meta));
    if (method === 'DELETE') {
      checkBucketPreconditions(q, store.bucket(b));
      await store.deleteBucket(b);
      res.writeHead(204).end();
      return;
    }
  }
  if ((m = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(raw)) && method === 'GET') {
    return sendJson(res, 200, listObjects(store, origin, dec(m[1]), q));
  }
  if ((m = /^\/(storage|download\/storage)\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(raw))) {
    const b = dec(m[2]);
    const name = dec(m[3]);
    if (method === 'GET') {
      const o = store.object(b, name);
      if (q.generation !== undefined && q.generation !== o.generation) throw notFound(`No such object: ${b}/${name}#${q.generation}`);
      checkPreconditions(q, o);
      if (q.alt === 'media' || m[1] === 'download/storage') return sendMedia(req, res, store, o);
      return sendJson(res, 200, objectResource(origin, o));
    }
    if (method === 'DELETE' && m[1] === 'storage') {
      const o = store.object(b, name);
      if (q.generation !== undefined && q.generation !== o.generation) throw notFound(`No such object: ${b}/${name}#${q.generation}`);
      checkPreconditions(q, o);
      await store.deleteObject(b, name);
      res.writeHead(204).end();
      return;
    }
  }
  if ((m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(raw))) {
    if (method === 'POST') return handleUploadPost(store, origin, req, res, dec(m[1]), q);
    if (method === 'PUT' && q.uploadType === 'resumable') return handleResumablePut(store, origin, req, res, q);
    if (method === 'DELETE' && q.upload_id) {
      // Cancel a resumable upload (GCS answers 499).
      const s = store.sessions.get(q.upload_id);
      if (!s) throw notFound('No such upload session.');
      store.sessions.delete(s.id);
      await store.dropSessionFiles(s);
      res.writeHead(499, { 'Content-Length': '0' }).end();
      return;
    }
  }
  if (/^\/(storage|upload|download)\//.test(raw)) {
    throw new GcsError(501, 'notImplemented', `${method} ${raw} is not implemented by the test GCS server.`);
  }
  throw notFound(`Not found: ${method} ${raw}`);
}

function checkBucketPreconditions(q, b) {
  if (q.ifMetagenerationMatch !== undefined && String(q.ifMetagenerationMatch) !== b.meta.metageneration) {
    throw new GcsError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.

/**
 * Start the server in this process.
 * @param {{ port?: number, dir?: string, host?: string }} [options] port 0 picks a free one; dir
 *   keeps objects (and resumable sessions) on disk, loaded again on the next start.
 * @returns {Promise<{ url: string, port: number, dir: string | null, stop(): Promise<void>,
 *   kill(): Promise<void>, failNext(n: number, status?: number): void,
 *   tamper(bucket: string, name: string, fn?: (b: Buffer) => Buffer): Promise<void>,
 *   requests: { method: string, url: string, status?: number }[] }>}
 */
export async function startGcsServer({ port = 0, dir, host = '127.0.0.1' } = {}) {
  const store = new Store(dir);
  store.finished = new Map();
  await store.load();
  const sockets = new Set();
  const failures = [];
  const requests = [];

  const server = createServer((req, res) => {
    const entry = { method: req.method, url: req.url };
    requests.push(entry);
    if (requests.length > 10000) requests.splice(0, 5000);
    res.on('finish', () => (entry.status = res.statusCode));
    if (failures.length) {
      const status = failures.shift();
      req.resume();
      req.on('end', () =>
        sendError(res, new GcsError(status, status === 429 ? 'rateLimitExceeded' : 'backendError', `Injected failure ${status}`)),
      );
      return;
    }
    route(store, req, res).catch(async (err) => {
      if (req.destroyed && !req.readableEnded) {
        res.destroy(); // the client went away mid-request
        return;
      }
      // Read the rest of the body first, so the client is not cut off while still sending.
      await readBody(req).catch(() => {});
      sendError(res, err instanceof GcsError ? err : new GcsError(500, 'backendError', String(err?.stack || err)));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const actual = server.address().port;
  const url = `http://${host}:${actual}`;
  let closed = null;
  const close = (abrupt) => {
    if (!closed) {
      closed = new Promise((done) => server.close(() => done()));
      if (abrupt) for (const s of sockets) s.destroy();
      else server.closeIdleConnections();
      // Give in-flight requests a moment on a graceful stop, then cut them.
      setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, abrupt ? 0 : 2000).unref();
    }
    return closed;
  };
  return {
    url,
    port: actual,
    dir: store.dir,
    requests,
    /** Graceful: stop accepting, let in-flight requests finish (at most 2 s). */
    stop: () => close(false),
    /** Abrupt, like a crash: every open connection is reset at once. */
    kill: () => close(true),
    /** The next n requests fail with `status` (default 503) and a JSON error, before routing. */
    failNext(n, status = 503) {
      for (let i = 0; i < n; i++) failures.push(status);
    },
    /**
     * Replace an object's stored bytes without updating its recorded hashes (bit rot, or a
     * server that lies): downloads then fail the client's validation. Default: flip the first byte.
     */
    async tamper(bucketName, name, fn = (b) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 0xff : x)))) {
      const o = store.object(bucketName, name);
      const before = o.data ?? (await fsp.readFile(o.dataFile));
      const after = fn(Buffer.from(before));
      if (o.data) o.data = after;
      else await fsp.writeFile(o.dataFile, after);
      o.size = String(after.length);
    },
  };
}

/** Options for `new Storage(…)` (from @google-cloud/storage) against this server. */
export function gcsClientOptions(server, extra = {}) {
  return {
    apiEndpoint: server.url,
    projectId: 'test-project',
    // No auth with a custom endpoint (the default, made explicit).
    useAuthWithCustomEndpoint: false,
    ...extra,
  };
}

/**
 * A configured Storage client. Async because the SDK is loaded lazily (importing this module must
 * not load it: the standalone server has no dependencies). `extra` is merged into the options,
 * e.g. { retryOptions: { maxRetries: 0 } } or { retryOptions: { autoRetry: false } }.
 */
export async function makeGcsClient(server, extra = {}) {
  const { Storage } = await import('@google-cloud/storage');
  return new Storage(gcsClientOptions(server, extra));
}

/**
 * Run the server as a separate process (`node gcs.mjs --port --dir`), for tests that kill it.
 * @returns {Promise<{ url: string, port: number, pid: number, child: import('node:child_process').ChildProcess,
 *   kill(signal?: NodeJS.Signals): Promise<void>, stop(): Promise<void> }>}
 */
export async function startGcsProcess({ port = 0, dir } = {}) {
  // --parent: the server exits when this process is gone, even if kill()/stop() never ran.
  const args = [fileURLToPath(import.meta.url), '--port', String(port), '--parent', String(process.pid)];
  if (dir) args.push('--dir', dir);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const url = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`gcs server did not start in 10 s: ${stderr}`)), 10_000);
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('http://'));
      if (line) {
        clearTimeout(timer);
        ok(line.trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`gcs server exited (${code}) before listening: ${stderr}`));
    });
  });
  const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  const kill = async (signal = 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { url, port: Number(new URL(url).port), pid: child.pid, child, kill, stop: () => kill('SIGTERM') };
}

// ---------------------------------------------------------------------------------------------
// Standalone: node test/servers/gcs.mjs [--port N] [--dir D] [--parent PID]

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const dir = opt('--dir');
  if (dir && !existsSync(dir)) await fsp.mkdir(dir, { recursive: true });
  const s = await startGcsServer({ port: Number(opt('--port') ?? 0), dir });
  process.stdout.write(`${s.url}\n`);
  const bye = () => s.stop().then(() => process.exit(0));
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
  const parent = Number(opt('--parent'));
  if (parent) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        bye();
      }
    }, 1000).unref();
  }
}
