import { execFile, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { SimpleGit } from 'simple-git';
import { DvsError } from '../errors.js';

/**
 * Git, as dvs needs it. Porcelain calls (add, rm, rev-parse) go through simple-git; reading many blobs
 * at a revision goes through one long-lived `git cat-file --batch`, which simple-git cannot stream.
 */

let simpleGitModule: Promise<typeof import('simple-git')> | undefined;

export async function gitClient(root: string): Promise<SimpleGit> {
  simpleGitModule ??= import('simple-git');
  const { simpleGit } = await simpleGitModule;
  return simpleGit({ baseDir: root, maxConcurrentProcesses: 4 });
}

/** Run git and return stdout (bytes are decoded as UTF-8). Rejects with git's stderr on failure. */
export function runGit(cwd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = err as Error & { stderr?: string; exitCode?: number };
        e.stderr = stderr;
        e.exitCode = typeof err.code === 'number' ? err.code : undefined;
        reject(e);
      } else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/**
 * runGit, blocking: for the one quick call of a short command (the diff of two commits that a hook or
 * `dvs diff` starts with). A child without pipes to watch costs less than an asynchronous one (no
 * sockets, streams or event-loop turns), a noticeable share of a hook with nothing to do. Throws as
 * runGit rejects.
 */
export function runGitSync(cwd: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const e = new Error(`Command failed: git ${args.join(' ')}\n${r.stderr}`) as Error & { stderr?: string; exitCode?: number };
    e.stderr = r.stderr;
    e.exitCode = r.status ?? undefined;
    throw e;
  }
  return r.stdout;
}

/** The work tree's top level, or undefined outside a Git repository. */
export async function gitTopLevel(cwd: string): Promise<string | undefined> {
  try {
    return (await runGit(cwd, ['rev-parse', '--show-toplevel'])).trim();
  } catch {
    return undefined;
  }
}

/** Which of these repository paths (files, or anything under directories) Git tracks. */
export async function trackedByGit(root: string, paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = await runGit(root, ['ls-files', '-z', '--', ...paths.map((p) => `:(literal)${p}`)]);
  return out.split('\0').filter(Boolean);
}

export async function stage(root: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const git = await gitClient(root);
  await git.add(paths);
}

/** Stage the removal of paths from the index (the files stay or are already gone from disk). */
export async function unstage(root: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  await runGit(root, ['rm', '--cached', '--quiet', '--ignore-unmatch', '--', ...paths]);
}

/**
 * The commit a revision names: anything Git resolves (`HEAD~1`, `main`, a tag, `@{1}`, `:/message`,
 * a hash). With `treeish`, a revision naming a tree (`main^{tree}`) is accepted too, for callers that only
 * list or compare trees.
 */
export async function resolveRevision(root: string, rev: string, options: { treeish?: boolean } = {}): Promise<string> {
  const parse = async (spec: string) => {
    try {
      return runGitSync(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', spec]).trim();
    } catch {
      return '';
    }
  };
  // One process for the usual name; `:/message` and `x^{tree}` need the plain name resolved first.
  const direct = await parse(`${rev}^{commit}`);
  if (direct) return direct;
  const oid = await parse(rev);
  if (oid) {
    const commit = await parse(`${oid}^{commit}`);
    if (commit) return commit;
    const tree = options.treeish ? await parse(`${oid}^{tree}`) : '';
    if (tree) return tree;
    throw new DvsError('UNKNOWN_REVISION', `"${rev}" names a Git object that is not a commit${options.treeish ? ' or a tree' : ''}`, {
      hint: 'Name a commit: a branch, tag, hash, HEAD~1, @{1} or :/message.',
      data: { rev, oid },
    });
  }
  throw new DvsError('UNKNOWN_REVISION', `Unknown revision "${rev}"`, {
    hint: 'Use a branch, tag, commit hash or an expression Git understands (HEAD~1, @{1}, :/message).',
    data: { rev },
  });
}

/** Commits named by the scope flags of gc, fetch and push. */
export async function revisionsInScope(root: string, scope: { allBranches?: boolean; allTags?: boolean; allCommits?: boolean; revs?: string[] }): Promise<string[]> {
  const commits = new Set<string>();
  if (scope.allCommits) {
    const out = await runGit(root, ['rev-list', '--all']).catch(() => '');
    for (const c of out.split('\n')) if (c) commits.add(c);
  }
  const patterns: string[] = [];
  if (scope.allBranches) patterns.push('refs/heads');
  if (scope.allTags) patterns.push('refs/tags');
  if (patterns.length) {
    const out = await runGit(root, ['for-each-ref', '--format=%(objectname) %(*objectname)', ...patterns]);
    for (const line of out.split('\n')) {
      const [obj, peeled] = line.split(' ');
      if (peeled) commits.add(peeled);
      else if (obj) commits.add(obj);
    }
  }
  for (const rev of scope.revs ?? []) commits.add(await resolveRevision(root, rev));
  return [...commits];
}

export interface TreeEntry {
  path: string;
  blob: string;
}

/** Pointer files (`*.dvs`) in a commit's tree, read from Git's objects without a checkout. */
export async function pointersAtCommit(root: string, commit: string, under?: string[]): Promise<TreeEntry[]> {
  const args = ['ls-tree', '-r', '-z', '--full-tree', commit];
  if (under?.length) args.push('--', ...under.map((p) => `:(literal)${p}`));
  const out = await runGit(root, args);
  const entries: TreeEntry[] = [];
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    const tab = rec.indexOf('\t');
    const [, type, blob] = rec.slice(0, tab).split(' ');
    const path = rec.slice(tab + 1);
    if (type === 'blob' && path.endsWith('.dvs') && !path.endsWith('/.dvs') && path !== '.dvs' && !path.startsWith('.dvs/')) {
      entries.push({ path, blob });
    }
  }
  return entries;
}

/** An object as `git cat-file --batch` gives it. */
interface GitObject {
  oid: string;
  type: string;
  body: Buffer;
}

/** A long-lived `git cat-file --batch`: many blobs, one process. */
export class BlobReader {
  private child?: ChildProcessWithoutNullStreams;
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: Array<{ resolve: (o: GitObject | undefined) => void; reject: (e: Error) => void }> = [];

  constructor(private readonly root: string) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.root });
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.drain();
    });
    child.on('error', (err) => this.failAll(err));
    child.on('exit', () => this.failAll(new Error('git cat-file exited')));
    this.child = child;
    return child;
  }

  private failAll(err: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.reject(err);
  }

  private drain(): void {
    while (this.waiting.length) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0) return;
      const header = this.buffer.subarray(0, nl).toString();
      // "<name> missing" or "<name> ambiguous": no object, no body.
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buffer = this.buffer.subarray(nl + 1);
        this.waiting.shift()!.resolve(undefined);
        continue;
      }
      const [oid, type, sizeText] = header.split(' ');
      const size = Number(sizeText);
      if (this.buffer.length < nl + 1 + size + 1) return;
      const body = Buffer.from(this.buffer.subarray(nl + 1, nl + 1 + size));
      this.buffer = this.buffer.subarray(nl + 1 + size + 1);
      this.waiting.shift()!.resolve({ oid, type, body });
    }
  }

  private object(spec: string): Promise<GitObject | undefined> {
    const child = this.start();
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      child.stdin.write(spec + '\n');
    });
  }

  /** The object's bytes, or undefined when Git does not have it. `spec` is a blob id or `rev:path`. */
  async read(spec: string): Promise<Buffer | undefined> {
    return (await this.object(spec))?.body;
  }

  /**
   * The commit a revision names (`HEAD~1`, a branch, `:/message`, …), through this same process instead
   * of a `git rev-parse` of its own (each Git process costs milliseconds to start); undefined when it
   * names no commit, or cannot be sent on one line: resolveRevision then decides, with its messages.
   */
  async commitOf(rev: string): Promise<string | undefined> {
    if (rev === '' || /[\n\r\0]/.test(rev)) return undefined;
    const o = await this.object(`${rev}^{commit}`);
    return o?.type === 'commit' && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(o.oid) ? o.oid : undefined;
  }

  close(): void {
    if (!this.child) return;
    this.child.removeAllListeners('exit');
    this.child.stdin.end();
    this.child = undefined;
  }
}

/**
 * A bare clone of `url` into `dir` (which must not exist), for reading another repository's pointers
 * (`dvs list`/`get`/`import`). With `branch` (a branch or tag) and a network URL, only that commit is
 * fetched. Git never prompts (a URL needing a password fails instead) and never runs `ext::` commands:
 * the URL may come from a committed pointer. Rejects with git's stderr.
 */
export function cloneBare(url: string, dir: string, options: { branch?: string; shallow?: boolean } = {}): Promise<void> {
  const args = ['-c', 'protocol.ext.allow=never', 'clone', '--bare', '--quiet'];
  if (options.shallow) args.push('--depth', '1');
  if (options.branch !== undefined) args.push('--branch', options.branch);
  args.push('--', url, dir);
  return new Promise((resolve, reject) => {
    execFile('git', args, { env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', SSH_ASKPASS: 'true' }, maxBuffer: 1 << 24, encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve();
    });
  });
}
