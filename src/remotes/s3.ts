import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from './errors.js';
import { readCredentialsFile } from './aws-credentials.js';
import { cap, checkSource, CONNECT_TIMEOUT_MS, packGone, readSource, sourceUnreadable, translateFailure } from './common.js';
import { isPackFileName, MARKER_NAME, objectKey, oidOfKey, packFileKey, type ByteRange, type CallOptions, type PackFileInfo, type DownloadSource, type ListedObject, type RemoteBackend, type RemoteSpec, type UploadSource, LOCK_NAME, lockKey, type LockRecords } from './types.js';

/**
 * S3 and S3-compatible stores (MinIO, Ceph, Swift's s3api, …). Objects up to PART_SIZE go up in one
 * PUT with Content-MD5; bigger ones in a multipart upload whose parts each carry Content-MD5 and which
 * is completed only once the whole file hashed to its oid, so a corrupted cache object never becomes
 * visible and a killed upload leaves only an invisible incomplete upload (`dvs gc --remote` aborts
 * old ones). The SDK does no retries of its own: the transfer queue does, for every backend alike.
 */
const PART_SIZE = 16 << 20;
const MAX_PARTS = 10_000;

export class S3Backend implements RemoteBackend {
  readonly scheme = 's3' as const;
  readonly display: string;
  readonly defaultJobs = 16;
  readonly statBatchSize = 1;
  readonly listPageSize = 1000;
  readonly network = true;
  private readonly bucket: string;
  private readonly prefix: string;

  private constructor(
    private readonly spec: RemoteSpec,
    private readonly client: S3Client,
    /** Where the credentials came from, for messages. */
    private readonly credentialOrigin: string,
    private readonly endpoint: string,
  ) {
    if (spec.location.scheme !== 's3') throw new Error('S3Backend needs an s3 location');
    this.bucket = spec.location.bucket;
    this.prefix = spec.location.prefix;
    this.display = `s3://${this.bucket}/${this.prefix}${spec.options.endpoint ? ` at ${spec.options.endpoint}` : ''}`;
  }

  static async open(spec: RemoteSpec): Promise<S3Backend> {
    const o = spec.options;
    const endpoint = o.endpoint;
    const config: S3ClientConfig = {
      endpoint,
      forcePathStyle: o.path_style ?? endpoint !== undefined,
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: CONNECT_TIMEOUT_MS,
        socketTimeout: spec.timeoutSeconds * 1000,
        httpAgent: { keepAlive: true, maxSockets: 64 },
        httpsAgent: { keepAlive: true, maxSockets: 64 },
      },
    };
    const region = o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (endpoint ? 'us-east-1' : undefined);
    if (region) config.region = region;
    // Non-AWS servers reject the SDK's default aws-chunked bodies with CRC32 trailers.
    const checksum = (o.checksum ?? (endpoint ? 'when_required' : 'when_supported')).toLowerCase();
    if (checksum !== 'when_required' && checksum !== 'when_supported') {
      throw new RemoteError('INVALID_CONFIG_VALUE', `remote.${spec.name}.checksum must be when_supported or when_required (got ${o.checksum})`, { reason: 'refused', fatal: true });
    }
    config.requestChecksumCalculation = checksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
    config.responseChecksumValidation = checksum === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';

    let origin: string;
    if (o.access_key_id !== undefined || o.secret_access_key !== undefined) {
      if (o.access_key_id === undefined || o.secret_access_key === undefined) {
        throw new RemoteError('REMOTE_AUTH', `Remote "${spec.name}": access_key_id and secret_access_key must be set together (only ${o.access_key_id !== undefined ? 'access_key_id' : 'secret_access_key'} is, in ${spec.sources.access_key_id ?? spec.sources.secret_access_key})`, {
          reason: 'auth',
          fatal: true,
          hint: `dvs remote modify --local ${spec.name} ${o.access_key_id !== undefined ? 'secret_access_key' : 'access_key_id'} <value>`,
        });
      }
      config.credentials = { accessKeyId: o.access_key_id, secretAccessKey: o.secret_access_key, sessionToken: o.session_token };
      origin = `access key "${o.access_key_id}" from ${spec.sources.access_key_id} (remote.${spec.name}.access_key_id)`;
    } else if (o.credentials_file !== undefined) {
      const file = isAbsolute(o.credentials_file) ? o.credentials_file : resolve(spec.root, o.credentials_file);
      const profile = o.profile ?? process.env.AWS_PROFILE ?? 'default';
      config.credentials = readCredentialsFile(spec, file, profile);
      origin = `profile "${profile}" of the credentials file ${file} (remote.${spec.name}.credentials_file)`;
    } else if (o.profile !== undefined) {
      config.profile = o.profile;
      origin = `AWS profile "${o.profile}" (remote.${spec.name}.profile)`;
    } else if (process.env.AWS_ACCESS_KEY_ID) {
      origin = `AWS_ACCESS_KEY_ID "${process.env.AWS_ACCESS_KEY_ID}" from the environment`;
    } else if (process.env.AWS_PROFILE) {
      origin = `AWS profile "${process.env.AWS_PROFILE}" (AWS_PROFILE)`;
    } else {
      origin = 'the AWS default credential chain (environment, ~/.aws/credentials and config, SSO, instance role)';
    }
    const client = withoutNodeVersionWarning(() => new S3Client(config));
    // DeleteObjects must carry Content-MD5 on many non-AWS servers; newer SDKs send a CRC32 instead.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: unknown };
        if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
          request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
        }
        return next(args);
      },
      { step: 'build', name: 'dvsDeleteObjectsContentMd5' },
    );
    return new S3Backend(spec, client, origin, endpoint ?? `AWS S3${region ? ` (${region})` : ''}`);
  }

  private key(oid: Oid): string {
    return objectKey(this.prefix, oid);
  }

  async stat(oids: readonly Oid[], call: CallOptions): Promise<Array<number | undefined>> {
    return Promise.all(
      oids.map(async (oid) => {
        try {
          const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(oid) }), { abortSignal: call.signal });
          return r.ContentLength ?? 0;
        } catch (err) {
          if (status(err) === 404 && !isNoSuchBucket(err)) return undefined;
          throw this.translate(err, 'checking', oid);
        }
      }),
    );
  }

  async *list(shard: string | undefined, call: CallOptions): AsyncIterable<ListedObject[]> {
    const Prefix = shard !== undefined ? `${this.prefix ? this.prefix + '/' : ''}${shard}/` : this.prefix ? this.prefix + '/' : undefined;
    let ContinuationToken: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken, MaxKeys: this.listPageSize }), { abortSignal: call.signal });
      } catch (err) {
        throw this.translate(err, 'listing');
      }
      const page: ListedObject[] = [];
      for (const c of r.Contents ?? []) {
        const oid = c.Key ? oidOfKey(this.prefix, c.Key) : undefined;
        if (oid) page.push({ oid, size: c.Size ?? 0, modified: c.LastModified });
      }
      yield page;
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async upload(source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.key(source.oid), call);
  }

  async putPackFile(name: string, source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, packFileKey(this.prefix, name), call);
  }

  async readPackFile(name: string, range: ByteRange | undefined, call: CallOptions): Promise<DownloadSource> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: packFileKey(this.prefix, name), Range: range ? `bytes=${range.start}-${range.end - 1}` : undefined }),
        { abortSignal: call.signal },
      );
      return { type: 'stream', stream: r.Body as Readable, size: r.ContentLength };
    } catch (err) {
      if ((status(err) === 404 && !isNoSuchBucket(err)) || status(err) === 416) throw packGone(this.spec.name, name);
      throw this.translate(err, `downloading pack file ${name.slice(0, 12)}…`);
    }
  }

  async *listPackFiles(call: CallOptions): AsyncIterable<PackFileInfo[]> {
    const Prefix = packFileKey(this.prefix, '');
    let ContinuationToken: string | undefined;
    do {
      let r;
      try {
        r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken, MaxKeys: this.listPageSize }), { abortSignal: call.signal });
      } catch (err) {
        throw this.translate(err, 'listing packs');
      }
      const page: PackFileInfo[] = [];
      for (const c of r.Contents ?? []) {
        const name = c.Key?.slice(Prefix.length) ?? '';
        if (isPackFileName(name)) page.push({ name, size: c.Size ?? 0, modified: c.LastModified });
      }
      yield page;
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async deletePackFiles(names: readonly string[], call: CallOptions): Promise<void> {
    return this.deleteKeys(names.map((n) => packFileKey(this.prefix, n)), call);
  }

  private async put(source: UploadSource, Key: string, call: CallOptions): Promise<void> {
    if (source.size <= PART_SIZE) return this.putSmall(source, Key, call);
    return this.putMultipart(source, Key, call);
  }

  private async putSmall(source: UploadSource, Key: string, call: CallOptions): Promise<void> {
    const body = await readSource(source);
    checkSource(source, createHash('sha256').update(body).digest('hex'));
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentLength: body.length,
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ContentType: 'application/octet-stream',
        }),
        { abortSignal: call.signal },
      );
    } catch (err) {
      throw this.translate(err, 'uploading', source.oid);
    }
    call.onBytes?.(body.length);
  }

  private async putMultipart(source: UploadSource, Key: string, call: CallOptions): Promise<void> {
    const partSize = Math.max(PART_SIZE, Math.ceil(source.size / MAX_PARTS));
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: 'application/octet-stream' }), { abortSignal: call.signal });
      uploadId = created.UploadId!;
      const sha = createHash('sha256');
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      const fh = await open(source.path, 'r').catch((err) => {
        throw sourceUnreadable(source, err);
      });
      try {
        const buffer = Buffer.allocUnsafe(partSize);
        for (let offset = 0, n = 1; offset < source.size; offset += partSize, n++) {
          const want = Math.min(partSize, source.size - offset);
          let got = 0;
          while (got < want) {
            const { bytesRead } = await fh.read(buffer, got, want - got, offset + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          const part = buffer.subarray(0, got);
          sha.update(part);
          if (got !== want) break; // shorter than the cache says: caught by the hash check below
          const r = await this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber: n, Body: part, ContentLength: got, ContentMD5: createHash('md5').update(part).digest('base64') }),
            { abortSignal: call.signal },
          );
          parts.push({ PartNumber: n, ETag: r.ETag! });
          call.onBytes?.(got);
        }
      } finally {
        await fh.close();
      }
      // Completing makes the object visible: only when the bytes sent are the object's.
      checkSource(source, sha.digest('hex'));
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), { abortSignal: call.signal });
      uploadId = undefined;
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal: call.signal });
      if (head.ContentLength !== source.size) {
        await this.deleteKeys([Key], call).catch(() => undefined);
        throw new RemoteError('REMOTE_SIZE_MISMATCH', `the remote stored ${head.ContentLength} bytes for ${shortOid(source.oid)} instead of ${source.size}; removed it`, { reason: 'server', retriable: true });
      }
    } catch (err) {
      if (uploadId !== undefined) {
        const abort = new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId });
        await this.client.send(abort).catch(() => undefined);
      }
      if (err instanceof RemoteError) throw err;
      throw this.translate(err, 'uploading', source.oid);
    }
  }

  async download(oid: Oid, call: CallOptions): Promise<DownloadSource> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key(oid) }), { abortSignal: call.signal });
      return { type: 'stream', stream: r.Body as Readable, size: r.ContentLength };
    } catch (err) {
      throw this.translate(err, 'downloading', oid);
    }
  }

  async delete(oids: readonly Oid[], call: CallOptions): Promise<void> {
    return this.deleteKeys(oids.map((oid) => this.key(oid)), call);
  }

  private async deleteKeys(keys: readonly string[], call: CallOptions): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      let r;
      try {
        r = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
          { abortSignal: call.signal },
        );
      } catch (err) {
        throw this.translate(err, 'deleting');
      }
      const failed = (r.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length) {
        const e = failed[0];
        throw new RemoteError('REMOTE_DELETE_FAILED', `Remote "${this.spec.name}" refused to delete ${failed.length} object${failed.length === 1 ? '' : 's'}: ${e.Key}: ${e.Code} ${e.Message ?? ''}`.trim(), {
          reason: 'refused',
          retriable: e.Code === 'InternalError' || e.Code === 'SlowDown',
        });
      }
    }
  }

  private markerKey(): string {
    return `${this.prefix ? this.prefix + '/' : ''}${MARKER_NAME}`;
  }

  async readMarker(call: CallOptions): Promise<string | undefined> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.markerKey() }), { abortSignal: call.signal });
      return (await r.Body!.transformToString()).trim();
    } catch (err) {
      if (status(err) === 404 && !isNoSuchBucket(err)) return undefined;
      throw this.translate(err, 'reading the epoch marker');
    }
  }

  async writeMarker(value: string, call: CallOptions): Promise<void> {
    const body = Buffer.from(value + '\n');
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.markerKey(), Body: body, ContentLength: body.length, ContentMD5: createHash('md5').update(body).digest('base64'), ContentType: 'text/plain' }),
        { abortSignal: call.signal },
      );
    } catch (err) {
      throw this.translate(err, 'writing the epoch marker');
    }
  }

  /**
   * Create-only through `If-None-Match: *` (AWS since 2024; 412 when the key exists). A server that
   * does not implement it (Swift's s3api answers 501) gets LOCKS_UNSUPPORTED: a lock that a second
   * writer could silently overwrite would only pretend.
   */
  readonly locks: LockRecords = {
    create: async (name, body, call) => {
      const bytes = Buffer.from(body);
      try {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: lockKey(this.prefix, name), Body: bytes, ContentLength: bytes.length, ContentMD5: createHash('md5').update(bytes).digest('base64'), ContentType: 'application/json', IfNoneMatch: '*' }),
          { abortSignal: call.signal },
        );
        return true;
      } catch (err) {
        const http = status(err);
        if (http === 412 || (err as { name?: string }).name === 'PreconditionFailed') return false;
        if (http === 501 || (err as { name?: string }).name === 'NotImplemented') {
          throw new RemoteError('LOCKS_UNSUPPORTED', `Remote "${this.spec.name}" (${this.display}) does not support create-only writes (PUT with If-None-Match: *; the server answered ${http ?? 'NotImplemented'}), so it cannot hold locks: two clones could both think they hold one`, {
            reason: 'refused',
            fatal: true,
            hint: 'Keep locks on a remote that supports them (a directory, GCS, Azure, or an S3 service with conditional writes, as AWS S3 has) with: dvs lock -r <remote> <partition>',
            data: { remote: this.spec.name, status: http },
            cause: err,
          });
        }
        throw this.translate(err, 'creating a lock');
      }
    },
    read: async (name, call) => {
      try {
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: lockKey(this.prefix, name) }), { abortSignal: call.signal });
        return await r.Body!.transformToString();
      } catch (err) {
        if (status(err) === 404 && !isNoSuchBucket(err)) return undefined;
        throw this.translate(err, 'reading a lock');
      }
    },
    list: async (call) => {
      const Prefix = lockKey(this.prefix, '');
      const names: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        let r;
        try {
          r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken, MaxKeys: this.listPageSize }), { abortSignal: call.signal });
        } catch (err) {
          throw this.translate(err, 'listing locks');
        }
        for (const o of r.Contents ?? []) {
          const name = (o.Key ?? '').slice(Prefix.length);
          if (LOCK_NAME.test(name)) names.push(name);
        }
        ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return names;
    },
    remove: async (name, call) => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: lockKey(this.prefix, name) }), { abortSignal: call.signal });
      } catch (err) {
        if (status(err) === 404 && !isNoSuchBucket(err)) return;
        throw this.translate(err, 'removing a lock');
      }
    },
  };

  async cleanup(olderThanMs: number, call: CallOptions): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let aborted = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      do {
        const r = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix ? this.prefix + '/' : undefined, KeyMarker, UploadIdMarker }), { abortSignal: call.signal });
        for (const u of r.Uploads ?? []) {
          if (!u.Key || !u.UploadId || !u.Initiated || u.Initiated.getTime() > cutoff || !(oidOfKey(this.prefix, u.Key) || isPackFileName(u.Key.slice(packFileKey(this.prefix, '').length)))) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }), { abortSignal: call.signal });
          aborted++;
        }
        KeyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
        UploadIdMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined;
      } while (KeyMarker);
    } catch (err) {
      // Servers without ListMultipartUploads: nothing to clean that dvs can see.
      if (status(err) === 501 || status(err) === 405) return aborted;
      throw this.translate(err, 'cleaning up');
    }
    return aborted;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Map an SDK error to what the queue acts on, with messages that name the remote and the endpoint. */
  private translate(err: unknown, doing: string, oid?: Oid): RemoteError {
    if (err instanceof RemoteError) return err;
    const e = err as { name?: string; message?: string; Code?: string; code?: string };
    const name = e.name ?? '';
    const code = e.Code ?? name;
    const http = status(err);
    const where = `remote "${this.spec.name}" (${this.display})`;
    const detail = `${code && code !== 'Error' ? code : ''}${http ? ` (HTTP ${http})` : ''}${e.message && e.message !== code && !e.message.startsWith('UnknownError') ? `: ${e.message}` : ''}`.trim().replace(/\.+$/, '');

    if (name === 'CredentialsProviderError' || /Could not load credentials|Resolved credential object is not valid/i.test(e.message ?? '')) {
      return new RemoteError('REMOTE_NO_CREDENTIALS', `No AWS credentials for ${where}: ${e.message} (looked in ${this.credentialOrigin})`, {
        reason: 'auth',
        fatal: true,
        hint: `Set remote.${this.spec.name}.access_key_id and secret_access_key with \`dvs remote modify --local\`, name a profile (remote.${this.spec.name}.profile), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`,
        cause: err,
      });
    }
    if (/Region is missing/i.test(e.message ?? '')) {
      return new RemoteError('REMOTE_CONFIG', `No region for ${where}`, { reason: 'auth', fatal: true, hint: `dvs remote modify ${this.spec.name} region <region>`, cause: err });
    }
    if (http === 401 || http === 403 || ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken', 'InvalidClientTokenId', 'AuthorizationHeaderMalformed'].includes(code)) {
      return new RemoteError('REMOTE_AUTH', `${cap(where)} refused the credentials while ${doing}: ${detail}. Credentials used: ${this.credentialOrigin}`, {
        reason: 'auth',
        fatal: true,
        hint: `Check the key and secret (or profile) for this endpoint (${this.endpoint}), and that they may read and write s3://${this.bucket}/${this.prefix}.`,
        data: { remote: this.spec.name, endpoint: this.endpoint, credentials: this.credentialOrigin },
        cause: err,
      });
    }
    if (isNoSuchBucket(err)) {
      return new RemoteError('REMOTE_NO_BUCKET', `The bucket "${this.bucket}" of ${where} does not exist`, {
        reason: 'no-bucket',
        fatal: true,
        hint: `Create the bucket, or fix the URL: dvs remote add --force ${this.spec.name} s3://<bucket>/<prefix>`,
        data: { remote: this.spec.name, bucket: this.bucket },
        cause: err,
      });
    }
    return translateFailure({
      remote: this.spec.name,
      endpoint: this.endpoint,
      where,
      doing,
      oid,
      detail,
      notFound: http === 404 || code === 'NoSuchKey' || code === 'NotFound',
      connectTimeout: name === 'TimeoutError' && /establish a connection/.test(e.message ?? ''),
      network: name === 'TimeoutError' || name === 'AbortError',
      throttled: http === 429 || code === 'SlowDown' || code === 'Throttling',
      serverError: (http !== undefined && http >= 500) || ['InternalError', 'ServiceUnavailable', 'RequestTimeout', 'BadDigest', 'XAmzContentSHA256Mismatch'].includes(code),
      cause: err,
    });
  }
}



function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNoSuchBucket(err: unknown): boolean {
  const e = err as { name?: string; Code?: string };
  return e?.name === 'NoSuchBucket' || e?.Code === 'NoSuchBucket';
}

const NODE_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * The SDK's client constructor prints a NodeVersionSupportWarning on Node 20, once per process: on
 * every dvs command that touches S3. dvs supports Node 20.19+ and tells its users once, in its own
 * words (`dvs --version`, README: Requirements). The SDK's own switch is set only while the client is
 * made, so the commands dvs runs (transform, run) see the environment the user gave, and a user who
 * set it to anything keeps that choice.
 */
function withoutNodeVersionWarning<T>(make: () => T): T {
  const before = process.env[NODE_WARNING_SWITCH];
  process.env[NODE_WARNING_SWITCH] ??= 'true';
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env[NODE_WARNING_SWITCH];
  }
}
