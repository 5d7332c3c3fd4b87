import type { AuditEvent } from '../../audit/event.js';
import { loadTrailAt, loadWorkspaceTrail, sortEvents, unionTrails } from '../../audit/store.js';
import { loadLocalTransfers } from '../../audit/record.js';
import { verifyTrail, type AuditProblem } from '../../audit/verify.js';
import { DvsError } from '../../errors.js';
import { PointerSource } from '../../lineage/source.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, isPointerPath, pointerPathOf, type DataKind } from '../../pointer/format.js';
import type { OpContext } from '../context.js';

export interface AuditLogOptions {
  /** Only events about this data path (or paths under it). */
  target?: string;
  /** At most this many events, newest first. */
  limit?: number;
}

export type AuditEventView = Omit<AuditEvent, 'v'>;

export interface AuditLogResult {
  path: string | null;
  /** Newest first. */
  events: AuditEventView[];
  /** Events matching before the limit was applied. */
  total: number;
  /** Files in .dvs/audit/ that are not readable events (`dvs audit verify` explains). */
  unreadable: number;
}

const view = ({ v: _v, ...rest }: AuditEvent): AuditEventView => rest;

function touches(e: AuditEvent, path: string): boolean {
  return e.paths.some((p) => p.path === path || p.path.startsWith(path + '/') || path.startsWith(p.path + '/'));
}

/** `dvs audit log`: the trail, newest first, optionally only events about one path. */
export async function auditLog(ctx: OpContext, options: AuditLogOptions = {}): Promise<AuditLogResult> {
  const { repo } = ctx;
  let path: string | null = null;
  if (options.target !== undefined) {
    const { rel } = repo.resolve(ctx.cwd, options.target.replace(/\/+$/, '') || options.target);
    path = isPointerPath(rel) ? dataPathOf(rel) : rel;
  }
  if (options.limit !== undefined && !(Number.isInteger(options.limit) && options.limit > 0)) {
    throw new DvsError('INVALID_LIMIT', `--max-count ${options.limit}: expected a positive whole number`);
  }
  const trail = loadWorkspaceTrail(repo.root);
  const all = [...trail.events, ...loadLocalTransfers(repo)];
  const matching = byTime(all.filter((e) => path === null || touches(e, path))).reverse();
  return {
    path,
    events: matching.slice(0, options.limit ?? matching.length).map(view),
    total: matching.length,
    unreadable: trail.unreadable.length,
  };
}

export interface AuditReportOptions {
  target: string;
  /** The dataset version is the one its pointer names at this revision (default: the workspace). */
  rev?: string;
}

/** One event in a dataset version's chain of custody, with what it meant for that version. */
export interface CustodyEntry {
  /** What happened to this version: tracked, produced, consumed, pushed, pulled, fetched, trained, … */
  action: string;
  /** One line for people: "produced by filter (min_quality=0.6) from data/raw.csv". */
  summary: string;
  event: AuditEventView;
  /** Set when this event itself fails verification. */
  problem?: string;
}

export interface AuditReportResult {
  path: string;
  oid: Oid;
  kind: DataKind;
  rev: string | null;
  commit: string | null;
  /** Oldest first. */
  custody: CustodyEntry[];
  /** Who did what, collected from the custody events. */
  summary: {
    trackedBy: string[];
    producedBy: string[];
    usedBy: string[];
    pushedTo: string[];
    pulledBy: string[];
    trainedIn: string[];
  };
  /** Whether the whole trail verifies (hash links; see `dvs audit verify` for records and anchors). */
  verified: boolean;
  problems: AuditProblem[];
}

const uniq = (xs: string[]) => [...new Set(xs)];

/** The trail's order (sortEvents) with this machine's logged transfers placed by their time among it. */
function byTime(events: AuditEvent[]): AuditEvent[] {
  const ordered = sortEvents(events.filter((e) => e.data.local !== true));
  for (const t of events.filter((e) => e.data.local === true).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))) {
    const at = ordered.findIndex((e) => e.time > t.time);
    ordered.splice(at < 0 ? ordered.length : at, 0, t);
  }
  return ordered;
}

function describeCustody(e: AuditEvent, oid: Oid, path: string): { action: string; summary: string } {
  const mine = e.paths.filter((p) => p.oid === oid);
  const roles = new Set(mine.map((p) => p.role));
  const d = e.data;
  const params = d.params && typeof d.params === 'object' ? Object.entries(d.params as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : '';
  const step = `${String(d.transform ?? e.type)}${params ? ` (${params})` : ''}`;
  const others = (role: string) => e.paths.filter((p) => p.role === role && p.oid !== oid).map((p) => p.path);
  const remote = typeof d.remote === 'string' ? ` ${d.remote}` : '';
  switch (e.type) {
    case 'track':
      return { action: 'tracked', summary: `tracked as ${mine[0]?.path ?? path}` };
    case 'transform':
    case 'lineage-record': {
      const how = e.type === 'lineage-record' ? ' (recorded; ran elsewhere)' : '';
      if (roles.has('output')) {
        const from = others('input');
        return { action: 'produced', summary: `produced by ${step}${from.length ? ` from ${from.join(', ')}` : ''}${how}` };
      }
      const into = others('output');
      return { action: 'consumed', summary: `input of ${step}${into.length ? `, which made ${into.join(', ')}` : ''}${how}` };
    }
    case 'run-start':
      return { action: 'trained', summary: `training run ${String(d.run)} started${d.model ? ` (model ${String(d.model)})` : ''}` };
    case 'run-finish': {
      const metrics = d.metrics && typeof d.metrics === 'object' ? Object.entries(d.metrics as Record<string, unknown>).map(([k, v]) => `${k}=${String(v)}`).join(' ') : '';
      return { action: 'trained', summary: `training run ${String(d.run)} finished${metrics ? `: ${metrics}` : ''}` };
    }
    case 'push':
      return { action: 'pushed', summary: `pushed to${remote || ' a remote'}` };
    case 'pull':
      return { action: 'pulled', summary: `pulled from${remote || ' a remote'}` };
    case 'fetch':
      return { action: 'fetched', summary: `fetched from${remote || ' a remote'}` };
    case 'remove':
      return { action: 'untracked', summary: `stopped tracking ${mine[0]?.path ?? path}` };
    case 'gc':
      return { action: 'collected', summary: 'objects removed from a cache by gc' };
    default:
      return { action: e.type, summary: e.type };
  }
}

/**
 * `dvs audit report`: the chain of custody of one dataset version — every event that names its oid
 * (tracked, produced or consumed by transforms, pushed, pulled, trained on) — and whether the trail
 * verifies. The trail is the workspace's, plus the events committed at `rev`.
 */
export async function auditReport(ctx: OpContext, options: AuditReportOptions): Promise<AuditReportResult> {
  const { repo } = ctx;
  const { rel } = repo.resolve(ctx.cwd, options.target.replace(/\/+$/, '') || options.target);
  const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
  const source = await PointerSource.open(repo, options.rev);
  let pointer;
  try {
    pointer = await source.read(pointerPath);
  } finally {
    source.close();
  }
  if (!pointer) {
    throw new DvsError('NOT_TRACKED', `${options.target}: not tracked by dvs in ${source.label} (no ${pointerPath})`, {
      hint: 'Name tracked data (dvs status lists it), or a revision where it was tracked with --rev.',
      data: { path: rel },
    });
  }
  const path = dataPathOf(pointerPath);
  const workspace = loadWorkspaceTrail(repo.root);
  const trail = source.commit ? unionTrails(workspace, await loadTrailAt(repo.root, source.commit)) : workspace;
  const verification = verifyTrail(trail);
  const bad = new Map(verification.problems.map((p) => [p.file, p.message]));
  const custody: CustodyEntry[] = [];
  const names = (ev: AuditEvent) => ev.paths.some((p) => p.oid === pointer.oid) || (ev.type === 'gc' && Array.isArray(ev.data.oids) && ev.data.oids.includes(pointer.oid));
  // This machine's transfers (not in the committed trail, not verified) belong to the story too.
  for (const e of byTime([...trail.events, ...loadLocalTransfers(repo)].filter(names))) {
    const entry: CustodyEntry = { ...describeCustody(e, pointer.oid, path), event: view(e) };
    const problem = bad.get(e.file);
    if (problem) entry.problem = problem;
    custody.push(entry);
  }
  const by = (action: string, f: (c: CustodyEntry) => string) => uniq(custody.filter((c) => c.action === action).map(f));
  return {
    path,
    oid: pointer.oid,
    kind: pointer.kind,
    rev: options.rev ?? null,
    commit: source.commit ?? null,
    custody,
    summary: {
      trackedBy: by('tracked', (c) => c.event.user),
      producedBy: by('produced', (c) => String(c.event.data.transform ?? c.event.type)),
      usedBy: by('consumed', (c) => String(c.event.data.transform ?? c.event.type)),
      pushedTo: by('pushed', (c) => String(c.event.data.remote ?? 'remote')),
      pulledBy: by('pulled', (c) => c.event.user),
      trainedIn: by('trained', (c) => String(c.event.data.run)),
    },
    verified: verification.problems.length === 0,
    problems: verification.problems,
  };
}
