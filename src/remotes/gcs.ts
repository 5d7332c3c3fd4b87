import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { Storage, type Bucket, type File as GcsFile, type StorageOptions } from '@google-cloud/storage';
import { errnoCode } from '../errors.js';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from './errors.js';
import { cap, checkSource, packGone, probeEndpoint, sourceUnreadable, translateFailure } from './common.js';
import { isPackFileName, MARKER_NAME, objectKey, oidOfKey, packFileKey, type ByteRange, type CallOptions, type PackFileInfo, type DownloadSource, type ListedObject, type RemoteBackend, type RemoteSpec, type UploadSource, LOCK_NAME, lockKey, type LockRecords } from './types.js';

/**
 * Google Cloud Storage through the JSON API client. Small objects go up in one multipart request that
 * carries their MD5 (the server refuses bytes that do not match); big ones in a resumable upload in
 * chunks, whose last chunk is sent only after the whole file hashed to its oid, so nothing partial or
 * corrupted is ever finalised. Application default credentials, or a key file; a custom endpoint
 * (an emulator, a test server) gets no credentials unless a key file is named.
 */
const SIMPLE_MAX = 8 << 20;
const CHUNK = 16 << 20;

export class GcsBackend implements RemoteBackend {
  readonly scheme = 'gcs' as const;
  readonly display: string;
  readonly defaultJobs = 16;
  readonly statBatchSize = 1;
  readonly listPageSize = 1000;
  readonly network = true;
  private readonly prefix: string;
  private readonly bucketName: string;

  private constructor(
    private readonly spec: RemoteSpec,
    private readonly bucket: Bucket,
    private readonly credentialOrigin: string,
    private readonly endpoint: string,
  ) {
    if (spec.location.scheme !== 'gcs') throw new Error('GcsBackend needs a gs location');
    this.prefix = spec.location.prefix;
    this.bucketName = spec.location.bucket;
    this.display = `gs://${this.bucketName}/${this.prefix}${spec.options.endpoint ? ` at ${spec.options.endpoint}` : ''}`;
  }

  static async open(spec: RemoteSpec): Promise<GcsBackend> {
    if (spec.location.scheme !== 'gcs') throw new Error('GcsBackend needs a gs location');
    const o = spec.options;
    const endpoint = o.endpoint?.replace(/\/+$/, '');
    const options: StorageOptions = {
      retryOptions: { autoRetry: false, maxRetries: 0 },
      timeout: spec.timeoutSeconds * 1000,
    };
    if (endpoint) options.apiEndpoint = endpoint;
    const project = o.project ?? process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT ?? (endpoint ? 'dvs' : undefined);
    if (project) options.projectId = project;
    let origin: string;
    if (o.credentials_file !== undefined) {
      options.keyFilename = isAbsolute(o.credentials_file) ? o.credentials_file : resolve(spec.root, o.credentials_file);
      if (endpoint) options.useAuthWithCustomEndpoint = true;
      origin = `the key file ${options.keyFilename} (remote.${spec.name}.credentials_file)`;
    } else if (endpoint) {
      origin = 'no credentials (a custom endpoint gets none unless remote.<name>.credentials_file is set)';
    } else if (process.env.GOOGLE_APPLICATION_CREDENTIALS) {
      origin = `GOOGLE_APPLICATION_CREDENTIALS (${process.env.GOOGLE_APPLICATION_CREDENTIALS})`;
    } else {
      origin = 'application default credentials (gcloud auth application-default login, or the metadata server)';
    }
    const where = endpoint ?? 'https://storage.googleapis.com';
    // The client has no connect timeout of its own: a dead endpoint would hang until the request
    // timeout. One TCP connect up front fails fast instead.
    await probeEndpoint(spec.name, where);
    const storage = new Storage(options);
    return new GcsBackend(spec, storage.bucket(spec.location.bucket), origin, where);
  }

  private file(oid: Oid) {
    return this.bucket.file(objectKey(this.prefix, oid));
  }

  async stat(oids: readonly Oid[], call: CallOptions): Promise<Array<number | undefined>> {
    return Promise.all(
      oids.map(async (oid) => {
        try {
          throwIfAborted(call.signal);
          const [meta] = await this.file(oid).getMetadata();
          return Number(meta.size ?? 0);
        } catch (err) {
          if (status(err) === 404 && !isNoBucket(err)) return undefined;
          throw this.translate(err, 'checking', oid);
        }
      }),
    );
  }

  async *list(shard: string | undefined, call: CallOptions): AsyncIterable<ListedObject[]> {
    const prefix = shard !== undefined ? `${this.prefix ? this.prefix + '/' : ''}${shard}/` : this.prefix ? this.prefix + '/' : undefined;
    let pageToken: string | undefined;
    do {
      throwIfAborted(call.signal);
      let response;
      try {
        response = await this.bucket.getFiles({ prefix, maxResults: this.listPageSize, pageToken, autoPaginate: false });
      } catch (err) {
        throw this.translate(err, 'listing');
      }
      const [files, next] = response;
      const page: ListedObject[] = [];
      for (const f of files) {
        const oid = oidOfKey(this.prefix, f.name);
        if (oid) page.push({ oid, size: Number(f.metadata.size ?? 0), modified: f.metadata.updated ? new Date(f.metadata.updated) : undefined });
      }
      yield page;
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async upload(source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.file(source.oid), call);
  }

  async putPackFile(name: string, source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.bucket.file(packFileKey(this.prefix, name)), call);
  }

  async readPackFile(name: string, range: ByteRange | undefined, call: CallOptions): Promise<DownloadSource> {
    throwIfAborted(call.signal);
    const stream = this.bucket.file(packFileKey(this.prefix, name)).createReadStream({ validation: false, decompress: false, ...(range ? { start: range.start, end: range.end - 1 } : {}) });
    const translated = new Transform({
      transform(chunk, _enc, cb) {
        cb(null, chunk);
      },
    });
    stream.on('error', (err) => translated.destroy(status(err) === 404 || status(err) === 416 ? packGone(this.spec.name, name) : this.translate(err, `downloading pack file ${name.slice(0, 12)}…`)));
    translated.on('close', () => stream.destroy());
    return { type: 'stream', stream: stream.pipe(translated), size: range ? range.end - range.start : undefined };
  }

  async *listPackFiles(call: CallOptions): AsyncIterable<PackFileInfo[]> {
    const prefix = packFileKey(this.prefix, '');
    let pageToken: string | undefined;
    do {
      throwIfAborted(call.signal);
      let response;
      try {
        response = await this.bucket.getFiles({ prefix, maxResults: this.listPageSize, pageToken, autoPaginate: false });
      } catch (err) {
        throw this.translate(err, 'listing packs');
      }
      const [files, next] = response;
      const page: PackFileInfo[] = [];
      for (const f of files) {
        const name = f.name.slice(prefix.length);
        if (isPackFileName(name)) page.push({ name, size: Number(f.metadata.size ?? 0), modified: f.metadata.updated ? new Date(f.metadata.updated) : undefined });
      }
      yield page;
      pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
    } while (pageToken);
  }

  async deletePackFiles(names: readonly string[], call: CallOptions): Promise<void> {
    const limit = pLimit(this.defaultJobs);
    await Promise.all(
      names.map((name) => limit(async () => {
        try {
          throwIfAborted(call.signal);
          await this.bucket.file(packFileKey(this.prefix, name)).delete({ ignoreNotFound: true });
        } catch (err) {
          throw this.translate(err, 'deleting pack files');
        }
      })),
    );
  }

  private async put(source: UploadSource, file: GcsFile, call: CallOptions): Promise<void> {
    try {
      if (source.size <= SIMPLE_MAX) await this.uploadSimple(source, file, call);
      else await this.uploadResumable(source, file, call);
    } catch (err) {
      throw this.translate(err, 'uploading', source.oid);
    }
  }

  private async uploadSimple(source: UploadSource, file: GcsFile, call: CallOptions): Promise<void> {
    let body: Buffer;
    try {
      body = await readFile(source.path);
    } catch (err) {
      throw sourceUnreadable(source, err);
    }
    checkSource(source, createHash('sha256').update(body).digest('hex'));
    const md5Hash = createHash('md5').update(body).digest('base64');
    // With md5Hash in the metadata the server itself refuses bytes that arrive altered.
    const out = file.createWriteStream({ resumable: false, validation: 'md5', contentType: 'application/octet-stream', metadata: { md5Hash } });
    await pipeline(Readable.from([body]), out, { signal: call.signal });
    call.onBytes?.(body.length);
  }

  private async uploadResumable(source: UploadSource, file: GcsFile, call: CallOptions): Promise<void> {
    const sha = createHash('sha256');
    let size = 0;
    // The hash is checked when the source ends, before the stream ends the upload: a source that does
    // not hash to its oid fails the pipeline and the upload is never finalised.
    const verify = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        sha.update(chunk);
        size += chunk.length;
        call.onBytes?.(chunk.length);
        cb(null, chunk);
      },
      flush(cb) {
        try {
          if (size !== source.size) throw new RemoteError('SOURCE_CORRUPTED', `the cache object ${shortOid(source.oid)} has ${size} bytes, not ${source.size}; not uploaded`, { reason: 'source-corrupt' });
          checkSource(source, sha.digest('hex'));
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
    });
    const input = createReadStream(source.path, { highWaterMark: 1 << 20 });
    const out = file.createWriteStream({ resumable: true, chunkSize: CHUNK, validation: 'md5', contentType: 'application/octet-stream' });
    try {
      await pipeline(input, verify, out, { signal: call.signal });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') throw sourceUnreadable(source, err);
      throw err;
    }
    const [meta] = await file.getMetadata();
    if (Number(meta.size) !== source.size) {
      await file.delete({ ignoreNotFound: true }).catch(() => undefined);
      throw new RemoteError('REMOTE_SIZE_MISMATCH', `the remote stored ${meta.size} bytes for ${shortOid(source.oid)} instead of ${source.size}; removed it`, { reason: 'server', retriable: true });
    }
  }

  async download(oid: Oid, call: CallOptions): Promise<DownloadSource> {
    throwIfAborted(call.signal);
    // Our own SHA-256 check is stronger than the client's; no transparent gunzip of stored bytes. The
    // request starts when the stream is first read, so errors (a 404 too) surface through the
    // caller's pipeline, translated here.
    const stream = this.file(oid).createReadStream({ validation: false, decompress: false });
    const translated = new Transform({
      transform(chunk, _enc, cb) {
        cb(null, chunk);
      },
    });
    stream.on('error', (err) => translated.destroy(this.translate(err, 'downloading', oid)));
    translated.on('close', () => stream.destroy());
    return { type: 'stream', stream: stream.pipe(translated) };
  }

  async delete(oids: readonly Oid[], call: CallOptions): Promise<void> {
    // The JSON API deletes one object per request.
    const limit = pLimit(this.defaultJobs);
    await Promise.all(
      oids.map((oid) => limit(async () => {
        try {
          throwIfAborted(call.signal);
          await this.file(oid).delete({ ignoreNotFound: true });
        } catch (err) {
          throw this.translate(err, 'deleting', oid);
        }
      })),
    );
  }

  private marker() {
    return this.bucket.file(`${this.prefix ? this.prefix + '/' : ''}${MARKER_NAME}`);
  }

  async readMarker(call: CallOptions): Promise<string | undefined> {
    try {
      throwIfAborted(call.signal);
      const [data] = await this.marker().download({ validation: false });
      return data.toString('utf8').trim();
    } catch (err) {
      if (status(err) === 404 && !isNoBucket(err)) return undefined;
      throw this.translate(err, 'reading the epoch marker');
    }
  }

  async writeMarker(value: string, call: CallOptions): Promise<void> {
    const body = Buffer.from(value + '\n');
    try {
      const out = this.marker().createWriteStream({ resumable: false, validation: 'md5', contentType: 'text/plain', metadata: { md5Hash: createHash('md5').update(body).digest('base64') } });
      await pipeline(Readable.from([body]), out, { signal: call.signal });
    } catch (err) {
      throw this.translate(err, 'writing the epoch marker');
    }
  }

  /** Create-only through the precondition ifGenerationMatch=0: the server answers 412 when the name exists. */
  readonly locks: LockRecords = {
    create: async (name, body, call) => {
      try {
        throwIfAborted(call.signal);
        await this.bucket.file(lockKey(this.prefix, name)).save(body, { resumable: false, validation: false, contentType: 'application/json', preconditionOpts: { ifGenerationMatch: 0 } });
        return true;
      } catch (err) {
        if (status(err) === 412) return false;
        throw this.translate(err, 'creating a lock');
      }
    },
    read: async (name, call) => {
      try {
        throwIfAborted(call.signal);
        const [data] = await this.bucket.file(lockKey(this.prefix, name)).download({ validation: false });
        return data.toString('utf8');
      } catch (err) {
        if (status(err) === 404 && !isNoBucket(err)) return undefined;
        throw this.translate(err, 'reading a lock');
      }
    },
    list: async (call) => {
      const prefix = lockKey(this.prefix, '');
      const names: string[] = [];
      let pageToken: string | undefined;
      do {
        throwIfAborted(call.signal);
        let response;
        try {
          response = await this.bucket.getFiles({ prefix, maxResults: this.listPageSize, pageToken, autoPaginate: false });
        } catch (err) {
          throw this.translate(err, 'listing locks');
        }
        for (const f of response[0]) {
          const name = f.name.slice(prefix.length);
          if (LOCK_NAME.test(name)) names.push(name);
        }
        pageToken = (response[1] as { pageToken?: string } | null | undefined)?.pageToken;
      } while (pageToken);
      return names;
    },
    remove: async (name, call) => {
      try {
        throwIfAborted(call.signal);
        await this.bucket.file(lockKey(this.prefix, name)).delete({ ignoreNotFound: true });
      } catch (err) {
        throw this.translate(err, 'removing a lock');
      }
    },
  };

  async close(): Promise<void> {}

  private translate(err: unknown, doing: string, oid?: Oid): RemoteError {
    if (err instanceof RemoteError) return err;
    const e = err as { message?: string; code?: unknown; name?: string };
    const http = status(err);
    const where = `remote "${this.spec.name}" (${this.display})`;
    const message = (e.message ?? String(err)).split('\n')[0];
    if (http === 401 || http === 403 || /Could not load the default credentials|invalid_grant|Unable to detect a Project Id/i.test(message)) {
      return new RemoteError('REMOTE_AUTH', `${cap(where)} refused the credentials while ${doing}: ${message}${http ? ` (HTTP ${http})` : ''}. Credentials used: ${this.credentialOrigin}`, {
        reason: 'auth',
        fatal: true,
        hint: `Log in with \`gcloud auth application-default login\`, or point remote.${this.spec.name}.credentials_file at a service-account key (dvs remote modify --local ${this.spec.name} credentials_file <path>).`,
        data: { remote: this.spec.name, endpoint: this.endpoint, credentials: this.credentialOrigin },
        cause: err,
      });
    }
    if (isNoBucket(err)) {
      return new RemoteError('REMOTE_NO_BUCKET', `The bucket "${this.bucketName}" of ${where} does not exist`, {
        reason: 'no-bucket',
        fatal: true,
        hint: `Create the bucket, or fix the URL: dvs remote add --force ${this.spec.name} gs://<bucket>/<prefix>`,
        cause: err,
      });
    }
    return translateFailure({
      remote: this.spec.name,
      endpoint: this.endpoint,
      where,
      doing,
      oid,
      detail: `${message}${http ? ` (HTTP ${http})` : ''}`,
      notFound: http === 404,
      connectTimeout: false,
      network: e.name === 'AbortError' || /timeout|socket hang up|network/i.test(message),
      throttled: http === 429,
      serverError: (http !== undefined && http >= 500) || /did not match|mismatch/i.test(message),
      cause: err,
    });
  }
}

function status(err: unknown): number | undefined {
  const code = (err as { code?: unknown; response?: { status?: number } })?.code;
  if (typeof code === 'number') return code;
  const s = (err as { response?: { status?: number } })?.response?.status;
  return typeof s === 'number' ? s : undefined;
}

function isNoBucket(err: unknown): boolean {
  if (status(err) !== 404) return false;
  const message = (err as { message?: string })?.message ?? '';
  return /bucket/i.test(message) && /not exist|not found/i.test(message) && !/object|No such object/i.test(message);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
}
