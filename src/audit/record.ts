import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../repo/atomic.js';
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
