import { readableGitDirs, type GitDirs } from './git-object-dir.js';
import { changedPointersByGit, changedPointersIn, type ChangedPointer } from './changed-pointers.js';
import { leftToGit } from './git-object-error.js';
import { GitObjectReader, OID } from './git-objects.js';
import { readCommitOf } from './git-revisions.js';
import type { BlobReader } from './git.js';

/**
 * Revisions and objects for one command (`dvs diff`): read by dvs itself where the repository allows it
 * (readableGitDirs), so that a diff between two commits starts no Git process (starting one, and waiting
 * for it, was a tenth of the command); anything else goes to one `git cat-file --batch`, started on
 * first need, with node:child_process loaded only then.
 */
export class RevisionReader {
  /** null: the repository is not one dvs reads itself. */
  private own?: { dirs: GitDirs; objects: GitObjectReader } | null;
  private git?: BlobReader;

  constructor(private readonly root: string) {}

  /** The commit `rev` names, or undefined when it names none (then resolveRevision words the error). */
  async commitOf(rev: string): Promise<string | undefined> {
    const own = this.ownObjects();
    return (own && readCommitOf(own.dirs, own.objects, rev)) ?? (await this.viaGit()).commitOf(rev);
  }

  /** An object's bytes (`spec`: an object id, or anything `git cat-file` takes); undefined when missing. */
  async read(spec: string): Promise<Buffer | undefined> {
    const own = OID.test(spec) ? this.ownObjects() : undefined;
    if (own) {
      try {
        return own.objects.read(spec).body;
      } catch (err) {
        if (!leftToGit(err)) throw err;
      }
    }
    return (await this.viaGit()).read(spec);
  }

  /** The pointers that differ between two commits, read with this reader's open packs where it can. */
  async changedPointers(a: string, b: string): Promise<ChangedPointer[]> {
    const own = this.ownObjects();
    return (own && changedPointersIn(own.objects, a, b)) ?? changedPointersByGit(this.root, a, b);
  }

  close(): void {
    if (this.own) this.own.objects.close();
    this.git?.close();
  }

  private ownObjects(): { dirs: GitDirs; objects: GitObjectReader } | undefined {
    if (this.own === undefined) {
      const dirs = readableGitDirs(this.root);
      this.own = dirs ? { dirs, objects: new GitObjectReader(dirs.objects) } : null;
    }
    return this.own ?? undefined;
  }

  private async viaGit(): Promise<BlobReader> {
    if (!this.git) {
      const { BlobReader } = await import('./git.js');
      this.git = new BlobReader(this.root);
    }
    return this.git;
  }
}
