import { setMaxListeners } from 'node:events';
import pLimit from 'p-limit';
import { DvsError, isDvsError } from '../errors.js';
import { ProgressCounter, type ProgressListener, type ProgressPhase } from '../events.js';
import { abortedError, isRemoteError, networkCode, RemoteError } from '../remotes/errors.js';
import type { CallOptions } from '../remotes/types.js';

/**
 * The transfer queue: every request dvs makes to a remote goes through it. It runs items with bounded
 * concurrency, dedupes them by key, retries retriable failures with exponential backoff and jitter,
 * abandons attempts that stall, reports progress (items and bytes), keeps going past items that fail
 * and returns the tally of failures once at the end. A fatal error (bad credentials, unreachable
 * endpoint) stops every other request and is thrown, once.
 */
export interface QueueSettings {
  /** Requests in flight at once. */
  jobs: number;
  /** Retries of a retriable failure (transfer.retries). */
  retries: number;
  /** An attempt that moves no bytes for this long is abandoned and retried (0: no limit). */
  stallMs: number;
  onProgress?: ProgressListener;
  /** First backoff delay in ms; doubles per retry, capped, with jitter. */
  backoffMs?: number;
  /** What the requests go to, for messages the queue makes itself: `remote "origin" (s3://…)`. */
  label?: string;
}

export interface QueueItem<T> {
  /** Dedupe key (the oid). */
  key: string;
  /** Bytes this item moves, for progress. */
  size: number;
  /** Files this item stands for (a batch of existence checks counts each); default 1. */
  count?: number;
  value: T;
}

export interface QueueFailure<T> {
  item: QueueItem<T>;
  error: DvsError;
}

export interface QueueResult<T, R> {
  done: Array<{ item: QueueItem<T>; result: R }>;
  failed: Array<QueueFailure<T>>;
}

const BACKOFF_CAP_MS = 5_000;

export async function processQueue<T, R>(
  phase: ProgressPhase,
  items: Array<QueueItem<T>>,
  work: (value: T, call: CallOptions) => Promise<R>,
  settings: QueueSettings,
  /** Called as each item succeeds, so that what was done is kept even if a fatal error follows. */
  onDone?: (item: QueueItem<T>, result: R) => void,
): Promise<QueueResult<T, R>> {
  const seen = new Set<string>();
  const unique = items.filter((i) => (seen.has(i.key) ? false : (seen.add(i.key), true)));
  let totalBytes = 0;
  let totalCount = 0;
  for (const i of unique) {
    totalBytes += i.size;
    totalCount += i.count ?? 1;
  }
  const progress = new ProgressCounter(phase, settings.onProgress, totalCount, totalBytes);
  const result: QueueResult<T, R> = { done: [], failed: [] };
  if (unique.length === 0) return result;

  const stop = new AbortController();
  // One listener per request in flight, and SDKs add their own: not a leak.
  setMaxListeners(0, stop.signal);
  let fatal: DvsError | undefined;
  const limit = pLimit(Math.max(1, settings.jobs));
  const backoff = settings.backoffMs ?? 200;
  let succeeded = 0;

  const runOne = async (item: QueueItem<T>): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      if (stop.signal.aborted) return;
      const attemptController = new AbortController();
      setMaxListeners(0, attemptController.signal);
      const onStop = () => attemptController.abort(abortedError());
      stop.signal.addEventListener('abort', onStop);
      let moved = 0;
      let timer: NodeJS.Timeout | undefined;
      let stalled = false;
      const arm = () => {
        if (!settings.stallMs) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          stalled = true;
          attemptController.abort(stallError(settings));
        }, settings.stallMs);
      };
      arm();
      try {
        // Raced with the abort: a request that ignores the signal cannot hold the queue (it settles
        // later on its own; uploads and downloads are atomic, so a late finish is harmless).
        const value = await Promise.race([
          work(item.value, {
            signal: attemptController.signal,
            onBytes: (n) => {
              moved += n;
              progress.add(0, n);
              arm();
            },
          }),
          whenAborted(attemptController.signal),
        ]);
        progress.add(item.count ?? 1, Math.max(0, item.size - moved), item.key);
        succeeded++;
        result.done.push({ item, result: value });
        onDone?.(item, value);
        return;
      } catch (raw) {
        progress.add(0, -moved);
        if (stop.signal.aborted) return; // stopped by a fatal error elsewhere: not a failure of its own
        const err = stalled ? stallError(settings) : normalise(raw);
        if (err.retriable && attempt < retriesFor(err, settings.retries)) {
          await sleep(jitter(Math.min(BACKOFF_CAP_MS, backoff * 2 ** attempt)), stop.signal);
          continue;
        }
        if (err.fatal || (err.reason === 'timeout' && succeeded === 0)) {
          // A server that has not answered a single request in this run is down, not slow on one object.
          fatal ??= err.fatal ? err : unresponsive(err, settings);
          stop.abort();
          return;
        }
        result.failed.push({ item, error: err });
        progress.add(item.count ?? 1, 0, item.key);
        return;
      } finally {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', onStop);
      }
    }
  };

  await Promise.all(unique.map((item) => limit(() => runOne(item))));
  progress.emit();
  if (fatal) throw fatal;
  return result;
}

/** Connection failures are retried only briefly: a server that is down should fail the command in seconds. */
function retriesFor(err: RemoteError, retries: number): number {
  if (err.reason === 'unreachable') return Math.min(retries, 2);
  if (err.reason === 'connect-timeout') return 0;
  return retries;
}

function unresponsive(err: RemoteError, settings: QueueSettings): RemoteError {
  return new RemoteError('REMOTE_UNRESPONSIVE', `${settings.label ? settings.label[0].toUpperCase() + settings.label.slice(1) : 'The remote'} did not answer: ${err.message} (${settings.retries + 1} attempts, none succeeded)`, {
    reason: 'timeout',
    fatal: true,
    hint: 'Check that the server is up and not overloaded; raise transfer.timeout (seconds) if it is just slow.',
    cause: err,
  });
}

function stallError(settings: QueueSettings): RemoteError {
  return new RemoteError('REMOTE_TIMEOUT', `no progress for ${Math.round(settings.stallMs / 100) / 10} s; the request was abandoned`, {
    reason: 'timeout',
    retriable: true,
    hint: 'The server or the network is slow or stuck; raise transfer.timeout (seconds) if this is expected.',
  });
}

/** Anything a backend threw that is not already a RemoteError (a bug, or an error it did not expect). */
function normalise(err: unknown): RemoteError {
  if (isRemoteError(err)) return err;
  if (isDvsError(err)) return new RemoteError(err.code, err.message, { reason: 'refused', hint: err.hint, data: err.data, cause: err });
  const code = networkCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code) return new RemoteError('REMOTE_NETWORK', `${message} (${code})`, { reason: 'server', retriable: true, cause: err });
  return new RemoteError('REMOTE_ERROR', message, { reason: 'refused', cause: err });
}

function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function jitter(ms: number): number {
  return ms / 2 + Math.random() * (ms / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
