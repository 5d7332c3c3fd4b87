import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';
import type { DataKind } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import { writeFileAtomic } from '../repo/atomic.js';
import type { Repo } from '../repo/repo.js';

/**
 * What a track has written but not yet staged and audited, kept in `.dvs/tmp/track-pending.json` from
 * just before its first pointer is written until its audit event is. A track killed in between leaves
 * the file behind, and the next track finishes that job: the pointers that still name the version
 * written then are staged and audited with its own. Without it, the re-run would find the pointers
 * already up to date, and neither stage nor audit them.
 */
export interface PendingTrack {
  path: string;
  pointerPath: string;
  kind: DataKind;
  oid: string;
  size: number;
}

export class TrackJournal {
  private readonly file: string;
  /** What an earlier, killed track left unfinished: pointers that still say what it wrote. */
  readonly unfinished: PendingTrack[];
  private readonly entries: PendingTrack[];

  /** Call holding the repository lock. */
  constructor(private readonly repo: Repo) {
    this.file = join(repo.paths.tmp, 'track-pending.json');
    this.unfinished = this.read().filter((e) => this.stillWritten(e));
    // Kept in this run's journal, so that being killed again does not forget them.
    this.entries = [...this.unfinished];
  }

  private read(): PendingTrack[] {
    try {
      const entries = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return Array.isArray(entries) ? (entries as PendingTrack[]) : [];
    } catch (err) {
      // Absent (the usual case) or unreadable: there is nothing to finish that can be trusted.
      if (errnoCode(err) !== 'ENOENT') rmSync(this.file, { force: true });
      return [];
    }
  }

  private stillWritten(e: PendingTrack): boolean {
    try {
      const pointer = readPointer(this.repo.root, e.pointerPath);
      return pointer.oid === e.oid && pointer.kind === e.kind && typeof e.path === 'string';
    } catch {
      return false;
    }
  }

  /** Record an entry before its pointer is written (the file is rewritten whole, atomically). */
  add(entry: PendingTrack): void {
    this.entries.push(entry);
    writeFileAtomic(this.file, JSON.stringify(this.entries));
  }

  /** The job is done: everything written is staged and audited. */
  finish(): void {
    rmSync(this.file, { force: true });
  }
}
