import { auditCommand, type AuditCommandResult } from '../commands/audit.js';
import { checkoutCommand } from '../commands/checkout.js';
import { diffCommand } from '../commands/diff.js';
import { fetchCommand } from '../commands/fetch.js';
import { gcCommand } from '../commands/gc.js';
import { initCommand } from '../commands/init.js';
import { lineageCommand, type LineageCommandResult } from '../commands/lineage.js';
import { moveCommand } from '../commands/move.js';
import { pullCommand } from '../commands/pull.js';
import { pushCommand, type TransferArgs } from '../commands/push.js';
import { removeCommand } from '../commands/remove.js';
import { runCommand, type RunCommandResult } from '../commands/run.js';
import { statusCommand } from '../commands/status.js';
import { trackCommand } from '../commands/track.js';
import { verifyCommand } from '../commands/verify.js';
import type { CheckoutPreview, CheckoutResult } from '../ops/data/checkout.js';
import type { DiffResult } from '../ops/data/diff.js';
import type { GcResult } from '../ops/data/gc.js';
import type { MoveResult } from '../ops/data/move.js';
import type { RemoveResult } from '../ops/data/remove.js';
import type { StatusResult } from '../ops/data/status.js';
import type { TrackResult } from '../ops/data/track.js';
import type { VerifyResult } from '../ops/data/verify.js';
import type { FetchResult } from '../ops/remote/fetch.js';
import type { PullResult } from '../ops/remote/pull.js';
import type { PushResult } from '../ops/remote/push.js';
import type { RemoteStatusResult } from '../ops/remote/status.js';
import type { InitResult } from '../ops/setup/init.js';
import { invoke, type CommonOptions } from './invoke.js';

/*
 * The verbs of the CLI as functions. Each maps its options onto the command's flags and runs the command
 * itself (src/commands/), so each returns exactly the object `dvs <verb> --json` prints. A result with
 * failures in it (push, fetch, pull, checkout: `failures`) is returned, not thrown: the CLI exits 8 for it.
 */

const list = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** `dvs init`, in `cwd` (a Git work tree). */
export function init(options: CommonOptions = {}): Promise<InitResult> {
  return invoke(initCommand, {}, options);
}

export interface TrackOptions extends CommonOptions {
  /** The paths are glob patterns, expanded inside the repository. */
  glob?: boolean;
  /** Track the one source given (anywhere, only read) as this path inside the repository. */
  out?: string;
  /** With `out`: replace what is at the destination. */
  force?: boolean;
  /** Upload straight to a remote instead of the cache. */
  toRemote?: boolean;
  remote?: string;
  jobs?: number;
  /** Declare the directories append-only. */
  appendOnly?: boolean;
}

/** `dvs track <paths..>`: hash into the cache, write and stage the pointers. */
export function track(paths: string | string[], options: TrackOptions = {}): Promise<TrackResult> {
  const { glob = false, out, force = false, toRemote = false, remote, jobs, appendOnly = false } = options;
  return invoke(trackCommand, { paths: list(paths)!, glob, out, force, toRemote, remote, jobs, appendOnly }, options);
}

export interface StatusOptions extends CommonOptions {
  paths?: string | string[];
  /** List the files added, deleted and modified inside directories. */
  granular?: boolean;
  /** Compare with a remote instead (`true`: the default remote). */
  remote?: string | true;
}

/** `dvs status`: the workspace and the cache against the pointers (or, with `remote`, against a remote). */
export function status(options: StatusOptions = {}): Promise<StatusResult | RemoteStatusResult> {
  const remote = options.remote === true ? '' : options.remote;
  return invoke(statusCommand, { paths: list(options.paths), granular: options.granular ?? false, exitCode: false, remote }, options);
}

export interface CheckoutOptions extends CommonOptions {
  paths?: string | string[];
  force?: boolean;
  relink?: boolean;
  /** Only say what would change (the result is a preview). */
  dryRun?: boolean;
}

/** `dvs checkout`: make the workspace match the pointers, from the cache. */
export function checkout(options: CheckoutOptions = {}): Promise<CheckoutResult | CheckoutPreview> {
  return invoke(checkoutCommand, { paths: list(options.paths), force: options.force ?? false, relink: options.relink ?? false, dryRun: options.dryRun ?? false }, options);
}

export interface TransferOptions extends CommonOptions {
  paths?: string | string[];
  remote?: string;
  jobs?: number;
  /** The pointers of these revisions too. */
  rev?: string | string[];
  allBranches?: boolean;
  allTags?: boolean;
  allCommits?: boolean;
}

function transferArgs(options: TransferOptions): TransferArgs {
  return {
    paths: list(options.paths),
    remote: options.remote,
    jobs: options.jobs,
    rev: list(options.rev),
    allBranches: options.allBranches ?? false,
    allTags: options.allTags ?? false,
    allCommits: options.allCommits ?? false,
  };
}

/** `dvs push`: upload what the pointers need that the remote lacks. */
export function push(options: TransferOptions = {}): Promise<PushResult> {
  return invoke(pushCommand, transferArgs(options), options);
}

/** `dvs fetch`: download into the cache what the pointers need. */
export function fetch(options: TransferOptions = {}): Promise<FetchResult> {
  return invoke(fetchCommand, transferArgs(options), options);
}

export interface PullOptions extends TransferOptions {
  force?: boolean;
  allowMissing?: boolean;
}

/** `dvs pull`: fetch, then check out. */
export function pull(options: PullOptions = {}): Promise<PullResult> {
  return invoke(pullCommand, { ...transferArgs(options), force: options.force ?? false, allowMissing: options.allowMissing ?? false }, options);
}

export interface DiffOptions extends CommonOptions {
  /** Older revision (default HEAD). */
  revA?: string;
  /** Newer revision (default: the workspace). */
  revB?: string;
  targets?: string | string[];
  /** Compare contents of CSV/TSV/JSONL/Parquet (default: config diff.content). */
  content?: boolean;
  rows?: number;
  key?: string;
}

/** `dvs diff [rev-a] [rev-b]`: what changed in the data. */
export function diff(options: DiffOptions = {}): Promise<DiffResult> {
  const { revA, revB, content, rows, key } = options;
  return invoke(diffCommand, { revA, revB, targets: list(options.targets), content, rows, key, md: false, exitCode: false }, options);
}

export interface VerifyOptions extends CommonOptions {
  paths?: string | string[];
  /** Check a remote instead (`true`: the default remote). */
  remote?: string | true;
  /** With `remote`: download and re-hash every object. */
  deep?: boolean;
}

/** `dvs verify`: re-hash the cache objects behind the pointers (or a remote's). */
export function verify(options: VerifyOptions = {}): Promise<VerifyResult> {
  const remote = options.remote === true ? '' : options.remote;
  return invoke(verifyCommand, { paths: list(options.paths), remote, deep: options.deep ?? false }, options);
}

export interface GcOptions extends CommonOptions {
  allBranches?: boolean;
  allTags?: boolean;
  allCommits?: boolean;
  rev?: string | string[];
  /** Keep what commits of this day (YYYY-MM-DD) or later need. */
  date?: string;
  /** Keep the datasets of run records (default true). */
  runs?: boolean;
  projects?: string[];
  dryRun?: boolean;
  force?: boolean;
  /** Collect on a remote instead (`true`: the default remote). */
  remote?: string | true;
}

/** `dvs gc`: delete cache (or remote) objects nothing kept needs. */
export function gc(options: GcOptions = {}): Promise<GcResult> {
  return invoke(
    gcCommand,
    {
      allBranches: options.allBranches ?? false,
      allTags: options.allTags ?? false,
      allCommits: options.allCommits ?? false,
      rev: list(options.rev),
      date: options.date,
      runs: options.runs ?? true,
      projects: options.projects,
      dryRun: options.dryRun ?? false,
      force: options.force ?? false,
      remote: options.remote === true ? '' : options.remote,
    },
    options,
  );
}

/** `dvs remove`: stop tracking data (and with `outs`, delete it when its content is safe in the cache). */
export function remove(paths: string | string[], options: CommonOptions & { outs?: boolean; force?: boolean } = {}): Promise<RemoveResult> {
  return invoke(removeCommand, { pointers: list(paths)!, outs: options.outs ?? false, force: options.force ?? false }, options);
}

/** `dvs move`: rename tracked data and its pointer together. */
export function move(source: string, destination: string, options: CommonOptions = {}): Promise<MoveResult> {
  return invoke(moveCommand, { source, destination }, options);
}

/** `key=value` pairs as the CLI takes them, from an object or as given. */
function assignments(values: Record<string, string | number | boolean> | string[] | undefined): string[] | undefined {
  if (values === undefined || Array.isArray(values)) return values;
  return Object.entries(values).map(([k, v]) => `${k}=${v}`);
}

type RunResult<A extends RunCommandResult['action']> = Extract<RunCommandResult, { action: A }>;

const runArgs = { content: true, rows: 3, md: false };

/** `dvs run …`: training-run records. */
export const runs = {
  /** `dvs run start <id>`: record what a run trains on, before training. */
  start(id: string, options: CommonOptions & { model: string; datasets?: string | string[]; params?: Record<string, string | number | boolean> | string[] }): Promise<RunResult<'start'>> {
    return invoke(runCommand, { ...runArgs, action: 'start', runs: [id], model: options.model, dataset: list(options.datasets), param: assignments(options.params) }, options) as Promise<RunResult<'start'>>;
  },
  /** `dvs run finish <id>`: add its metrics. */
  finish(id: string, options: CommonOptions & { metrics: Record<string, number> | string[] }): Promise<RunResult<'finish'>> {
    return invoke(runCommand, { ...runArgs, action: 'finish', runs: [id], metric: assignments(options.metrics) }, options) as Promise<RunResult<'finish'>>;
  },
  /** `dvs run list`: the runs of the workspace, or committed at `rev`. */
  list(options: CommonOptions & { rev?: string } = {}): Promise<RunResult<'list'>> {
    return invoke(runCommand, { ...runArgs, action: 'list', rev: options.rev }, options) as Promise<RunResult<'list'>>;
  },
  /** `dvs run show <id>[@<rev>]`. */
  show(run: string, options: CommonOptions = {}): Promise<RunResult<'show'>> {
    return invoke(runCommand, { ...runArgs, action: 'show', runs: [run] }, options) as Promise<RunResult<'show'>>;
  },
  /** `dvs run compare <a> <b>`: data, lineage, parameters, code and metric deltas. */
  compare(a: string, b: string, options: CommonOptions & { content?: boolean; rows?: number } = {}): Promise<RunResult<'compare'>> {
    return invoke(runCommand, { ...runArgs, action: 'compare', runs: [a, b], content: options.content ?? true, rows: options.rows ?? 3 }, options) as Promise<RunResult<'compare'>>;
  },
};

type LineageResult<A extends LineageCommandResult['action']> = Extract<LineageCommandResult, { action: A }>;

const lineageArgs = { mermaid: false, md: false, 'row-index': true };

/** `dvs lineage …`. */
export const lineage = {
  /** `dvs lineage show <path>`: how a dataset version was made, back to its raw sources. */
  show(path: string, options: CommonOptions & { rev?: string } = {}): Promise<LineageResult<'show'>> {
    return invoke(lineageCommand, { ...lineageArgs, action: 'show', path, rev: options.rev }, options) as Promise<LineageResult<'show'>>;
  },
  /** `dvs lineage record`: record a transform that ran elsewhere. */
  record(
    options: CommonOptions & { name: string; inputs: string[]; outputs: string[]; params?: Record<string, string | number | boolean> | string[]; command?: string; started?: string; duration?: number; commit?: string },
  ): Promise<LineageResult<'record'>> {
    const { name, inputs, outputs, command, started, duration, commit } = options;
    return invoke(lineageCommand, { ...lineageArgs, action: 'record', name, input: inputs, output: outputs, param: assignments(options.params), command, started, duration, commit }, options) as Promise<
      LineageResult<'record'>
    >;
  },
  /** `dvs lineage trace`: one row back to its raw source line, or (`source`) a source row forward to where it ended up. */
  trace(path: string | undefined, options: CommonOptions & { row?: number; key?: string; source?: string; rev?: string }): Promise<LineageResult<'trace'>> {
    return invoke(lineageCommand, { ...lineageArgs, action: 'trace', path, row: options.row, key: options.key, source: options.source, rev: options.rev }, options) as Promise<LineageResult<'trace'>>;
  },
};

type AuditResult<A extends AuditCommandResult['action']> = Extract<AuditCommandResult, { action: A }>;

/** `dvs audit …`: the hash-chained audit trail. */
export const audit = {
  /** `dvs audit log [path]`: events, newest first. */
  log(options: CommonOptions & { path?: string; maxCount?: number } = {}): Promise<AuditResult<'log'>> {
    return invoke(auditCommand, { action: 'log', path: options.path, maxCount: options.maxCount, md: false }, options) as Promise<AuditResult<'log'>>;
  },
  /** `dvs audit report <path>`: a dataset version's chain of custody. */
  report(path: string, options: CommonOptions & { rev?: string } = {}): Promise<AuditResult<'report'>> {
    return invoke(auditCommand, { action: 'report', path, rev: list(options.rev), md: false }, options) as Promise<AuditResult<'report'>>;
  },
  /** `dvs audit verify`: check the trail's hash chain (of the workspace, or of revisions). */
  verify(options: CommonOptions & { rev?: string | string[] } = {}): Promise<AuditResult<'verify'>> {
    return invoke(auditCommand, { action: 'verify', rev: list(options.rev), md: false }, options) as Promise<AuditResult<'verify'>>;
  },
};
