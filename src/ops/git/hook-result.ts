import type { ErrorCode } from '../../errors.js';
import type { HookName } from '../../scm/hooks.js';
import type { CheckoutResult } from '../data/checkout.js';
import type { DataKind } from '../../pointer/format.js';

/** What every Git hook receives and returns (the hooks are in hook.ts, pre-push in pre-push.ts). */

export interface HookOptions {
  name: HookName;
  args: string[];
  /** What Git wrote to the hook's stdin (pre-push, post-rewrite). */
  stdin?: string;
}

export interface HookResult {
  name: HookName;
  /** Why nothing was done, when nothing was. */
  skipped?: string;
  /** Pointers that differ between the two commits. */
  pointers: string[];
  checkout?: CheckoutResult;
  /** Data removed because its pointer is gone in the new commit (and it was safe in the cache). */
  removed: string[];
  /** Data whose pointer is gone but that was left alone (modified, or not in the cache). */
  kept: string[];
  /** Pointers the path guard refused (repo/paths.ts): skipped, nothing touched. */
  refused: Array<{ pointerPath: string; message: string }>;
  fetched?: number;
  /** Objects still missing after the hook (with autofetch off, or the fetch failed). */
  missing: number;
  /** pre-push: what was sent. */
  pushed?: { objects: number; bytes: number };
  /** pre-push: what the pushed commits need that was not sent, and why. */
  unsent?: UnsentData;
  /** pre-commit: tracked data that differs from the pointer being committed. */
  stale?: StaleData[];
  /** Set when the hook must fail the Git command (pre-push; pre-commit with hooks.require_tracked). */
  error?: { message: string; hint?: string };
}

/** pre-push: data the pushed commits need that did not reach a dvs remote, and why. */
export interface UnsentData {
  /** NO_REMOTE, REMOTE_NOT_FOUND, the remote's error code (REMOTE_UNREACHABLE, …), or PUSH_INCOMPLETE. */
  code: ErrorCode;
  message: string;
  hint?: string;
  /** The dvs remote the data was for, when one could be picked. */
  remote?: string;
  /** Every dvs remote configured. */
  remotes: string[];
  /** Data paths whose objects did not all reach the remote (` (at <commit>)` when read from a commit); empty when unknown. */
  paths: string[];
  /** How many commits were pushed. */
  commits: number;
  /** How many objects were not sent, when known. */
  objects?: number;
  /** Sends the data once the cause is fixed (after `git push` went ahead, the hook will not run again). */
  command: string;
  /** hooks.require_push is on: the hook fails, and Git does not push. */
  required: boolean;
}

/** pre-commit: data whose workspace content is not what the staged pointer names. */
export interface StaleData {
  path: string;
  pointerPath: string;
  kind: DataKind;
  /** `track`: the data changed since it was tracked; `stage`: the workspace pointer matches it, only `git add` is missing. */
  fix: 'track' | 'stage';
  /** Directories: files added, deleted and modified relative to the staged pointer (when its manifest is in the cache). */
  changes?: { added: number; deleted: number; modified: number };
}
