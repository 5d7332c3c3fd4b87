import { getCommand } from '../commands/get.js';
import { importCommand } from '../commands/import.js';
import { lockCommand, locksCommand, unlockCommand } from '../commands/lock.js';
import { updateCommand } from '../commands/update.js';
import type { GetResult } from '../ops/registry/get.js';
import type { ImportResult } from '../ops/registry/import.js';
import type { UpdateResult } from '../ops/registry/update.js';
import type { LockResult, LocksResult, UnlockResult } from '../ops/remote/locks.js';
import { invoke, type CommonOptions } from './invoke.js';

/*
 * The verbs that share data between repositories and people: get/import/update from another
 * repository, and partition locks on a remote. Each returns exactly what `dvs <verb> --json` prints.
 */

export interface SourceOptions extends CommonOptions {
  /** Where to put it (default: its name, in `cwd`). */
  out?: string;
  /** A branch, tag or commit of the source (default: its default branch). */
  rev?: string;
  /** Replace what is at the output path. */
  force?: boolean;
}

/** `dvs get <url> <path>`: download data another repository tracks, without tracking it (needs no repository here). */
export function get(url: string, path: string, options: SourceOptions = {}): Promise<GetResult> {
  return invoke(getCommand, { url, path, out: options.out, rev: options.rev, force: options.force ?? false }, options);
}

/** `dvs import <url> <path>`: bring data another repository tracks into this one, tracked, with its source recorded. */
export function importData(url: string, path: string, options: SourceOptions = {}): Promise<ImportResult> {
  return invoke(importCommand, { url, path, out: options.out, rev: options.rev, force: options.force ?? false }, options);
}

/** `dvs update <paths..>`: move imported data to the newest commit of its source revision (or to `rev`). */
export function update(paths: string | string[], options: CommonOptions & { rev?: string; force?: boolean } = {}): Promise<UpdateResult> {
  return invoke(updateCommand, { paths: Array.isArray(paths) ? paths : [paths], rev: options.rev, force: options.force ?? false }, options);
}

/** `dvs lock`, `dvs unlock`, `dvs locks`: partition locks of append-only data, held on a remote. */
export const locks = {
  lock(partition: string, options: CommonOptions & { remote?: string } = {}): Promise<LockResult> {
    return invoke(lockCommand, { partition, remote: options.remote }, options);
  },
  /** `force`: break a lock someone else holds. */
  unlock(partition: string, options: CommonOptions & { remote?: string; force?: boolean } = {}): Promise<UnlockResult> {
    return invoke(unlockCommand, { partition, remote: options.remote, force: options.force ?? false }, options);
  },
  list(options: CommonOptions & { remote?: string } = {}): Promise<LocksResult> {
    return invoke(locksCommand, { remote: options.remote }, options);
  },
};
