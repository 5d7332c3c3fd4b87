import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../errors.js';
import type { Oid } from '../objects/oid.js';
import { writeFileAtomic } from '../base/atomic.js';

/**
 * What this clone knows about a remote, in `.dvs/tmp/remotes/<hash of the remote's URL>.oids`:
 *
 * - objects known to be there (one oid a line): uploaded, downloaded or seen in an existence check. It
 *   spares push and status the same existence queries run after run. It is only ever a shortcut: an
 *   oid is added only after the remote confirmed it, losing the file only costs queries, and
 *   `verify --remote` and `gc --remote` never trust it (they ask the remote and correct the file).
 * - objects known to be lost there: missing (`-<oid>`: the remote answered 404, or dvs deleted a bad
 *   copy or withdrew a manifest) or bad (`!<oid>`: the remote served bytes that do not hash to the
 *   name, and nobody deleted them yet). No directory manifest that lists a lost object vouches for
 *   the directory. Push sends a missing object again unless an existence check finds it back (only
 *   bytes that hash to the name are ever uploaded), and a bad one whatever the remote says (an
 *   existence check cannot tell a bad copy from a good one). A bad mark goes only when this clone saw
 *   a good copy there: it uploaded, downloaded (verified) or re-hashed one.
 *
 * - objects that were there before the epoch last changed (`~<oid>`), kept only so that a push that
 *   sends one again can say it restored it; replaced at the next change of epoch.
 *
 * Lines are replayed in order, so a later line about an oid overrides an earlier one and learning
 * something is an append.
 *
 * The record carries the remote's epoch (see RemoteBackend.readMarker): any dvs command that deletes
 * from a remote changes the epoch first, and a clone that finds another epoch than its record's drops
 * what it believed present (keeping it as "was there"), so objects deleted by another clone are never
 * believed present. What it knows to be lost is kept: that is still worth a re-send.
 */
const EPOCH_LINE = '# epoch ';
const BAD = 33; // '!'
const MISSING = 45; // '-'
const WAS = 126; // '~'

/** How an object is lost on the remote. */
export type Lost = 'missing' | 'bad';

export class KnownObjects {
  private oids: Set<Oid>;
  private readonly lost: Map<Oid, Lost>;
  /** What the record believed present before the last change of epoch dropped it. */
  private was: Set<Oid>;
  private pending: string[] = [];
  private rewrite = false;
  /** The remote epoch the record was made under (undefined: none seen yet). */
  epoch: string | undefined;

  private constructor(private readonly path: string, private readonly url: string, oids: Set<Oid>, lost: Map<Oid, Lost>, was: Set<Oid>, epoch: string | undefined) {
    this.oids = oids;
    this.lost = lost;
    this.was = was;
    this.epoch = epoch;
  }

  static load(tmpDir: string, url: string): KnownObjects {
    const path = join(tmpDir, 'remotes', `${createHash('sha256').update(url).digest('hex').slice(0, 16)}.oids`);
    const oids = new Set<Oid>();
    const lost = new Map<Oid, Lost>();
    const was = new Set<Oid>();
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
      // Anything but a full line (a header, a line cut short by a crash) is skipped.
      const first = text.charCodeAt(start);
      if (end - start === 64 && first !== 35) {
        const oid = text.slice(start, end);
        oids.add(oid);
        lost.delete(oid);
        was.delete(oid);
      } else if (end - start === 65 && (first === BAD || first === MISSING)) {
        const oid = text.slice(start + 1, end);
        lost.set(oid, first === BAD ? 'bad' : 'missing');
        oids.delete(oid);
      } else if (end - start === 65 && first === WAS) {
        was.add(text.slice(start + 1, end));
      } else if (text.startsWith(EPOCH_LINE, start)) epoch = text.slice(start + EPOCH_LINE.length, end);
      start = end + 1;
    }
    return new KnownObjects(path, url, oids, lost, was, epoch);
  }

  get size(): number {
    return this.oids.size;
  }

  /** Known to be on the remote. */
  has(oid: Oid): boolean {
    return this.oids.has(oid);
  }

  /**
   * The remote has it (an existence check, a listing): no longer missing there. One known to hold a bad
   * copy stays bad: its name being there says nothing about its bytes.
   */
  add(oid: Oid): void {
    if (this.oids.has(oid) || this.lost.get(oid) === 'bad') return;
    this.lost.delete(oid);
    this.was.delete(oid);
    this.oids.add(oid);
    this.pending.push(oid);
  }

  /** The remote has a good copy: this clone uploaded it, or downloaded or re-hashed it, verified. */
  confirm(oid: Oid): void {
    this.lost.delete(oid);
    this.was.delete(oid);
    if (this.oids.has(oid)) return;
    this.oids.add(oid);
    this.pending.push(oid);
  }

  /** No longer there because dvs deleted it on purpose (gc). */
  delete(oid: Oid): void {
    if (this.oids.delete(oid)) this.rewrite = true;
  }

  /** The remote lacks it, or holds a bad copy of it: the next push sends it again. */
  markLost(oid: Oid, how: Lost): void {
    this.oids.delete(oid);
    if (this.lost.get(oid) === how) return;
    this.lost.set(oid, how);
    this.pending.push(`${how === 'bad' ? '!' : '-'}${oid}`);
  }

  isLost(oid: Oid): boolean {
    return this.lost.has(oid);
  }

  /** Known to hold bytes that do not hash to the name (not deleted yet). */
  isBad(oid: Oid): boolean {
    return this.lost.get(oid) === 'bad';
  }

  get lostCount(): number {
    return this.lost.size;
  }

  /**
   * Believed present before this run found the epoch changed: another clone deleted objects since, so
   * such an object found missing now was lost there, and sending it again restores it.
   */
  wasKnown(oid: Oid): boolean {
    return this.was.has(oid);
  }

  /**
   * Adopt the remote's current epoch; what the record believed present under another one is dropped,
   * unless `keep` (this clone changed the epoch itself, right after checking the old one).
   */
  adoptEpoch(epoch: string | undefined, keep = false): void {
    if (epoch === this.epoch) return;
    if (!keep) {
      this.was = this.oids;
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
        const lines = [...this.oids, ...[...this.lost].map(([oid, how]) => `${how === 'bad' ? '!' : '-'}${oid}`), ...[...this.was].map((oid) => `~${oid}`)];
        writeFileAtomic(this.path, `${this.header()}${lines.join('\n')}${lines.length ? '\n' : ''}`);
      } else if (this.pending.length) {
        mkdirSync(dirname(this.path), { recursive: true });
        appendFileSync(this.path, (existsSync(this.path) ? '' : this.header()) + this.pending.join('\n') + '\n');
      }
      this.pending = [];
      this.rewrite = false;
    } catch {
      // The record only saves queries and remembers what to re-send; failing to write it must not fail
      // the transfer.
    }
  }

  private header(): string {
    return `# dvs: objects known to be on ${this.url}\n# "-<oid>": known missing there, "!<oid>": a bad copy there (the next push sends them again); "~<oid>": was there before the epoch changed\n${this.epoch !== undefined ? `${EPOCH_LINE}${this.epoch}\n` : ''}`;
  }
}
