import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DvsError, isDvsError } from '../../errors.js';
import { dataPathProblem } from '../../base/paths.js';
import { dataPathOf, isPointerPath, parsePointer, pointerPathOf, type Pointer } from '../../pointer/format.js';
import { BlobReader, cloneBare, pointersAtCommit, resolveRevision, type TreeEntry } from '../../scm/git.js';

/**
 * Another Git repository, read from a temporary bare clone at one commit: its pointers, its committed
 * config. Everything read from it is untrusted (docs/security.md): paths go through the path judge,
 * pointers and config through the defensive parsers.
 */
export interface SourceRepo {
  /** The URL as recorded in an import's pointer (a local path made absolute). */
  url: string;
  /** The revision asked for; null: the source's default branch. */
  rev: string | null;
  /** The commit `rev` resolved to. */
  commit: string;
  /** The work tree of a source given as a local path (its cache may be there to share). */
  localRoot?: string;
  /** A file of the source at `commit`, or undefined when it has none. */
  readText(path: string): Promise<string | undefined>;
  /** Pointers at `commit`, under `under` when given. */
  pointers(under?: string): Promise<TreeEntry[]>;
  close(): void;
}

/** Where the source is: a URL Git understands, or a local directory (made absolute). */
export function sourceLocation(cwd: string, url: string): { url: string; localRoot?: string } {
  if (url === '' || url.startsWith('-') || /[\u0000-\u001f\u007f]/.test(url) || /^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) {
    throw new DvsError('SOURCE_URL_INVALID', `"${url.slice(0, 200)}" is not a repository URL or path dvs will clone`, {
      hint: 'Give an https://, ssh://, git@host:path or file:// URL, or the path of a local Git repository.',
      data: { url },
    });
  }
  let local: string | undefined;
  if (/^file:\/\//i.test(url)) local = fileURLToPath(url);
  else if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) && (isAbsolute(url) || existsSync(resolve(cwd, url)))) local = resolve(cwd, url);
  if (local === undefined) return { url };
  let workTree: string | undefined;
  try {
    if (statSync(join(local, '.git')).isDirectory() || statSync(join(local, '.git')).isFile()) workTree = local;
  } catch {
    // a bare repository, or not a repository (git says which)
  }
  return { url: local, localRoot: workTree };
}

/** Clone the source (bare; one commit deep when Git can) and resolve the revision. */
export async function openSource(cwd: string, url: string, rev: string | undefined): Promise<SourceRepo> {
  const where = sourceLocation(cwd, url);
  const tmp = mkdtempSync(join(tmpdir(), 'dvs-source-'));
  const gitDir = join(tmp, 'repo.git');
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  try {
    await cloneSource(where.url, gitDir, rev, where.localRoot !== undefined);
    let commit: string;
    try {
      commit = await resolveRevision(gitDir, rev ?? 'HEAD');
    } catch (err) {
      if (!isDvsError(err)) throw err;
      throw new DvsError('UNKNOWN_REVISION', `${rev === undefined ? 'The default branch' : `Revision "${rev}"`} is not in ${where.url}${rev === undefined ? ' (an empty repository?)' : ''}`, {
        hint: 'Name a branch, tag or commit of the source repository with --rev.',
        data: { url: where.url, rev: rev ?? null },
      });
    }
    const reader = new BlobReader(gitDir);
    return {
      url: where.url,
      rev: rev ?? null,
      commit,
      localRoot: where.localRoot,
      async readText(path) {
        return (await reader.read(`${commit}:${path}`))?.toString('utf8');
      },
      // The data's own pointer sits beside it (`under.dvs`), the pointers of a folder under it.
      pointers: (under) => pointersAtCommit(gitDir, commit, under ? [under, pointerPathOf(under)] : undefined),
      close() {
        reader.close();
        cleanup();
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

async function cloneSource(url: string, gitDir: string, rev: string | undefined, local: boolean): Promise<void> {
  // A branch or tag over the network: one commit. A commit id, an expression, or a local path (whose
  // clone hard-links objects anyway): the whole history, then Git resolves the revision.
  if (!local) {
    try {
      await cloneBare(url, gitDir, { shallow: true, branch: rev });
      return;
    } catch {
      rmSync(gitDir, { recursive: true, force: true });
    }
  }
  try {
    await cloneBare(url, gitDir);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim().split('\n').filter(Boolean);
    throw new DvsError('SOURCE_UNREACHABLE', `Cannot clone ${url}: ${stderr[stderr.length - 1] ?? (err as Error).message}`, {
      hint: 'Check the URL (or path) and that you can `git clone` it.',
      data: { url },
    });
  }
}

/** A data path in the source, as typed: judged like a pointer's name before anything is read for it. */
export function sourceDataPath(path: string): string {
  const trimmed = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  const dataPath = isPointerPath(trimmed) ? dataPathOf(trimmed) : trimmed;
  const problem = dataPathProblem(dataPath);
  if (problem) {
    throw new DvsError(problem.code, `${path}: a path in the source repository that ${problem.reason}`, {
      hint: 'Name tracked data by its path from the top of the source repository (dvs list <url> shows them).',
      data: { path },
    });
  }
  return dataPath;
}

/**
 * The pointer of `dataPath` in the source, or of the tracked directory `dataPath` is inside (then `sub`
 * is the path within it), for `dvs get` of one part of a directory.
 */
export async function readSourcePointerOrOwner(source: SourceRepo, dataPath: string): Promise<{ pointer: Pointer; owner: string; sub?: string }> {
  const parts = dataPath.split('/');
  for (let n = parts.length - 1; n >= 1; n--) {
    const owner = parts.slice(0, n).join('/');
    const text = await source.readText(pointerPathOf(owner));
    if (text === undefined) continue;
    const pointer = parsePointer(text, `${source.url}:${pointerPathOf(owner)}`);
    if (pointer.kind === 'dir') return { pointer, owner, sub: parts.slice(n).join('/') };
  }
  return { pointer: await readSourcePointer(source, dataPath), owner: dataPath };
}

/** The pointer of `dataPath` in the source, parsed as untrusted input. */
export async function readSourcePointer(source: SourceRepo, dataPath: string): Promise<Pointer> {
  const pointerPath = pointerPathOf(dataPath);
  const text = await source.readText(pointerPath);
  if (text === undefined) {
    throw new DvsError('SOURCE_NOT_TRACKED', `${dataPath}: not tracked by dvs in ${source.url} at ${source.commit.slice(0, 10)} (no ${pointerPath})`, {
      hint: `List the data it tracks: dvs list ${source.url}${source.rev ? ` --rev ${source.rev}` : ''}`,
      data: { url: source.url, path: dataPath, commit: source.commit },
    });
  }
  return parsePointer(text, `${source.url}:${pointerPath}`);
}
