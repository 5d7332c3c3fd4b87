import type { ProgressEvent, ProgressListener } from '../events.js';
import { formatBytes, formatRate, groupDigits } from './format.js';

const VERBS: Record<ProgressEvent['phase'], string> = {
  hash: 'Hashing',
  checkout: 'Checking out',
  verify: 'Verifying',
  gc: 'Collecting',
  upload: 'Uploading',
  download: 'Downloading',
  query: 'Querying',
  diff: 'Comparing',
};

/** Quick work needs no progress at all. */
const QUIET_MS = 300;
/** Without a spinner, one plain line this often at most: a log, not a flood. */
const LINE_EVERY_MS = 5_000;
/** Narrower than this, a spinner line would wrap on every frame. */
const MIN_SPINNER_COLUMNS = 20;

interface Spinner {
  text: string;
  stop(): void;
}

/**
 * Progress on stderr with files and bytes done and the rate, only when stderr is a terminal and output
 * is for humans. A terminal of known width gets a spinner (ora, loaded on the first event, so quick
 * commands never pay for it); one that reports no width (0 columns: `script`, `docker exec -t`, some CI
 * runners) gets a plain line every few seconds, because ora divides by the width to know how many lines
 * to erase and, given 0, erases forever.
 */
export class ProgressRenderer {
  private spinner?: Spinner;
  private loading?: Promise<void>;
  private readonly started = Date.now();
  private last?: ProgressEvent;
  private lastLine = 0;

  /** Whether stderr is a terminal: asked at the first event shown, since making process.stderr costs (bin/dvs.js). */
  private terminal?: boolean;

  static enabled(json: boolean, quiet: boolean): boolean {
    return !json && !quiet && process.env.CI !== 'true';
  }

  readonly listener: ProgressListener = (event) => {
    this.last = event;
    const now = Date.now();
    if (now - this.started < QUIET_MS) return;
    if (!(this.terminal ??= process.stderr.isTTY === true)) return;
    if (this.spinner && terminalColumns() < MIN_SPINNER_COLUMNS) this.dropSpinner(); // resized to nothing
    if (this.spinner) {
      this.spinner.text = this.text(event);
      return;
    }
    if (this.loading) return;
    if (terminalColumns() >= MIN_SPINNER_COLUMNS && this.lastLine === 0) {
      this.loading = this.startSpinner();
      return;
    }
    if (now - this.lastLine >= LINE_EVERY_MS) {
      this.lastLine = now;
      process.stderr.write(this.text(event) + '\n');
    }
  };

  private async startSpinner(): Promise<void> {
    const { default: ora } = await import('ora');
    // The width may still change under ora (a resize): it only ever sees a usable one. stdin is left
    // alone: putting a terminal into raw mode from a background job (`dvs push &`, `timeout dvs push`)
    // stops the whole process with SIGTTOU.
    this.spinner = ora({ stream: boundedStream() as never, text: this.text(this.last!), discardStdin: false }).start() as Spinner;
  }

  private dropSpinner(): void {
    this.spinner?.stop();
    this.spinner = undefined;
    this.lastLine = 1; // plain lines from now on
  }

  private text(e: ProgressEvent): string {
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const files = e.total !== undefined ? `${groupDigits(e.done)}/${groupDigits(e.total)}` : groupDigits(e.done);
    const bytes = e.totalBytes ? `${formatBytes(e.bytes)}/${formatBytes(e.totalBytes)}` : formatBytes(e.bytes);
    return `${VERBS[e.phase]} ${files} files, ${bytes} (${formatRate(e.bytes / secs)})`;
  }

  async stop(): Promise<void> {
    await this.loading;
    this.spinner?.stop();
  }
}

/** The width of the terminal on stderr; 0 when it reports none. */
function terminalColumns(): number {
  const columns = process.stderr.columns;
  return Number.isInteger(columns) && columns > 0 ? columns : 0;
}

/** stderr as ora uses it, with a width that is never 0 or undefined. */
function boundedStream() {
  const stderr = process.stderr;
  return {
    isTTY: true,
    get columns() {
      return Math.max(MIN_SPINNER_COLUMNS, terminalColumns());
    },
    write: (chunk: string) => stderr.write(chunk),
    cursorTo: (x: number) => stderr.cursorTo(x),
    moveCursor: (dx: number, dy: number) => stderr.moveCursor(dx, dy),
    clearLine: (dir: -1 | 0 | 1) => stderr.clearLine(dir),
  };
}
