/**
 * The library API of dvs (`import { open, track } from 'dvs'`), for training code, notebooks and tools:
 * read tracked data at any revision, and run the operations the CLI runs. Results are exactly what
 * `dvs <verb> --json` prints; failures are thrown as DvsError with the CLI's `code` and `exitCode`.
 * Nothing here prints or exits. docs/api.md is the reference.
 */
import { errorCodes } from '../error-codes.js';

export { open, read, list, getUrl, type ReadOptions, type DataEntry } from './data.js';
export {
  init,
  track,
  status,
  checkout,
  push,
  fetch,
  pull,
  diff,
  verify,
  gc,
  remove,
  move,
  runs,
  lineage,
  audit,
  type TrackOptions,
  type StatusOptions,
  type CheckoutOptions,
  type TransferOptions,
  type PullOptions,
  type DiffOptions,
  type VerifyOptions,
  type GcOptions,
} from './operations.js';
export { transform, repro, hashRecords, checkpoints, type TransformApiOptions, type ReproApiOptions } from './pipeline.js';
export { get, importData, update, locks, type SourceOptions } from './sharing.js';
export type { CommonOptions } from './invoke.js';
export { DvsError, isDvsError, type ErrorCode, type ErrorKind, type DvsErrorOptions } from '../errors.js';
export { RemoteError, type RemoteReason } from '../remotes/errors.js';
export { WARNING_CODES, EXIT_STATUS_OF_KIND } from '../error-codes.js';
/** Every error code with its kind and when it happens (docs/errors.md). */
export const ERROR_CODES = errorCodes();
export type { ProgressEvent, ProgressListener, ProgressPhase, Warning } from '../events.js';

export type * from './outputs.js';
export type { InitResult } from '../ops/setup/init.js';
export type { TrackResult } from '../ops/data/track.js';
export type { StatusResult } from '../ops/data/status.js';
export type { RemoteStatusResult } from '../ops/remote/status.js';
export type { CheckoutResult, CheckoutPreview } from '../ops/data/checkout.js';
export type { PushResult } from '../ops/remote/push.js';
export type { FetchResult } from '../ops/remote/fetch.js';
export type { PullResult } from '../ops/remote/pull.js';
export type { DiffResult } from '../ops/data/diff.js';
export type { VerifyResult } from '../ops/data/verify.js';
export type { GcResult } from '../ops/data/gc.js';
export type { RemoveResult } from '../ops/data/remove.js';
export type { MoveResult } from '../ops/data/move.js';
export type { RunCommandResult } from '../commands/run.js';
export type { LineageCommandResult } from '../commands/lineage.js';
export type { AuditCommandResult } from '../commands/audit.js';
export type { TransformResult } from '../ops/history/transform.js';
export type { ReproCommandResult } from '../commands/repro.js';
export type { RecordHashResult } from '../ops/data/record-hash.js';
export type { CheckpointResult, CheckpointListResult } from '../ops/data/checkpoint.js';
export type { GetResult } from '../ops/registry/get.js';
export type { ImportResult } from '../ops/registry/import.js';
export type { UpdateResult } from '../ops/registry/update.js';
export type { LockResult, UnlockResult, LocksResult } from '../ops/remote/locks.js';
