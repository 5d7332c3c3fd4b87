import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, fromSystemError } from '../errors.js';
import { readTextFile } from '../base/safe-yaml.js';
import { BlobReader, runGit } from '../scm/git.js';
import { asEventFormatError, AUDIT_DIR, EventFormatError, eventSource, parseEvent, type AuditEvent } from './event.js';

/** An event file that could not be read as an event. */
export interface UnreadableEvent {
  file: string;
  reason: string;
}

export interface LoadedTrail {
  events: AuditEvent[];
  unreadable: UnreadableEvent[];
}

/** Parse one event file into the trail; one that cannot be read is listed, not fatal. */
function addParsed(trail: LoadedTrail, file: string, read: () => string): void {
  try {
    trail.events.push(parseEvent(read(), file));
  } catch (err) {
    const format = asEventFormatError(err, file);
    if (!(format instanceof EventFormatError)) throw format;
    trail.unreadable.push({ file, reason: format.reason });
  }
}

/** Event file names in the workspace's `.dvs/audit/`. */
export function workspaceEventFiles(root: string): string[] {
  try {
    return readdirSync(join(root, AUDIT_DIR)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw fromSystemError(err, AUDIT_DIR, 'listing');
  }
}

/** Every event in the workspace. */
export function loadWorkspaceTrail(root: string): LoadedTrail {
  const trail: LoadedTrail = { events: [], unreadable: [] };
  for (const name of workspaceEventFiles(root)) {
    const file = `${AUDIT_DIR}/${name}`;
    addParsed(trail, file, () => {
      try {
        // An oversized file or a link to a device is refused before it is read.
        return readTextFile(join(root, file), eventSource(file));
      } catch (err) {
        throw fromSystemError(err, file, 'reading');
      }
    });
  }
  return trail;
}

/** Event files in a commit's tree: file path -> blob id. Read from Git's objects, no checkout. */
export async function eventBlobsAt(root: string, commit: string): Promise<Map<string, string>> {
  const out = await runGit(root, ['ls-tree', '-z', '--full-tree', commit, '--', `${AUDIT_DIR}/`]).catch(() => '');
  const blobs = new Map<string, string>();
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [, type, blob] = rec.slice(0, tab).split(' ');
    const path = rec.slice(tab + 1);
    if (type === 'blob' && path.endsWith('.json')) blobs.set(path, blob);
  }
  return blobs;
}

/** Every event committed at `commit`. */
export async function loadTrailAt(root: string, commit: string): Promise<LoadedTrail> {
  const trail: LoadedTrail = { events: [], unreadable: [] };
  const blobs = await eventBlobsAt(root, commit);
  if (blobs.size === 0) return trail;
  const reader = new BlobReader(root);
  try {
    for (const [file, blob] of blobs) {
      const data = await reader.read(blob);
      if (data) addParsed(trail, file, () => data.toString('utf8'));
    }
  } finally {
    reader.close();
  }
  return trail;
}

/** Events of several trails, each event once (the same file name holds the same content when intact). */
export function unionTrails(...trails: LoadedTrail[]): LoadedTrail {
  const byFile = new Map<string, AuditEvent>();
  const unreadable = new Map<string, UnreadableEvent>();
  for (const t of trails) {
    for (const e of t.events) if (!byFile.has(e.file)) byFile.set(e.file, e);
    for (const u of t.unreadable) if (!byFile.has(u.file) && !unreadable.has(u.file)) unreadable.set(u.file, u);
  }
  return { events: [...byFile.values()], unreadable: [...unreadable.values()] };
}

/** Events in trail order: by depth, then time, then hash (a topological order of the DAG). */
export function sortEvents(events: AuditEvent[]): AuditEvent[] {
  return events.sort((a, b) => a.seq - b.seq || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0) || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

/** Events no other event follows: where the next event attaches. */
export function headsOf(events: AuditEvent[]): AuditEvent[] {
  const followed = new Set<string>();
  for (const e of events) for (const p of e.prev) followed.add(p);
  return events.filter((e) => !followed.has(e.hash));
}
