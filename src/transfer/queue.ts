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
  const unique = dedupe(items);
  const totalCount = unique.reduce((n, i) => n + (i.count ?? 1), 0);
  const totalBytes = unique.reduce((n, i) => n + i.size, 0);
  const progress = new ProgressCounter(phase, settings.onProgress, totalCount, totalBytes);
  if (unique.length === 0) return { done: [], failed: [] };
  const run = new QueueRun(work, settings, progress, onDone);
  const limit = pLimit(Math.max(1, settings.jobs));
  await Promise.all(unique.map((item) => limit(() => run.process(item))));
  progress.emit();
  if (run.fatal) throw run.fatal;
  return run.result;
}

/** The items in order, each key once. */
function dedupe<T>(items: Array<QueueItem<T>>): Array<QueueItem<T>> {
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(i.key) ? false : (seen.add(i.key), true)));
}

/** What one processQueue call shares across its items: the tally, the stop signal, the first fatal error. */
class QueueRun<T, R> {
  readonly result: QueueResult<T, R> = { done: [], failed: [] };
  fatal: DvsError | undefined;
  private readonly stop = new AbortController();
  private readonly backoff: number;
  private succeeded = 0;

  constructor(
    private readonly work: (value: T, call: CallOptions) => Promise<R>,
    private readonly settings: QueueSettings,
    private readonly progress: ProgressCounter,
    private readonly onDone: ((item: QueueItem<T>, result: R) => void) | undefined,
  ) {
    // One listener per request in flight, and SDKs add their own: not a leak.
    setMaxListeners(0, this.stop.signal);
    this.backoff = settings.backoffMs ?? 200;
  }

  /** Try an item until it succeeds, fails for good, or the queue stops; back off between attempts. */
  async process(item: QueueItem<T>): Promise<void> {
    for (let n = 0; !this.stop.signal.aborted; n++) {
      const attempt = new Attempt(this.stop.signal, this.settings);
      try {
        if (!(await this.tryOnce(item, attempt, n))) return;
        await sleep(jitter(Math.min(BACKOFF_CAP_MS, this.backoff * 2 ** n)), this.stop.signal);
      } finally {
        attempt.release();
      }
    }
  }

  /** Attempt `n` at an item; true when it failed in a way worth another attempt. */
  private async tryOnce(item: QueueItem<T>, attempt: Attempt, n: number): Promise<boolean> {
    try {
      // Raced with the abort: a request that ignores the signal cannot hold the queue (it settles
      // later on its own; uploads and downloads are atomic, so a late finish is harmless).
      const value = await Promise.race([this.work(item.value, this.callOptions(attempt)), whenAborted(attempt.controller.signal)]);
      this.succeed(item, value, attempt.moved);
      return false;
    } catch (raw) {
      this.progress.add(0, -attempt.moved);
      if (this.stop.signal.aborted) return false; // stopped by a fatal error elsewhere: not a failure of its own
      const err = attempt.stalled ? stallError(this.settings) : normalise(raw);
      if (err.retriable && n < retriesFor(err, this.settings.retries)) return true;
      this.giveUp(item, err);
      return false;
    }
  }

  private callOptions(attempt: Attempt): CallOptions {
    return {
      signal: attempt.controller.signal,
      onBytes: (bytes) => {
        attempt.moved += bytes;
        this.progress.add(0, bytes);
        attempt.arm();
      },
    };
  }

  private succeed(item: QueueItem<T>, value: R, moved: number): void {
    this.progress.add(item.count ?? 1, Math.max(0, item.size - moved), item.key);
    this.succeeded++;
    this.result.done.push({ item, result: value });
    this.onDone?.(item, value);
  }

  /** A failure retrying did not or cannot mend: a fatal one stops the queue, any other is tallied. */
  private giveUp(item: QueueItem<T>, err: RemoteError): void {
    if (err.fatal || (err.reason === 'timeout' && this.succeeded === 0)) {
      // A server that has not answered a single request in this run is down, not slow on one object.
      this.fatal ??= err.fatal ? err : unresponsive(err, this.settings);
      this.stop.abort();
      return;
    }
    this.result.failed.push({ item, error: err });
    this.progress.add(item.count ?? 1, 0, item.key);
  }
}

/** One attempt at an item: aborted when the queue stops or when it moves no bytes for stallMs. */
class Attempt {
  readonly controller = new AbortController();
  /** Bytes moved, taken back from the progress if the attempt fails. */
  moved = 0;
  stalled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onStop = (): void => this.controller.abort(abortedError());

  constructor(
    private readonly stop: AbortSignal,
    private readonly settings: QueueSettings,
  ) {
    setMaxListeners(0, this.controller.signal);
    stop.addEventListener('abort', this.onStop);
    this.arm();
  }

  /** (Re)start the stall timer. */
  arm(): void {
    if (!this.settings.stallMs) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.controller.abort(stallError(this.settings));
    }, this.settings.stallMs);
  }

  release(): void {
    clearTimeout(this.timer);
    this.stop.removeEventListener('abort', this.onStop);
  }
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
