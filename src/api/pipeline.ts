import { checkpointCommand } from '../commands/checkpoint.js';
import { hashCommand } from '../commands/hash.js';
import { reproCommand, type ReproCommandResult } from '../commands/repro.js';
import { terminalRunner } from '../commands/transform.js';
import type { CheckpointListResult, CheckpointResult } from '../ops/data/checkpoint.js';
import type { RecordHashResult } from '../ops/data/record-hash.js';
import type { TransformResult } from '../ops/history/transform.js';
import { inRepo, invoke, type CommonOptions } from './invoke.js';

/*
 * The verbs that make and rebuild data: transform, repro, the record hash and checkpoints of
 * append-only data. As in operations.ts, each returns exactly what `dvs <verb> --json` prints.
 */

const list = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export interface TransformApiOptions extends CommonOptions {
  /** The transform type: filter, dedup, tokenize, … */
  name: string;
  inputs?: string | string[];
  outputs: string | string[];
  /** Parameters: an object, or the CLI's `key=value` strings. */
  params?: Record<string, string | number | boolean> | string[];
  /** Parameters from a section of a committed YAML file, `<file>:<key>` (repro re-reads it). */
  paramsFrom?: string | string[];
  /** Name rows by this column (which the command keeps) instead of by their content. */
  rowId?: string;
  /** Record the row index of tabular outputs (default true). */
  rowIndex?: boolean;
}

/**
 * `dvs transform … -- <command>`: run `command` (an argv, no shell) in the repository, then track the
 * outputs and record their lineage. The command's stdout and stderr go to this process's stderr.
 */
export function transform(command: string[], options: TransformApiOptions): Promise<TransformResult> {
  const params = options.params === undefined || Array.isArray(options.params) ? options.params : Object.entries(options.params).map(([k, v]) => `${k}=${v}`);
  return inRepo(async (env) => {
    const ops = await import('../ops/history/transform.js');
    return ops.transform(await env.context(), {
      name: options.name,
      inputs: list(options.inputs) ?? [],
      outputs: list(options.outputs)!,
      params,
      paramsFrom: list(options.paramsFrom),
      rowId: options.rowId,
      rowIndex: options.rowIndex ?? true,
      command,
      run: terminalRunner(true),
    });
  }, options);
}

export interface ReproApiOptions extends CommonOptions {
  /** Only say which steps are stale and why. */
  dryRun?: boolean;
  /** Run every step, stale or not, without the result cache. */
  force?: boolean;
  /** Re-run the chain in a scratch copy and compare the outputs with the recorded ones (the determinism check). */
  check?: boolean;
  /** Plan from the lineage at this revision. */
  rev?: string;
}

/** `dvs repro [datasets..]`: rebuild datasets from their recorded lineage (or check that they reproduce). */
export function repro(datasets: string | string[] | undefined, options: ReproApiOptions = {}): Promise<ReproCommandResult> {
  return invoke(reproCommand, { datasets: list(datasets), dryRun: options.dryRun ?? false, force: options.force ?? false, check: options.check ?? false, rev: options.rev }, options);
}

/** `dvs hash --records <path>`: the record hash of tabular data (docs/record-hash.md), the same in any files and formats. */
export function hashRecords(path: string, options: CommonOptions & { ordered?: boolean; rev?: string } = {}): Promise<RecordHashResult> {
  return invoke(hashCommand, { path, records: true, ordered: options.ordered ?? false, rev: options.rev }, options);
}

/** `dvs checkpoint …`: track an append-only directory and mark the version (`list`: the checkpoints so far). */
export const checkpoints = {
  /** `dvs checkpoint <path> -m <message>`. */
  create(path: string, options: CommonOptions & { message: string }): Promise<CheckpointResult> {
    return invoke(checkpointCommand, { path, message: options.message, list: false }, options) as Promise<CheckpointResult>;
  },
  /** `dvs checkpoint --list [path]`, oldest first. */
  list(path?: string, options: CommonOptions = {}): Promise<CheckpointListResult> {
    return invoke(checkpointCommand, { path, list: true }, options) as Promise<CheckpointListResult>;
  },
};
