// A real S3 server for tests and the benchmark: OpenStack Swift with its s3api middleware, started
// on 127.0.0.1 by test/servers/swift/start.sh (installed by test/servers/swift/install.sh).
//
//   import { startSwift, makeS3Client, swiftAvailable } from './s3.mjs';
//   const server = await startSwift();        // ~2 s idle, up to ~9 s on a busy 2-core machine
//   const s3 = await makeS3Client(server);    // S3Client configured for Swift (see below)
//   await server.stopProxy(); await server.startProxy();   // fault tests: the proxy dies/returns
//   await server.stop();
//
// Client configuration Swift needs (makeS3Client applies it; the S3 backend must offer the same as
// remote options for non-AWS endpoints):
// - forcePathStyle: true; explicit credentials (access key `test:tester`, secret `testing`);
//   region us-east-1 (Swift's s3api `location`; a SigV4 scope with another region is rejected).
// - requestChecksumCalculation / responseChecksumValidation: 'WHEN_REQUIRED'. Otherwise the SDK
//   sends aws-chunked bodies with CRC32 trailers, which Swift answers with 501 NotImplemented.
// - DeleteObjects: Swift requires Content-MD5, which new SDKs no longer send; the middleware
//   below adds it (build step, before signing).
// - Set AWS_EC2_METADATA_DISABLED=true in tests: with explicit credentials nothing should probe
//   the instance metadata address, and this guarantees it.
// - Multipart parts must be >= 5 MiB except the last (s3api min_segment_size, as AWS); at most
//   1000 keys per ListObjectsV2 page and per DeleteObjects call. Conditional PUT (IfNoneMatch: '*')
//   is not supported by Swift 2.30.
//
// What @aws-sdk/client-s3 3.1175 throws against this server (measured; servers.test.ts pins the
// starred ones). Branch on err.name and err.$metadata?.httpStatusCode, never on messages.
// * Wrong secret: name 'SignatureDoesNotMatch', $metadata.httpStatusCode 403. On HEAD (no error
//   body) the name is 'Unknown', still 403.
// * Unknown access key: also 'SignatureDoesNotMatch' 403 with tempauth (AWS says InvalidAccessKeyId).
//   Region other than us-east-1: 'AuthorizationHeaderMalformed', 400.
// * HeadObject on a missing key: name 'NotFound', 404 (also HeadBucket on a missing bucket).
//   GetObject on a missing key: 'NoSuchKey', 404. Missing bucket on GET/List: 'NoSuchBucket', 404.
// * CreateBucket twice: 'BucketAlreadyOwnedByYou', 409. Wrong Content-MD5: 'BadDigest', 400.
//   PutObject with IfNoneMatch '*': 'NotImplemented', 501 (Swift 2.30 has no conditional PUT).
// * DeleteObjects of a key that does not exist: listed under Deleted (S3 semantics), no error.
// * Unreachable endpoint (nothing listening): a plain Error, name 'Error', code 'ECONNREFUSED', no
//   $metadata.httpStatusCode; $metadata.attempts 3 with the default retry strategy (~0.3 s).
// - Proxy killed mid-request (maxAttempts 1): name 'TimeoutError' (sic), code 'ECONNRESET',
//   message 'read ECONNRESET'; with retries the next attempts get ECONNREFUSED while it is down.
// * Range GET: 206, ContentRange 'bytes A-B/SIZE'. Multipart ETag: '"<md5 of part md5s>-N"'.
// Node 20: the SDK prints a NodeVersionSupportWarning (future releases need Node 22); harmless.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const START = join(HERE, 'swift', 'start.sh');
const STOP = join(HERE, 'swift', 'stop.sh');

export const SWIFT_ACCESS_KEY = 'test:tester';
export const SWIFT_SECRET_KEY = 'testing';
export const SWIFT_REGION = 'us-east-1';

/** Are Swift and memcached installed (test/servers/swift/install.sh)? */
export function swiftAvailable() {
  return ['/usr/bin/python3', '/usr/bin/swift-proxy-server', '/usr/bin/memcached'].every((p) => existsSync(p));
}

/** Why S3 tests are skipped, for `describe.skipIf(!swiftAvailable())` messages. */
export const SWIFT_MISSING =
  'OpenStack Swift is not installed: run `bash test/servers/swift/install.sh` (apt, as root)';

function run(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

const lastLine = (s) => s.trim().split('\n').pop().trim();

/**
 * Start Swift (memcached, account, container, object servers and the proxy with s3api).
 * @param {{ workdir?: string, port?: number, keep?: boolean }} [options] workdir defaults to a new
 *   temp dir, removed by stop() unless keep; port is the proxy's (default: a free one).
 */
export async function startSwift({ workdir, port, keep = false } = {}) {
  if (!swiftAvailable()) throw new Error(SWIFT_MISSING);
  const made = !workdir;
  const dir = workdir ?? mkdtempSync(join(tmpdir(), 'dvs-swift-'));
  // SWIFT_WATCH_PID: the servers go away with this process, even if stop() is never called.
  const env = { SWIFT_WATCH_PID: String(process.pid) };
  const args = [dir];
  if (port) args.push(String(port));
  let stdout;
  try {
    ({ stdout } = await run(START, args, env));
  } catch (err) {
    await run(STOP, [dir]).catch(() => {}); // whatever did start
    if (made && !keep) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const endpoint = lastLine(stdout);
  const pidOf = (name) => {
    const line = readFileSync(join(dir, 'pids'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : undefined;
  };
  let stopped = false;
  return {
    endpoint,
    accessKeyId: SWIFT_ACCESS_KEY,
    secretAccessKey: SWIFT_SECRET_KEY,
    region: SWIFT_REGION,
    workdir: dir,
    port: Number(new URL(endpoint).port),
    /** Stop every server (and remove the temp workdir this call made). */
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(STOP, [dir]);
      if (made && !keep) rmSync(dir, { recursive: true, force: true });
    },
    /**
     * Stop only the proxy: SIGKILL by default (a crash: open connections are reset), or
     * { signal: 'SIGTERM' }. Account/container/object servers and the data stay.
     */
    async stopProxy({ signal = 'SIGKILL' } = {}) {
      await run(STOP, signal === 'SIGKILL' ? [dir, '--kill', 'proxy'] : [dir, 'proxy']);
    },
    /** Start the proxy again on the same port; resolves once S3 requests succeed. */
    async startProxy() {
      await run(START, [dir, '--proxy'], env);
    },
    /** Freeze / thaw the proxy (SIGSTOP / SIGCONT): connections hang, for timeout tests. */
    pauseProxy() {
      process.kill(pidOf('proxy'), 'SIGSTOP');
    },
    resumeProxy() {
      process.kill(pidOf('proxy'), 'SIGCONT');
    },
    /** Server logs are in <workdir>/<name>.log (SWIFT_LOG_LEVEL=INFO logs every request). */
    logFile: (name = 'proxy') => join(dir, `${name}.log`),
  };
}

/**
 * Adds Content-MD5 to DeleteObjects requests (Swift rejects them without it; the SDK stopped
 * sending it when it moved to flexible checksums). Works on any S3Client.
 */
export function addDeleteObjectsContentMd5(client) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const req = args.request;
      if (context.commandName === 'DeleteObjectsCommand' && req && req.body != null && req.headers) {
        const has = Object.keys(req.headers).some((h) => h.toLowerCase() === 'content-md5');
        if (!has) req.headers['content-md5'] = createHash('md5').update(req.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'dvsDeleteObjectsContentMd5', override: true },
  );
  return client;
}

/**
 * An S3Client for `server` (from startSwift, or any { endpoint, accessKeyId, secretAccessKey,
 * region }). `extra` is merged into the client config, e.g. { maxAttempts: 1 }.
 */
export async function makeS3Client(server, extra = {}) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: server.endpoint,
    region: server.region ?? SWIFT_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...extra,
  });
  return addDeleteObjectsContentMd5(client);
}
