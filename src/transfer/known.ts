import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';
import type { Oid } from '../objects/oid.js';
import { writeFileAtomic } from '../repo/atomic.js';

/**
 * What this clone knows to be on a remote: oids it uploaded, downloaded or saw in an existence check,
 * one per line in `.dvs/tmp/remotes/<hash of the remote's URL>.oids`. It spares push and status the
 * same existence queries run after run. It is only ever a shortcut: an oid is added only after the
 * remote confirmed it, losing the file only costs queries, and `verify --remote` and `gc --remote`
 * never trust it (they ask the remote and correct the file).
 *
 * The record carries the remote's epoch (see RemoteBackend.readMarker): any dvs command that deletes
 * from a remote changes the epoch first, and a clone that finds another epoch than its record's drops
 * the record, so objects deleted by another clone are never believed present.
 */
const EPOCH_LINE = '# epoch ';

export class KnownObjects {
  private oids: Set<Oid>;
  private pending: Oid[] = [];
  private rewrite = false;
  /** The remote epoch the record was made under (undefined: none seen yet). */
  epoch: string | undefined;

  private constructor(private readonly path: string, private readonly url: string, oids: Set<Oid>, epoch: string | undefined) {
    this.oids = oids;
    this.epoch = epoch;
  }

  static load(tmpDir: string, url: string): KnownObjects {
    const path = join(tmpDir, 'remotes', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.oids`);
    const oids = new Set<Oid>();
    let epoch: string | undefined;
    let text = '';
    try {
      text = readFileSync(path, 'latin1');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      // Anything but a full 64-hex line (a header, a line cut short by a crash) is skipped.
      if (end - start === 64 && text.charCodeAt(start) !== 35) oids.add(text.slice(start, end));
      else if (text.startsWith(EPOCH_LINE, start)) epoch = text.slice(start + EPOCH_LINE.length, end);
      start = end + 1;
    }
    return new KnownObjects(path, url, oids, epoch);
  }

  get size(): number {
    return this.oids.size;
  }

  has(oid: Oid): boolean {
    return this.oids.has(oid);
  }

  add(oid: Oid): void {
    if (this.oids.has(oid)) return;
    this.oids.add(oid);
    this.pending.push(oid);
  }

  delete(oid: Oid): void {
    if (this.oids.delete(oid)) this.rewrite = true;
  }

  /**
   * Adopt the remote's current epoch; a record made under another one is dropped, unless `keep` (this
   * clone changed the epoch itself, right after checking the old one).
   */
  adoptEpoch(epoch: string | undefined, keep = false): void {
    if (epoch === this.epoch) return;
    if (!keep) {
      this.oids = new Set();
      this.pending = [];
    }
    this.epoch = epoch;
    this.rewrite = true;
  }

  /** Write what was learnt: appended, or the whole file rewritten when something was removed. */
  flush(): void {
    try {
      if (this.rewrite) {
        mkdirSync(dirname(this.path), { recursive: true });
        const lines = [...this.oids].join('\n');
        writeFileAtomic(this.path, `${this.header()}${lines}${this.oids.size ? '\n' : ''}`);
      } else if (this.pending.length) {
        mkdirSync(dirname(this.path), { recursive: true });
        appendFileSync(this.path, (existsSync(this.path) ? '' : this.header()) + this.pending.join('\n') + '\n');
      }
      this.pending = [];
      this.rewrite = false;
    } catch {
      // The record only saves queries; failing to write it must not fail the transfer.
    }
  }

  private header(): string {
    return `# dvs: objects known to be on ${this.url}\n${this.epoch !== undefined ? `${EPOCH_LINE}${this.epoch}\n` : ''}`;
  }
}
