import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors.js';
import type { DataKind } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import { stage } from '../../scm/git.js';

/**
 * What a track has written but not yet staged and audited, kept in `.dvs/tmp/track-pending.jsonl` (one
 * JSON line per pointer, appended just before the pointer is written) until its audit event is
 * written. A track killed in between leaves the file behind, and the next track finishes that job: the
 * pointers that still name the version written then are staged and audited with its own. Without it,
 * the re-run would find the pointers already up to date, and neither stage nor audit them.
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

  /** Call holding the repository lock. The file stays until `finish`: killed again, nothing is forgotten. */
  constructor(private readonly repo: Repo) {
    this.file = join(repo.paths.tmp, 'track-pending.jsonl');
    this.unfinished = this.read().filter((e) => this.stillWritten(e));
  }

  private read(): PendingTrack[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return []; // the usual case
      throw err;
    }
    const entries: PendingTrack[] = [];
    for (const line of text.split('\n')) {
      try {
        entries.push(JSON.parse(line) as PendingTrack);
      } catch {
        // a line cut short by a kill (its pointer was never written), or an empty one
      }
    }
    return entries;
  }

  private stillWritten(e: PendingTrack): boolean {
    try {
      const pointer = readPointer(this.repo.root, e.pointerPath);
      return typeof e?.path === 'string' && pointer.oid === e.oid && pointer.kind === e.kind;
    } catch {
      return false;
    }
  }

  /** Record an entry before its pointer is written. */
  add(entry: PendingTrack): void {
    // Led by a newline too: a line a killed track cut short must not swallow this one.
    appendFileSync(this.file, `\n${JSON.stringify(entry)}\n`);
  }

  /** The job is done: everything written is staged and audited. */
  finish(): void {
    rmSync(this.file, { force: true });
  }
}

/** A version a track looked at; `changed` when this run wrote its pointer. */
export interface TrackedVersion {
  path: string;
  oid: string;
  kind: DataKind;
  size: number;
  changed: boolean;
}

/**
 * The end of every track: stage the changed files (or say what to stage), audit the versions written by
 * this run and by a killed one whose job it finishes (once each), then close the journal.
 */
export async function stageAndAudit(repo: Repo, journal: TrackJournal, changedFiles: Iterable<string>, items: TrackedVersion[]): Promise<{ staged: string[]; toStage: string[] }> {
  const files = [...changedFiles];
  const autostage = repo.config.bool('core.autostage');
  if (autostage) await stage(repo.root, files);
  const recorded = new Map<string, { path: string; oid: string; kind: DataKind; size: number }>();
  for (const { path, oid, kind, size } of [...journal.unfinished, ...items.filter((i) => i.changed)]) recorded.set(`${path}\0${oid}`, { path, oid, kind, size });
  if (recorded.size) await (await import('../../audit/record.js')).recordAuditEvent(repo, { type: 'track', paths: [...recorded.values()] });
  journal.finish();
  return { staged: autostage ? files : [], toStage: autostage ? [] : files };
}
