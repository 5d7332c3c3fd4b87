import type { AuditCommandResult } from '../commands/audit.js';
import type { LineageCommandResult } from '../commands/lineage.js';
import type { ReproCommandResult } from '../commands/repro.js';
import type { RunCommandResult } from '../commands/run.js';
import type { CommandDef } from '../commands/types.js';
import type { ErrorCode, ErrorKind } from '../errors.js';
import type { CheckoutPreview, CheckoutResult } from '../ops/data/checkout.js';
import type { DiffResult } from '../ops/data/diff.js';
import type { GcResult } from '../ops/data/gc.js';
import type { RecordHashResult } from '../ops/data/record-hash.js';
import type { MoveResult } from '../ops/data/move.js';
import type { RemoveResult } from '../ops/data/remove.js';
import type { StatusResult } from '../ops/data/status.js';
import type { TrackResult } from '../ops/data/track.js';
import type { CheckpointListResult, CheckpointResult } from '../ops/data/checkpoint.js';
import type { LockResult, LocksResult, UnlockResult } from '../ops/remote/locks.js';
import type { UnprotectResult } from '../ops/data/unprotect.js';
import type { VerifyResult } from '../ops/data/verify.js';
import type { InstallResult, UninstallResult } from '../ops/git/install.js';
import type { TransformResult } from '../ops/history/transform.js';
import type { GetResult } from '../ops/registry/get.js';
import type { ImportResult } from '../ops/registry/import.js';
import type { ListResult } from '../ops/registry/list.js';
import type { UpdateResult } from '../ops/registry/update.js';
import type { FetchResult } from '../ops/remote/fetch.js';
import type { PullResult } from '../ops/remote/pull.js';
import type { PushResult } from '../ops/remote/push.js';
import type { RemoteResult } from '../ops/remote/remote.js';
import type { RemoteStatusResult } from '../ops/remote/status.js';
import type { CacheDirResult } from '../ops/setup/cache-dir.js';
import type { ConfigResult } from '../ops/setup/config.js';
import type { InitResult } from '../ops/setup/init.js';

/*
 * What `dvs <verb> --json` prints, one named type per verb: docs/schemas/<verb>.json is generated from
 * these (`npm run schemas`), and the checks at the end fail the build when a verb's result type and its
 * entry here part ways.
 */
export type InitOutput = InitResult;
export type TrackOutput = TrackResult;
export type CheckpointOutput = CheckpointResult | CheckpointListResult;
export type LockOutput = LockResult;
export type UnlockOutput = UnlockResult;
export type LocksOutput = LocksResult;
export type StatusOutput = StatusResult | RemoteStatusResult;
export type CheckoutOutput = CheckoutResult | CheckoutPreview;
export type PushOutput = PushResult;
export type FetchOutput = FetchResult;
export type PullOutput = PullResult;
export type DiffOutput = DiffResult;
export type HashOutput = RecordHashResult;
export type ListOutput = ListResult;
export type GetOutput = GetResult;
export type ImportOutput = ImportResult;
export type UpdateOutput = UpdateResult;
export type TransformOutput = TransformResult;
export type LineageOutput = LineageCommandResult;
export type ReproOutput = ReproCommandResult;
export type RunOutput = RunCommandResult;
export type AuditOutput = AuditCommandResult;
export type RemoveOutput = RemoveResult;
export type MoveOutput = MoveResult;
export type UnprotectOutput = UnprotectResult;
export type GcOutput = GcResult;
export type VerifyOutput = VerifyResult;
export type ConfigOutput = ConfigResult;
export type CacheOutput = CacheDirResult;
export type RemoteOutput = RemoteResult;
export type InstallOutput = InstallResult;
export type UninstallOutput = UninstallResult;

/** What every verb prints with --json when it fails (and exits with the error kind's status). */
export interface ErrorOutput {
  error: {
    code: ErrorCode | 'INTERNAL';
    kind: ErrorKind;
    message: string;
    hint?: string;
    data?: Record<string, unknown>;
  };
}

/** The output type of each verb, by the name docs/schemas/ files it under. */
export interface Outputs {
  init: InitOutput;
  track: TrackOutput;
  checkpoint: CheckpointOutput;
  lock: LockOutput;
  unlock: UnlockOutput;
  locks: LocksOutput;
  status: StatusOutput;
  checkout: CheckoutOutput;
  push: PushOutput;
  fetch: FetchOutput;
  pull: PullOutput;
  diff: DiffOutput;
  hash: HashOutput;
  list: ListOutput;
  get: GetOutput;
  import: ImportOutput;
  update: UpdateOutput;
  transform: TransformOutput;
  lineage: LineageOutput;
  repro: ReproOutput;
  run: RunOutput;
  audit: AuditOutput;
  remove: RemoveOutput;
  move: MoveOutput;
  unprotect: UnprotectOutput;
  gc: GcOutput;
  verify: VerifyOutput;
  config: ConfigOutput;
  cache: CacheOutput;
  remote: RemoteOutput;
  install: InstallOutput;
  uninstall: UninstallOutput;
}

type ResultOf<C> = C extends CommandDef<any, infer R> ? R : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<T extends true> = T;

// Each verb's result type is its entry above (a compile error here means docs/schemas/ would lie).
export type OutputsMatchCommands = Check<
  Same<
    {
      [K in keyof Outputs]: ResultOf<Extract<CommandsByName, { name: K }>['def']>;
    },
    Outputs
  >
>;

type CommandsByName =
  | { name: 'init'; def: typeof import('../commands/init.js').initCommand }
  | { name: 'track'; def: typeof import('../commands/track.js').trackCommand }
  | { name: 'checkpoint'; def: typeof import('../commands/checkpoint.js').checkpointCommand }
  | { name: 'lock'; def: typeof import('../commands/lock.js').lockCommand }
  | { name: 'unlock'; def: typeof import('../commands/lock.js').unlockCommand }
  | { name: 'locks'; def: typeof import('../commands/lock.js').locksCommand }
  | { name: 'status'; def: typeof import('../commands/status.js').statusCommand }
  | { name: 'checkout'; def: typeof import('../commands/checkout.js').checkoutCommand }
  | { name: 'push'; def: typeof import('../commands/push.js').pushCommand }
  | { name: 'fetch'; def: typeof import('../commands/fetch.js').fetchCommand }
  | { name: 'pull'; def: typeof import('../commands/pull.js').pullCommand }
  | { name: 'diff'; def: typeof import('../commands/diff.js').diffCommand }
  | { name: 'hash'; def: typeof import('../commands/hash.js').hashCommand }
  | { name: 'list'; def: typeof import('../commands/list.js').listCommand }
  | { name: 'get'; def: typeof import('../commands/get.js').getCommand }
  | { name: 'import'; def: typeof import('../commands/import.js').importCommand }
  | { name: 'update'; def: typeof import('../commands/update.js').updateCommand }
  | { name: 'transform'; def: typeof import('../commands/transform.js').transformCommand }
  | { name: 'lineage'; def: typeof import('../commands/lineage.js').lineageCommand }
  | { name: 'repro'; def: typeof import('../commands/repro.js').reproCommand }
  | { name: 'run'; def: typeof import('../commands/run.js').runCommand }
  | { name: 'audit'; def: typeof import('../commands/audit.js').auditCommand }
  | { name: 'remove'; def: typeof import('../commands/remove.js').removeCommand }
  | { name: 'move'; def: typeof import('../commands/move.js').moveCommand }
  | { name: 'unprotect'; def: typeof import('../commands/unprotect.js').unprotectCommand }
  | { name: 'gc'; def: typeof import('../commands/gc.js').gcCommand }
  | { name: 'verify'; def: typeof import('../commands/verify.js').verifyCommand }
  | { name: 'config'; def: typeof import('../commands/config.js').configCommand }
  | { name: 'cache'; def: typeof import('../commands/cache.js').cacheCommand }
  | { name: 'remote'; def: typeof import('../commands/remote.js').remoteCommand }
  | { name: 'install'; def: typeof import('../commands/install.js').installCommand }
  | { name: 'uninstall'; def: typeof import('../commands/install.js').uninstallCommand };
