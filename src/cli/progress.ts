import type { ProgressEvent, ProgressListener } from '../events.js';
import { formatBytes } from './format.js';
import { groupDigits } from './format.js';

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

/**
 * A spinner on stderr with files and bytes done and the rate, shown only when stderr is a terminal and
 * output is for humans. ora is loaded on the first event, so quick commands never pay for it.
 */
export class ProgressRenderer {
  private spinner?: { text: string; stop(): void; start(): unknown };
  private loading?: Promise<void>;
  private readonly started = Date.now();
  private last?: ProgressEvent;

  static enabled(json: boolean, quiet: boolean): boolean {
    return !json && !quiet && process.stderr.isTTY === true && process.env.CI !== 'true';
  }

  readonly listener: ProgressListener = (event) => {
    this.last = event;
    if (Date.now() - this.started < 300) return; // quick work needs no spinner
    if (!this.spinner && !this.loading) {
      this.loading = import('ora').then(({ default: ora }) => {
        this.spinner = ora({ stream: process.stderr, text: this.text(this.last!) }).start() as never;
      });
      return;
    }
    if (this.spinner) this.spinner.text = this.text(event);
  };

  private text(e: ProgressEvent): string {
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const files = e.total !== undefined ? `${groupDigits(e.done)}/${groupDigits(e.total)}` : groupDigits(e.done);
    const bytes = e.totalBytes ? `${formatBytes(e.bytes)}/${formatBytes(e.totalBytes)}` : formatBytes(e.bytes);
    return `${VERBS[e.phase]} ${files} files, ${bytes} (${formatBytes(e.bytes / secs)}/s)`;
  }

  async stop(): Promise<void> {
    await this.loading;
    this.spinner?.stop();
  }
}
