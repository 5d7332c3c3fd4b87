import { isDvsError, type DvsError } from '../../errors.js';
import type { Repo } from '../../repo/repo.js';
import { runGit } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import type { HookOptions, HookResult, UnsentData } from './hook-result.js';
import { objectsOf, pointersInScope, type PointerAt } from '../../workspace/references.js';

const NULL_SHA = /^0+$/;
/** Up to this many pushed commits, the suggested command names each; beyond, it takes every commit. */
const COMMITS_NAMED = 5;

interface PushedCommits {
  /** Every commit the Git remote does not have yet, newest first. */
  commits: string[];
}

/**
 * pre-push: send the objects named by the commits being pushed to the dvs remote that `dvs push` would
 * use (the default, else the only one). Whatever cannot be sent (no remote, no default among several,
 * a remote that fails, objects this clone lacks) is reported loudly; with hooks.require_push the hook
 * fails and Git does not push. Commits that name no data need no remote: nothing is said.
 */
export async function prePush(ctx: OpContext, result: HookResult, options: HookOptions): Promise<HookResult> {
  const { repo } = ctx;
  const pushed = await pushedCommits(repo, options);
  if (pushed.commits.length === 0) return { ...result, skipped: 'nothing to push' };
  const { remoteName } = await import('../remote/open.js');
  let remote: string;
  try {
    remote = remoteName(repo);
  } catch (err) {
    if (!isDvsError(err)) throw err;
    return withoutRemote(repo, result, pushed, err);
  }
  return pushTo(ctx, result, pushed, remote);
}

/** No remote to send to (none, or several and no default): a problem only if the commits name data. */
async function withoutRemote(repo: Repo, result: HookResult, pushed: PushedCommits, why: DvsError): Promise<HookResult> {
  let pointers: PointerAt[];
  try {
    pointers = await pointersInScope(repo, { revs: pushed.commits, noWorkspace: true });
  } catch (unreadable) {
    // A pointer that does not parse names data all the same: nothing shows that it is safe to skip.
    if (!isDvsError(unreadable)) throw unreadable;
    return notSent(repo, result, pushed, { code: unreadable.code, message: unreadable.message, hint: unreadable.hint, paths: [] });
  }
  if (pointers.length === 0) return { ...result, skipped: 'no pointer in the pushed commits' };
  return notSent(repo, result, pushed, { code: why.code, message: why.message, hint: why.hint, ...whatPointersNeed(repo, pointers) });
}

async function pushTo(ctx: OpContext, result: HookResult, pushed: PushedCommits, remote: string): Promise<HookResult> {
  const { repo } = ctx;
  const { push } = await import('../remote/push.js');
  try {
    const r = await push(ctx, { remote, revs: pushed.commits, noWorkspace: true });
    result.pushed = { objects: r.uploaded, bytes: r.bytes };
    if (r.failures.length === 0) return result;
    const first = r.failures[0];
    return notSent(repo, result, pushed, {
      code: 'PUSH_INCOMPLETE',
      remote,
      message: `${r.failures.length} object${r.failures.length === 1 ? '' : 's'} could not be pushed to remote "${remote}"; the first: ${first.message}`,
      hint: first.hint,
      paths: [...new Set(r.failures.map((f) => f.path))],
      objects: r.failures.length,
    });
  } catch (err) {
    // The remote failed as a whole (unreachable, refused credentials, bad configuration, …).
    const pointers = await pointersInScope(repo, { revs: pushed.commits, noWorkspace: true }).catch(() => undefined);
    if (pointers?.length === 0) return { ...result, skipped: 'no pointer in the pushed commits' };
    return notSent(repo, result, pushed, {
      code: isDvsError(err) ? err.code : 'INTERNAL',
      remote,
      message: isDvsError(err) ? err.message : String(err),
      hint: isDvsError(err) ? err.hint : undefined,
      ...(pointers ? whatPointersNeed(repo, pointers) : { paths: [] }),
    });
  }
}

/** Git's stdin lines are `<local ref> <local sha> <remote ref> <remote sha>`, one per ref pushed. */
async function pushedCommits(repo: Repo, options: HookOptions): Promise<PushedCommits> {
  const gitRemote = options.args[0];
  const commits = new Set<string>();
  for (const line of (options.stdin ?? '').split('\n')) {
    const [, localSha, , remoteSha] = line.trim().split(/\s+/);
    if (!localSha || NULL_SHA.test(localSha)) continue; // a deleted ref sends nothing
    // Every commit the remote does not have yet, like git-lfs: intermediate commits' data counts too.
    const known = remoteSha && !NULL_SHA.test(remoteSha) && (await isCommit(repo, remoteSha));
    const exclude = known ? [`^${remoteSha}`] : gitRemote ? ['--not', `--remotes=${gitRemote}`] : [];
    const out = await runGit(repo.root, ['rev-list', localSha, ...exclude]);
    for (const c of out.split('\n')) if (c) commits.add(c);
  }
  return { commits: [...commits] };
}

async function isCommit(repo: Repo, sha: string): Promise<boolean> {
  try {
    return (await runGit(repo.root, ['rev-parse', '--verify', '--quiet', `${sha}^{commit}`])).trim() !== '';
  } catch {
    return false;
  }
}

function whatPointersNeed(repo: Repo, pointers: PointerAt[]): { paths: string[]; objects: number } {
  return { paths: [...new Set(pointers.map((p) => p.dataPath))].sort(), objects: objectsOf(repo, pointers).oids.size };
}

function notSent(repo: Repo, result: HookResult, pushed: PushedCommits, what: Omit<UnsentData, 'remotes' | 'commits' | 'command' | 'required'>): HookResult {
  const remotes = repo.config.remoteNames();
  const required = repo.config.bool('hooks.require_push');
  const unsent: UnsentData = { ...what, remotes, commits: pushed.commits.length, command: sendCommand(what.code, what.remote, remotes, pushed), required };
  result.unsent = unsent;
  if (required) {
    result.error = { message: `the data of the pushed commits did not reach a dvs remote: ${what.message}`, hint: what.hint };
  }
  return result;
}

function sendCommand(code: string, remote: string | undefined, remotes: string[], pushed: PushedCommits): string {
  const revs = pushed.commits.length <= COMMITS_NAMED ? pushed.commits.map((c) => `--rev ${c.slice(0, 10)}`).join(' ') : '--all-commits';
  if (remote) return `dvs push -r ${remote} ${revs}`;
  if (code === 'NO_REMOTE' && remotes.length === 0) return `dvs remote add --default <name> <url>  &&  dvs push ${revs}`;
  return `dvs push -r <${remotes.length ? remotes.join('|') : 'name'}> ${revs}`;
}
