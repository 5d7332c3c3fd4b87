import { existsSync } from 'node:fs';
import type { Oid } from '../objects/oid.js';
import { parsePointer, type Pointer } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';
import { BlobReader, resolveRevision, runGit } from '../scm/git.js';

/** How many commits back `findVersion` looks for an earlier version of a pointer. */
const HISTORY_LIMIT = 500;

/**
 * Where pointers are read from: the workspace, or a commit's tree through Git's objects (no checkout).
 * Earlier versions of a pointer are found in the history of its file.
 */
export class PointerSource {
  private reader?: BlobReader;
  private readonly cache = new Map<string, Pointer | undefined>();

  private constructor(
    private readonly repo: Repo,
    /** The commit read from, or undefined for the workspace. */
    readonly commit: string | undefined,
    /** Where history searches start (the commit, or HEAD for the workspace; undefined without commits). */
    private readonly historyStart: string | undefined,
  ) {}

  static async open(repo: Repo, rev?: string): Promise<PointerSource> {
    if (rev !== undefined) {
      const commit = await resolveRevision(repo.root, rev);
      return new PointerSource(repo, commit, commit);
    }
    const head = await runGit(repo.root, ['rev-parse', '--verify', '--quiet', 'HEAD']).then((s) => s.trim() || undefined, () => undefined);
    return new PointerSource(repo, undefined, head);
  }

  /** "the workspace" or "commit 1a2b3c4d5e", for messages. */
  get label(): string {
    return this.commit ? `commit ${this.commit.slice(0, 10)}` : 'the workspace';
  }

  private blobs(): BlobReader {
    return (this.reader ??= new BlobReader(this.repo.root));
  }

  /** The pointer at this source (or at `commit`), or undefined when there is none. */
  async read(pointerPath: string, commit = this.commit): Promise<Pointer | undefined> {
    const key = `${commit ?? ''}\0${pointerPath}`;
    if (this.cache.has(key)) return this.cache.get(key);
    let pointer: Pointer | undefined;
    if (commit === undefined) {
      pointer = existsSync(this.repo.abs(pointerPath)) ? readPointer(this.repo.root, pointerPath) : undefined;
    } else {
      const blob = await this.blobs().read(`${commit}:${pointerPath}`);
      pointer = blob ? parsePointer(blob.toString('utf8'), `${pointerPath} at ${commit.slice(0, 10)}`) : undefined;
    }
    this.cache.set(key, pointer);
    return pointer;
  }

  /** The commits that changed the pointer, newest first, searching back from this source (at most HISTORY_LIMIT). */
  async history(pointerPath: string): Promise<string[]> {
    if (!this.historyStart) return [];
    const log = await runGit(this.repo.root, ['log', '--format=%H', `-n${HISTORY_LIMIT}`, this.historyStart, '--', pointerPath]).catch(() => '');
    return log.split('\n').filter(Boolean);
  }

  /** The most recent committed version of the pointer whose oid is `oid`, searching back from this source. */
  async findVersion(pointerPath: string, oid: Oid): Promise<{ pointer: Pointer; commit: string } | undefined> {
    for (const commit of await this.history(pointerPath)) {
      let pointer: Pointer | undefined;
      try {
        pointer = await this.read(pointerPath, commit);
      } catch {
        continue; // a malformed pointer in history is not the version we look for
      }
      if (pointer?.oid === oid) return { pointer, commit };
    }
    return undefined;
  }

  close(): void {
    this.reader?.close();
  }
}
