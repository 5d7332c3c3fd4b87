import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../base/atomic.js';
import type { Repo } from '../repo/repo.js';
import { runGit } from '../scm/git.js';
import { AUDIT_DIR, AUDIT_VERSION, eventFileName, hashEvent, serializeEvent, type AuditEvent, type AuditEventInput } from './event.js';
import { currentHost, currentUser, headCommit } from './identity.js';
import { headsOf, loadWorkspaceTrail } from './store.js';

/**
 * Append an event to the repository's audit trail and stage it (config `core.autostage`). Call it once,
 * after the operation has succeeded. Returns the event written, or undefined when `audit.enabled` is
 * false. Needs no lock: two events written at once both follow the same heads, which the trail accepts
 * like a merge. `stageWith`: files the operation wrote that should be staged in the same `git add`
 * (when `core.autostage` is on; they are staged even when the audit trail is off).
 */
export async function recordAuditEvent(repo: Repo, input: AuditEventInput, options: { stageWith?: string[] } = {}): Promise<AuditEvent | undefined> {
  const autostage = repo.config.bool('core.autostage');
  const stageWith = options.stageWith ?? [];
  if (repo.config.get('audit.enabled') === false) {
    if (autostage && stageWith.length) await runGit(repo.root, ['add', '--', ...stageWith]);
    return undefined;
  }
  const [user, commit] = await Promise.all([currentUser(repo.root), headCommit(repo.root)]);
  // Unreadable event files are left for `dvs audit verify` to report; appending must not fail on them.
  const { events } = loadWorkspaceTrail(repo.root);
  const heads = headsOf(events);
  const body = {
    v: AUDIT_VERSION,
    seq: 1 + heads.reduce((m, e) => Math.max(m, e.seq), 0),
    type: input.type,
    time: new Date().toISOString(),
    user,
    host: currentHost(),
    commit,
    paths: input.paths ?? [],
    data: input.data ?? {},
    prev: heads.map((e) => e.hash).sort(),
  };
  const hash = hashEvent(body);
  const file = `${AUDIT_DIR}/${eventFileName(body.time, hash)}`;
  mkdirSync(join(repo.root, AUDIT_DIR), { recursive: true });
  // The temp file goes in .dvs/tmp/: if this is killed before the rename, Git never sees it.
  mkdirSync(repo.paths.tmp, { recursive: true });
  writeFileAtomic(join(repo.root, file), serializeEvent({ ...body, hash }), 0o644, repo.paths.tmp);
  // One `git add` for the event and the files the operation wrote with it (options.stageWith), and any
  // event a killed command wrote but could not stage: this one follows it, and committed without it the
  // trail would name an event no clone has.
  if (autostage) {
    const unstaged = await runGit(repo.root, ['ls-files', '-z', '--others', '--exclude-standard', '--', AUDIT_DIR]);
    const orphans = unstaged.split('\0').filter((f) => f.endsWith('.json') && f !== file);
    await runGit(repo.root, ['add', '--', ...stageWith, ...orphans, file]);
  }
  return { ...body, hash, file };
}

/** This machine's log of transfers (push, pull, fetch), kept out of Git unless `audit.commit_transfers`. */
export const TRANSFER_LOG = 'audit-transfers.jsonl';

/**
 * Record a transfer. Moving bytes to or from a remote changes no versioned data, so by default the
 * event goes to a local log under `.dvs/tmp/` and `git status` stays as it was after a pull or a push;
 * teams that want every transfer in the committed trail set `audit.commit_transfers`.
 */
export async function recordTransferEvent(repo: Repo, input: AuditEventInput): Promise<AuditEvent | undefined> {
  if (repo.config.get('audit.enabled') === false) return undefined;
  if (repo.config.bool('audit.commit_transfers')) return recordAuditEvent(repo, input);
  const [user, commit] = await Promise.all([currentUser(repo.root), headCommit(repo.root)]);
  const body = { v: AUDIT_VERSION, seq: 0, type: input.type, time: new Date().toISOString(), user, host: currentHost(), commit, paths: input.paths ?? [], data: { ...(input.data ?? {}), local: true }, prev: [] as string[] };
  const event = { ...body, hash: hashEvent(body) };
  try {
    mkdirSync(repo.paths.tmp, { recursive: true });
    appendFileSync(join(repo.paths.tmp, TRANSFER_LOG), JSON.stringify(event) + '\n');
  } catch {
    // A record for this machine only: losing it must not fail the transfer.
    return undefined;
  }
  return { ...event, file: `${TRANSFER_LOG}` };
}

/** The transfers this machine logged (newest last); lines that do not parse are skipped. */
export function loadLocalTransfers(repo: Repo): AuditEvent[] {
  let text: string;
  try {
    text = readFileSync(join(repo.paths.tmp, TRANSFER_LOG), 'utf8');
  } catch {
    return [];
  }
  const events: AuditEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as AuditEvent;
      if (typeof e.type === 'string' && typeof e.time === 'string' && Array.isArray(e.paths) && e.data && typeof e.data === 'object') events.push({ ...e, file: TRANSFER_LOG });
    } catch {
      // a line cut short by a crash
    }
  }
  return events;
}
