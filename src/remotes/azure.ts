import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import pLimit from 'p-limit';
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlobItem,
  type BlockBlobClient,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { shortOid, type Oid } from '../objects/oid.js';
import { RemoteError } from './errors.js';
import { cap, checkSource, packGone, probeEndpoint, readSource, sourceUnreadable, translateFailure } from './common.js';
import { isPackFileName, LOCK_NAME, MARKER_NAME, lockKey, objectKey, packFileKey, type LockRecords, oidOfKey, type ByteRange, type CallOptions, type DownloadSource, type ListedObject, type PackFileInfo, type RemoteBackend, type RemoteSpec, type UploadSource } from './types.js';

/**
 * Azure Blob Storage, through @azure/storage-blob. Objects up to SINGLE_MAX go up in one Put Blob that
 * carries their MD5 (the service refuses bytes that arrive altered); bigger ones as block blobs: each
 * block staged with its own MD5 while the source is hashed, and the block list committed (which is what
 * makes the blob visible) only once the whole source hashed to its oid. Staged blocks that are never
 * committed stay invisible and the service discards them after a week, so a killed upload leaves
 * nothing to clean up. The SDK does no retries of its own: the transfer queue does, for every backend.
 * Packs and indexes (docs/remote-format.md) are blobs under `<prefix>/packs/`, put the same way; a
 * ranged read is a Get Blob with x-ms-range.
 *
 * Credentials, first found wins: remote.<name>.connection_string, account_key (with account_name),
 * sas_token (config.local or the user config), then AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY
 * (with AZURE_STORAGE_ACCOUNT) and AZURE_STORAGE_SAS_TOKEN from the environment.
 */
const SINGLE_MAX = 16 << 20;
const BLOCK_SIZE = 16 << 20;
const MAX_BLOCKS = 50_000;

/** Where the service is and how requests to it are authorised. */
interface Access {
  endpoint: string;
  account: string | undefined;
  key?: string;
  sas?: string;
  /** Where the credentials came from, for messages. */
  origin: string;
}

export class AzureBackend implements RemoteBackend {
  readonly scheme = 'azure' as const;
  readonly display: string;
  readonly defaultJobs = 16;
  readonly statBatchSize = 1;
  readonly listPageSize = 1000;
  readonly network = true;
  readonly serviceUrl: string;
  private readonly prefix: string;
  private readonly containerName: string;

  private constructor(
    private readonly spec: RemoteSpec,
    private readonly container: ContainerClient,
    private readonly access: Access,
  ) {
    if (spec.location.scheme !== 'azure') throw new Error('AzureBackend needs an azure location');
    this.prefix = spec.location.prefix;
    this.containerName = spec.location.container;
    this.display = `azure://${this.containerName}/${this.prefix} at ${access.endpoint}`;
    this.serviceUrl = access.endpoint;
  }

  static async open(spec: RemoteSpec): Promise<AzureBackend> {
    if (spec.location.scheme !== 'azure') throw new Error('AzureBackend needs an azure location');
    const access = resolveAccess(spec);
    const options: StoragePipelineOptions = {
      retryOptions: { maxTries: 1 },
      keepAliveOptions: { enable: true },
      userAgentOptions: { userAgentPrefix: 'dvs' },
    };
    const credential = access.key !== undefined && access.account !== undefined ? new StorageSharedKeyCredential(access.account, access.key) : new AnonymousCredential();
    const url = access.sas ? `${access.endpoint}?${access.sas.replace(/^\?/, '')}` : access.endpoint;
    // The HTTP client has no connect timeout: a dead endpoint would hang until the stall timeout.
    await probeEndpoint(spec.name, access.endpoint);
    const service = new BlobServiceClient(url, credential, options);
    return new AzureBackend(spec, service.getContainerClient(spec.location.container), access);
  }

  private blob(oid: Oid): BlockBlobClient {
    return this.container.getBlockBlobClient(objectKey(this.prefix, oid));
  }

  async stat(oids: readonly Oid[], call: CallOptions): Promise<Array<number | undefined>> {
    return Promise.all(
      oids.map(async (oid) => {
        try {
          const p = await this.blob(oid).getProperties({ abortSignal: call.signal });
          return p.contentLength ?? 0;
        } catch (err) {
          if (status(err) === 404 && !isNoContainer(err)) return undefined;
          throw this.translate(err, 'checking', oid);
        }
      }),
    );
  }

  async *list(shard: string | undefined, call: CallOptions): AsyncIterable<ListedObject[]> {
    const prefix = shard !== undefined ? `${this.prefix ? this.prefix + '/' : ''}${shard}/` : this.prefix ? this.prefix + '/' : undefined;
    for await (const items of this.pages(prefix, call, 'listing')) {
      const page: ListedObject[] = [];
      for (const item of items) {
        const oid = oidOfKey(this.prefix, item.name);
        if (oid) page.push({ oid, size: item.properties.contentLength ?? 0, modified: item.properties.lastModified });
      }
      yield page;
    }
  }

  /** The blobs under `prefix`, a listing request (up to listPageSize blobs) at a time. */
  private async *pages(prefix: string | undefined, call: CallOptions, doing: string): AsyncIterable<BlobItem[]> {
    const pages = this.container.listBlobsFlat({ prefix, abortSignal: call.signal }).byPage({ maxPageSize: this.listPageSize });
    while (true) {
      let next;
      try {
        next = await pages.next();
      } catch (err) {
        throw this.translate(err, doing);
      }
      if (next.done) return;
      yield next.value.segment.blobItems;
    }
  }

  async *listPackFiles(call: CallOptions): AsyncIterable<PackFileInfo[]> {
    const prefix = packFileKey(this.prefix, '');
    for await (const items of this.pages(prefix, call, 'listing packs')) {
      const page: PackFileInfo[] = [];
      for (const item of items) {
        const name = item.name.slice(prefix.length);
        if (isPackFileName(name)) page.push({ name, size: item.properties.contentLength ?? 0, modified: item.properties.lastModified });
      }
      yield page;
    }
  }

  async upload(source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.blob(source.oid), call);
  }

  /** A pack or index goes up exactly as a loose object does: verified against its name's hash before it is visible. */
  async putPackFile(name: string, source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.container.getBlockBlobClient(packFileKey(this.prefix, name)), call);
  }

  private async put(source: UploadSource, blob: BlockBlobClient, call: CallOptions): Promise<void> {
    try {
      if (source.size <= SINGLE_MAX) await this.putSingle(source, blob, call);
      else await this.putBlocks(source, blob, call);
    } catch (err) {
      throw this.translate(err, 'uploading', source.oid);
    }
  }

  private async putSingle(source: UploadSource, blob: BlockBlobClient, call: CallOptions): Promise<void> {
    const body = await readSource(source);
    checkSource(source, createHash('sha256').update(body).digest('hex'));
    // x-ms-blob-content-md5 on a Put Blob is checked by the service: altered bytes are refused.
    const md5 = createHash('md5').update(body).digest();
    await blob.upload(body, body.length, {
      abortSignal: call.signal,
      blobHTTPHeaders: { blobContentType: 'application/octet-stream', blobContentMD5: md5 },
    });
    call.onBytes?.(body.length);
  }

  private async putBlocks(source: UploadSource, blob: BlockBlobClient, call: CallOptions): Promise<void> {
    const blockSize = Math.max(BLOCK_SIZE, Math.ceil(source.size / MAX_BLOCKS));
    const sha = createHash('sha256');
    const ids: string[] = [];
    const fh = await open(source.path, 'r').catch((err) => {
      throw sourceUnreadable(source, err);
    });
    try {
      const buffer = Buffer.allocUnsafe(blockSize);
      for (let offset = 0; offset < source.size; offset += blockSize) {
        const want = Math.min(blockSize, source.size - offset);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buffer, got, want - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        const block = buffer.subarray(0, got);
        sha.update(block);
        if (got !== want) break; // shorter than the cache says: caught by the hash check below
        // Block ids of one blob must all have the same length; a retried upload stages the same ids again.
        const id = Buffer.from(`dvs-block-${String(ids.length).padStart(6, '0')}`).toString('base64');
        let reported = 0;
        await blob.stageBlock(id, block, got, {
          abortSignal: call.signal,
          transactionalContentMD5: createHash('md5').update(block).digest(),
          // Progress inside a block, so that a slow link is not taken for a stalled one.
          onProgress: (p) => {
            call.onBytes?.(p.loadedBytes - reported);
            reported = p.loadedBytes;
          },
        });
        if (reported < got) call.onBytes?.(got - reported);
        ids.push(id);
      }
    } finally {
      await fh.close();
    }
    // Committing the block list makes the blob visible: only when the bytes sent are the object's.
    checkSource(source, sha.digest('hex'));
    await blob.commitBlockList(ids, { abortSignal: call.signal, blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
    const props = await blob.getProperties({ abortSignal: call.signal });
    if (props.contentLength !== source.size) {
      await blob.deleteIfExists().catch(() => undefined);
      throw new RemoteError('REMOTE_SIZE_MISMATCH', `the remote stored ${props.contentLength} bytes for ${shortOid(source.oid)} instead of ${source.size}; removed it`, { reason: 'server', retriable: true });
    }
  }

  async download(oid: Oid, call: CallOptions): Promise<DownloadSource> {
    return this.read(this.blob(oid), undefined, call, (err) => this.translate(err, 'downloading', oid));
  }

  async readPackFile(name: string, range: ByteRange | undefined, call: CallOptions): Promise<DownloadSource> {
    // A ranged Get Blob (x-ms-range); 416 means the range is past the end: not the pack its index names.
    return this.read(this.container.getBlockBlobClient(packFileKey(this.prefix, name)), range, call, (err) =>
      (status(err) === 404 && !isNoContainer(err)) || status(err) === 416 ? packGone(this.spec.name, name) : this.translate(err, `downloading pack file ${name.slice(0, 12)}…`),
    );
  }

  /** A blob's bytes (or `range` of them) as a stream; errors before and in the middle of the body go through `fail`. */
  private async read(blob: BlockBlobClient, range: ByteRange | undefined, call: CallOptions, fail: (err: unknown) => Error): Promise<DownloadSource> {
    let response;
    try {
      // maxRetryRequests 0: a broken body fails the attempt, and the queue retries it whole.
      response = await blob.download(range?.start ?? 0, range ? range.end - range.start : undefined, { abortSignal: call.signal, maxRetryRequests: 0 });
    } catch (err) {
      throw fail(err);
    }
    const body = response.readableStreamBody as Readable;
    const translated = new Transform({
      transform(chunk, _enc, cb) {
        cb(null, chunk);
      },
    });
    body.on('error', (err) => translated.destroy(fail(err)));
    translated.on('close', () => body.destroy());
    return { type: 'stream', stream: body.pipe(translated), size: response.contentLength };
  }

  async delete(oids: readonly Oid[], call: CallOptions): Promise<void> {
    return this.deleteBlobs(oids.map((oid) => objectKey(this.prefix, oid)), call, 'deleting');
  }

  async deletePackFiles(names: readonly string[], call: CallOptions): Promise<void> {
    return this.deleteBlobs(names.map((name) => packFileKey(this.prefix, name)), call, 'deleting pack files');
  }

  private async deleteBlobs(keys: readonly string[], call: CallOptions, doing: string): Promise<void> {
    // One request per blob, in parallel, like GCS (see docs/remotes.md, "Decisions").
    const limit = pLimit(this.defaultJobs);
    await Promise.all(
      keys.map((key) =>
        limit(async () => {
          try {
            await this.container.getBlockBlobClient(key).deleteIfExists({ abortSignal: call.signal });
          } catch (err) {
            throw this.translate(err, doing, oidOfKey(this.prefix, key));
          }
        }),
      ),
    );
  }

  private marker(): BlockBlobClient {
    return this.container.getBlockBlobClient(`${this.prefix ? this.prefix + '/' : ''}${MARKER_NAME}`);
  }

  async readMarker(call: CallOptions): Promise<string | undefined> {
    try {
      const r = await this.marker().download(0, undefined, { abortSignal: call.signal, maxRetryRequests: 0 });
      const chunks: Buffer[] = [];
      for await (const chunk of r.readableStreamBody as Readable) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8').trim();
    } catch (err) {
      if (status(err) === 404 && !isNoContainer(err)) return undefined;
      throw this.translate(err, 'reading the epoch marker');
    }
  }

  async writeMarker(value: string, call: CallOptions): Promise<void> {
    const body = Buffer.from(value + '\n');
    try {
      await this.marker().upload(body, body.length, {
        abortSignal: call.signal,
        blobHTTPHeaders: { blobContentType: 'text/plain', blobContentMD5: createHash('md5').update(body).digest() },
      });
    } catch (err) {
      throw this.translate(err, 'writing the epoch marker');
    }
  }

  /** Create-only through Put Blob with `If-None-Match: *`: the service answers 409 when the blob exists. */
  readonly locks: LockRecords = {
    create: async (name, body, call) => {
      const bytes = Buffer.from(body);
      try {
        await this.container.getBlockBlobClient(lockKey(this.prefix, name)).upload(bytes, bytes.length, {
          abortSignal: call.signal,
          conditions: { ifNoneMatch: '*' },
          blobHTTPHeaders: { blobContentType: 'application/json', blobContentMD5: createHash('md5').update(bytes).digest() },
        });
        return true;
      } catch (err) {
        if (status(err) === 409 || status(err) === 412) return false;
        throw this.translate(err, 'creating a lock');
      }
    },
    read: async (name, call) => {
      try {
        const r = await this.container.getBlockBlobClient(lockKey(this.prefix, name)).download(0, undefined, { abortSignal: call.signal, maxRetryRequests: 0 });
        const chunks: Buffer[] = [];
        for await (const chunk of r.readableStreamBody as Readable) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      } catch (err) {
        if (status(err) === 404 && !isNoContainer(err)) return undefined;
        throw this.translate(err, 'reading a lock');
      }
    },
    list: async (call) => {
      const prefix = lockKey(this.prefix, '');
      const names: string[] = [];
      for await (const items of this.pages(prefix, call, 'listing locks')) {
        for (const b of items) {
          const name = b.name.slice(prefix.length);
          if (LOCK_NAME.test(name)) names.push(name);
        }
      }
      return names;
    },
    remove: async (name, call) => {
      try {
        await this.container.getBlockBlobClient(lockKey(this.prefix, name)).deleteIfExists({ abortSignal: call.signal });
      } catch (err) {
        throw this.translate(err, 'removing a lock');
      }
    },
  };

  async close(): Promise<void> {}

  /** Map an SDK error to what the queue acts on, with messages that name the remote and the endpoint. */
  private translate(err: unknown, doing: string, oid?: Oid): RemoteError {
    if (err instanceof RemoteError) return err;
    const e = err as { name?: string; message?: string; code?: string };
    const http = status(err);
    const code = errorCode(err);
    const where = `remote "${this.spec.name}" (${this.display})`;
    const message = (e.message ?? String(err)).split('\n')[0].replace(/\.+$/, '');
    const detail = `${code ?? ''}${http ? ` (HTTP ${http})` : ''}${message && message !== code ? `: ${message}` : ''}`.trim();
    if (http === 401 || http === 403 || (code !== undefined && /^(AuthenticationFailed|AuthorizationFailure|AuthorizationPermissionMismatch|AuthorizationResourceTypeMismatch|InvalidAuthenticationInfo|NoAuthenticationInformation)$/.test(code))) {
      return new RemoteError('REMOTE_AUTH', `${cap(where)} refused the credentials while ${doing}: ${detail}. Credentials used: ${this.access.origin}`, {
        reason: 'auth',
        fatal: true,
        hint: `Check the account key, SAS token or connection string for ${this.access.endpoint} (a SAS must allow read, write, delete and list on the container), and set it with \`dvs remote modify --local ${this.spec.name} <account_key|sas_token|connection_string> <value>\`.`,
        data: { remote: this.spec.name, endpoint: this.access.endpoint, credentials: this.access.origin },
        cause: err,
      });
    }
    if (isNoContainer(err)) {
      return new RemoteError('REMOTE_NO_BUCKET', `The container "${this.containerName}" of ${where} does not exist`, {
        reason: 'no-bucket',
        fatal: true,
        hint: `Create the container (az storage container create --name ${this.containerName}), or fix the URL: dvs remote add --force ${this.spec.name} azure://<container>/<prefix>`,
        data: { remote: this.spec.name, bucket: this.containerName },
        cause: err,
      });
    }
    return translateFailure({
      remote: this.spec.name,
      endpoint: this.access.endpoint,
      where,
      doing,
      oid,
      detail,
      notFound: http === 404,
      connectTimeout: false,
      network: e.name === 'AbortError' || code === 'REQUEST_SEND_ERROR' || /socket hang up|network|timed? ?out/i.test(message),
      throttled: http === 429 || code === 'ServerBusy',
      // An MD5 mismatch means the bytes were altered on the way: sending them again may well succeed.
      serverError: (http !== undefined && http >= 500) || code === 'Md5Mismatch' || /contentMD5 doesn't match|MD5.*(mismatch|match)/i.test(message),
      cause: err,
    });
  }
}

function status(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The service's error code: in the body, or (for HEAD requests, which have none) the x-ms-error-code header. */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; details?: { errorCode?: unknown } };
  const code = e?.details?.errorCode ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

function isNoContainer(err: unknown): boolean {
  return status(err) === 404 && errorCode(err) === 'ContainerNotFound';
}

/** `key=value;…` as in the Azure portal's connection strings. */
function parseConnectionString(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

// The storage emulator's well-known development account (published by Microsoft; not a secret).
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** The endpoint, account and credentials of a remote, from its options, else the environment. */
function resolveAccess(spec: RemoteSpec): Access {
  const o = spec.options;
  const env = process.env;
  const option = (name: string) => `${spec.sources[name as keyof RemoteSpec['sources']]} (remote.${spec.name}.${name})`;
  let account = o.account_name ?? (env.AZURE_STORAGE_ACCOUNT || undefined);
  let accountFrom = o.account_name !== undefined ? option('account_name') : 'AZURE_STORAGE_ACCOUNT';
  let key: string | undefined;
  let sas: string | undefined;
  let origin: string;
  let blobEndpoint: string | undefined;
  const fromConnectionString = (text: string, where: string) => {
    const cs = parseConnectionString(text);
    if (cs.usedevelopmentstorage === 'true') {
      cs.accountname ??= DEV_ACCOUNT;
      cs.accountkey ??= DEV_KEY;
      cs.blobendpoint ??= `http://127.0.0.1:10000/${DEV_ACCOUNT}`;
    }
    if (cs.accountname) [account, accountFrom] = [cs.accountname, where];
    key = cs.accountkey;
    sas = cs.sharedaccesssignature;
    blobEndpoint = cs.blobendpoint ?? (account ? `${cs.defaultendpointsprotocol ?? 'https'}://${account}.blob.${cs.endpointsuffix ?? 'core.windows.net'}` : undefined);
    if (key === undefined && sas === undefined) throw noCredentials(spec, `the connection string in ${where} has neither AccountKey nor SharedAccessSignature`);
    origin = `the connection string in ${where}${key !== undefined ? ` (account key of "${account}")` : ' (shared access signature)'}`;
  };
  if (o.connection_string !== undefined) fromConnectionString(o.connection_string, option('connection_string'));
  else if (o.account_key !== undefined) [key, origin] = [o.account_key, `the account key in ${option('account_key')}`];
  else if (o.sas_token !== undefined) [sas, origin] = [o.sas_token, `the SAS token in ${option('sas_token')}`];
  else if (env.AZURE_STORAGE_CONNECTION_STRING) fromConnectionString(env.AZURE_STORAGE_CONNECTION_STRING, 'AZURE_STORAGE_CONNECTION_STRING');
  else if (env.AZURE_STORAGE_KEY) [key, origin] = [env.AZURE_STORAGE_KEY, 'the account key in AZURE_STORAGE_KEY'];
  else if (env.AZURE_STORAGE_SAS_TOKEN) [sas, origin] = [env.AZURE_STORAGE_SAS_TOKEN, 'the SAS token in AZURE_STORAGE_SAS_TOKEN'];
  else throw noCredentials(spec, 'none of connection_string, account_key, sas_token or the AZURE_STORAGE_* variables is set');
  if (account !== undefined && !/^[a-z0-9]{3,24}$/.test(account)) {
    throw new RemoteError('INVALID_CONFIG_VALUE', `Remote "${spec.name}": "${account}" (from ${accountFrom}) is not a storage account name (3-24 lowercase letters and digits)`, { reason: 'refused', fatal: true });
  }
  const endpoint = (o.endpoint ?? blobEndpoint ?? (account ? `https://${account}.blob.core.windows.net` : undefined))?.replace(/\/+$/, '');
  if (endpoint === undefined || (key !== undefined && account === undefined)) {
    throw new RemoteError('REMOTE_CONFIG', `Remote "${spec.name}" names no storage account`, {
      reason: 'auth',
      fatal: true,
      hint: `dvs remote modify ${spec.name} account_name <account>  (or export AZURE_STORAGE_ACCOUNT)`,
    });
  }
  // A SAS token is a bearer credential: sending it to an endpoint that a cloned repository chose would
  // hand it to whoever runs that endpoint. Account keys never leave this machine (requests are signed).
  if (sas !== undefined && o.endpoint !== undefined && /(^|:)\.dvs\/config$/.test(spec.sources.endpoint ?? '')) {
    throw new RemoteError('UNCONFIRMED_ENDPOINT', `Remote "${spec.name}": the committed .dvs/config sets its endpoint to ${o.endpoint}, and dvs sends a SAS token only to an endpoint this machine's config names`, {
      reason: 'auth',
      fatal: true,
      hint: `If you trust it, confirm it for this clone: dvs remote modify --local ${spec.name} endpoint ${o.endpoint}`,
      data: { remote: spec.name, endpoint: o.endpoint },
    });
  }
  return { endpoint, account, key, sas, origin: origin! };
}

function noCredentials(spec: RemoteSpec, why: string): RemoteError {
  return new RemoteError('REMOTE_NO_CREDENTIALS', `No Azure credentials for remote "${spec.name}": ${why}`, {
    reason: 'auth',
    fatal: true,
    hint: `Set one in the ignored local file, e.g. dvs remote modify --local ${spec.name} connection_string '<connection string>' (or account_key, or sas_token), or export AZURE_STORAGE_CONNECTION_STRING.`,
    data: { remote: spec.name },
  });
}
