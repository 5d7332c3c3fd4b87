import { DvsError, type DvsErrorOptions, type ErrorCode } from '../errors.js';

/**
 * What went wrong talking to a remote, in terms the transfer queue acts on. Backends translate their
 * SDK's errors into these, so the queue never inspects AWS or Google error shapes.
 *
 * - `retriable`: the same request may succeed later (network blip, 5xx, 429, timeout).
 * - `fatal`: no other request to this remote will do better (bad credentials, missing bucket, the
 *   endpoint is unreachable); the queue stops everything and the command fails with this error.
 * Errors that are neither concern one object (it is missing, its bytes are wrong) and go to the tally.
 */
export type RemoteReason =
  | 'not-found' // the object is not on the remote
  | 'corrupt' // the remote's bytes do not hash to the object's name
  | 'source-corrupt' // the local copy being uploaded does not hash to its name
  | 'auth' // credentials missing, refused or not allowed
  | 'no-bucket' // the bucket or the remote directory does not exist
  | 'unreachable' // cannot connect (refused, DNS, connect timeout)
  | 'connect-timeout' // the connection could not be made within the connect timeout
  | 'timeout' // a request stalled
  | 'throttled' // 429, SlowDown
  | 'server' // 5xx, reset connections
  | 'refused' // another 4xx
  | 'aborted'; // cancelled because another request failed fatally

export interface RemoteErrorOptions extends DvsErrorOptions {
  reason: RemoteReason;
  retriable?: boolean;
  fatal?: boolean;
}

export class RemoteError extends DvsError {
  readonly reason: RemoteReason;
  readonly retriable: boolean;
  readonly fatal: boolean;

  constructor(code: ErrorCode, message: string, options: RemoteErrorOptions) {
    super(code, message, options);
    this.name = 'RemoteError';
    this.reason = options.reason;
    this.retriable = options.retriable ?? false;
    this.fatal = options.fatal ?? false;
  }
}

export function isRemoteError(err: unknown): err is RemoteError {
  return err instanceof RemoteError;
}

/** Node's network error codes that mean "could not reach the server at all". */
export const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
/** Network errors in the middle of a request: retry. */
export const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'EPROTO']);

/** The errno-like code of an error or of its causes (SDKs wrap Node's errors). */
export function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || TRANSIENT_CODES.has(code))) return code;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && (UNREACHABLE_CODES.has(errno) || TRANSIENT_CODES.has(errno))) return errno;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function abortedError(): RemoteError {
  return new RemoteError('REMOTE_ABORTED', 'cancelled: another request to the remote failed', { reason: 'aborted' });
}
