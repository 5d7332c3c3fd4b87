import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { recordAuditEvent } from '../../audit/record.js';
import { loadWorkspaceTrail, sortEvents } from '../../audit/store.js';
import type { AuditEvent } from '../../audit/event.js';
import { loadManifest, loadManifestIfPresent } from '../../objects/manifest.js';
import { isOid, type Oid } from '../../objects/oid.js';
import { pointerPathOf } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { OpContext } from '../context.js';
import { appendedEntries } from './append-only.js';
import { track } from './track.js';

/**
 * `dvs checkpoint data/stream -m "…"`: track an append-only directory (refusing a changed or removed
 * file, hashing only new ones) and mark the version as a milestone. The mark is an audit event
 * (`checkpoint`, committed with the pointer under `.dvs/audit/`) naming the files added since the
 * checkpoints before it, so the list of checkpoints travels with Git and merges like the trail does.
 */
export interface CheckpointOptions {
  target: string;
  message: string;
}

/** Names kept in one event: the audit event stays far below its 1 MiB limit. */
export const CHECKPOINT_NAMES_MAX = 1000;

export interface Checkpoint {
  path: string;
  /** The directory's manifest at the checkpoint. */
  oid: Oid;
  files: number;
  size: number;
  message: string;
  /** Files added since the checkpoints before it, and the first CHECKPOINT_NAMES_MAX of their names (sorted). */
  added: number;
  names: string[];
  time: string;
  user: string;
  /** HEAD when it was recorded (the commit that carries it comes later). */
  commit: string | null;
  /** The audit event's hash. */
  event: string;
}

export interface CheckpointResult {
  checkpoint: Checkpoint;
  /** Files read to record it (files known from the stat cache are not). */
  hashedFiles: number;
  /** Whether the pointer changed (false: only the mark was added). */
  changed: boolean;
  staged: string[];
  toStage: string[];
  warnings: Warning[];
}

export interface CheckpointListResult {
  /** Oldest first; from every branch merged into the workspace's trail. */
  checkpoints: Checkpoint[];
}

export async function checkpoint(ctx: OpContext, options: CheckpointOptions): Promise<CheckpointResult> {
  const { repo } = ctx;
  const message = options.message.trim();
  if (message === '') {
    throw new DvsError('CHECKPOINT_MESSAGE', 'A checkpoint needs a message', { hint: 'Say what the milestone is: dvs checkpoint data/stream -m "September dump complete"' });
  }
  const { rel } = repo.resolve(ctx.cwd, options.target.replace(/\/+$/, '') || options.target);
  const pointerPath = pointerPathOf(rel);
  repo.guard.check(rel, pointerPath);
  if (repo.config.get('audit.enabled') === false) {
    throw new DvsError('CHECKPOINT_NO_AUDIT', `${options.target}: checkpoints are audit events, and the audit trail is off (audit.enabled false)`, {
      hint: 'Turn it on (dvs config audit.enabled true), or record the version with dvs track and a Git tag.',
      data: { path: rel },
    });
  }
  const before = readPointer(repo.root, pointerPath);
  if (!before.appendOnly) {
    throw new DvsError('NOT_APPEND_ONLY', `${options.target}: not an append-only directory; checkpoints mark versions of one`, {
      hint: `Declare it first: dvs track --append-only ${rel}`,
      data: { path: rel },
    });
  }
  const tracked = await track(ctx, { targets: [options.target] });
  const item = tracked.items[0];
  const manifest = loadManifest(repo.cache, item.oid, rel);
  const earlier = listCheckpoints(repo.root).filter((c) => c.path === rel);
  const known = new Set<string>();
  for (const c of earlier) {
    const m = loadManifestIfPresent(repo.cache, c.oid, rel);
    // A checkpoint whose manifest is not here still names what it added (all of it, up to the cap).
    for (const p of m ? m.entries.map((e) => e.path) : c.names) known.add(p);
  }
  const added = appendedEntries(known, manifest).map((e) => e.path);
  const event = await recordAuditEvent(repo, {
    type: 'checkpoint',
    paths: [{ path: rel, oid: item.oid, kind: 'dir', size: item.size }],
    data: { message, files: item.files ?? 0, added: added.length, names: added.slice(0, CHECKPOINT_NAMES_MAX) },
  });
  const checkpoint = event && checkpointOf(event);
  if (!checkpoint) throw new Error('a checkpoint event was written but does not read back');
  const autostage = repo.config.bool('core.autostage');
  const eventFile = [event.file];
  return {
    checkpoint,
    hashedFiles: item.hashedFiles,
    changed: item.changed,
    staged: autostage ? [...tracked.staged, ...eventFile] : tracked.staged,
    toStage: autostage ? tracked.toStage : [...tracked.toStage, ...eventFile],
    warnings: tracked.warnings,
  };
}

/** `dvs checkpoint --list [path]`: the checkpoints in the workspace's audit trail, oldest first. */
export function checkpointList(ctx: OpContext, options: { target?: string }): CheckpointListResult {
  const { repo } = ctx;
  const rel = options.target === undefined ? undefined : repo.resolve(ctx.cwd, options.target.replace(/\/+$/, '') || options.target).rel;
  return { checkpoints: listCheckpoints(repo.root).filter((c) => rel === undefined || c.path === rel) };
}

function listCheckpoints(root: string): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (const e of sortEvents(loadWorkspaceTrail(root).events)) {
    const c = e.type === 'checkpoint' ? checkpointOf(e) : undefined;
    if (c) out.push(c);
  }
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/** A checkpoint event read back; one whose members are not what dvs writes is skipped. */
function checkpointOf(e: AuditEvent): Checkpoint | undefined {
  const p = e.paths[0];
  const d = e.data;
  if (!p || typeof d.message !== 'string') return undefined;
  if (!isOid(p.oid)) return undefined;
  const names = Array.isArray(d.names) ? d.names.filter((n): n is string => typeof n === 'string') : [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
  return { path: p.path, oid: p.oid, files: num(d.files), size: num(p.size), message: d.message, added: num(d.added), names, time: e.time, user: e.user, commit: e.commit, event: e.hash };
}
