import type { WarningCode } from './error-codes.js';

/**
 * Progress events. Core code reports what it is doing through an optional callback and never decides how
 * that is shown; the CLI turns events into a spinner on a TTY, or drops them for --json and -q.
 */
export type ProgressPhase =
  | 'hash'
  | 'checkout'
  | 'verify'
  | 'gc'
  | 'upload'
  | 'download'
  | 'query'
  | 'diff';

export interface ProgressEvent {
  phase: ProgressPhase;
  /** Items (files, objects) finished so far and, when known, in all. */
  done: number;
  total?: number;
  /** Bytes finished so far and, when known, in all. */
  bytes: number;
  totalBytes?: number;
  /** The item just finished, for verbose renderers. */
  item?: string;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** A warning the operation wants the user to see, with no effect on its result. */
export interface Warning {
  code: WarningCode;
  message: string;
  path?: string;
  hint?: string;
}

/**
 * Counts progress and throttles listener calls so that hashing 100,000 small files does not spend its
 * time re-rendering a spinner.
 */
export class ProgressCounter {
  done = 0;
  bytes = 0;
  private lastEmit = 0;

  constructor(
    private readonly phase: ProgressPhase,
    private readonly listener: ProgressListener | undefined,
    public total?: number,
    public totalBytes?: number,
  ) {}

  add(items: number, bytes: number, item?: string): void {
    this.done += items;
    this.bytes += bytes;
    if (!this.listener) return;
    const now = Date.now();
    if (now - this.lastEmit < 80 && this.done !== this.total) return;
    this.lastEmit = now;
    this.emit(item);
  }

  emit(item?: string): void {
    this.listener?.({
      phase: this.phase,
      done: this.done,
      total: this.total,
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      item,
    });
  }
}
