import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { readTextFile } from '../../base/safe-yaml.js';
import { parseParamsSpec, paramsFromText } from '../../lineage/params-file.js';
import { saveResult } from '../../lineage/result-cache.js';
import { performance } from 'node:perf_hooks';
import { currentHost, currentUser, codeState } from '../../audit/identity.js';
import { DvsError, errnoCode } from '../../errors.js';
import type { Warning } from '../../events.js';
import { resolveTracked, requireUnchanged, type TrackedDataset } from '../../lineage/datasets.js';
import { parseAssignments, type ParamValue } from '../../lineage/params.js';
import { lineageHash, lineageOf, writeLineage, type LineageIO, type LineageRecord } from '../../lineage/record.js';
import { POINTER_SUFFIX } from '../../pointer/format.js';
import { readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import { trackedByGit } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { track, type TrackResult } from '../data/track.js';
import { trackedAncestor } from '../../workspace/targets.js';

/**
 * Runs a command for `dvs transform`. The CLI supplies it and owns the child's stdio (the child's
 * output goes to the user's terminal, never through dvs's own printing). It resolves with the exit
 * status, and rejects only when the command could not be started (ENOENT, EACCES).
 */
export type CommandRunner = (argv: string[], options: { cwd: string }) => Promise<{ code: number | null; signal: string | null }>;

export interface TransformSpec {
  /** The transform's type: filter, dedup, tokenize, … */
  name: string;
  inputs: string[];
  outputs: string[];
  /** `key=value` arguments. */
  params?: string[];
  /** Sections of committed params files, `<file>:<key>` (`--params params.yaml:filter`). */
  paramsFrom?: string[];
  /** Name rows by this column's value instead of their content (a column the transform preserves). */
  rowId?: string;
  /** False: record no row index for tabular outputs (default: record one). */
  rowIndex?: boolean;
}

export interface TransformOptions extends TransformSpec {
  /** The argument vector to run (no shell unless it names one). */
  command: string[];
  run: CommandRunner;
}

export interface TransformResult {
  transform: string;
  params: Record<string, ParamValue>;
  command: string[] | string | null;
  inputs: LineageIO[];
  outputs: LineageIO[];
  /** Seconds the command ran (null when recorded without a duration). */
  duration: number | null;
  /** `here`: run by dvs transform; `elsewhere`: recorded by dvs lineage record. */
  ran: 'here' | 'elsewhere';
  /** Hash of the lineage record, as carried by its audit event. */
  record: string;
  /** The audit event written, unless the audit trail is off. */
  event?: { hash: string; file: string };
  /** What tracking the outputs did (pointers written, staged). */
  track: TrackResult;
  staged: string[];
  toStage: string[];
  warnings: Warning[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

interface Prepared {
  params: Record<string, ParamValue>;
  /** The params-file sections, their files repository-relative. */
  paramsFrom: string[];
  inputs: TrackedDataset[];
}

/** Add the parameters of each `file:key` section; returns the sections with repository-relative files. */
function readParamsFiles(repo: Repo, cwd: string, specs: readonly string[], params: Record<string, ParamValue>): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const { file, key } = parseParamsSpec(spec);
    const { rel, abs } = repo.resolve(cwd, file);
    if (!existsSync(abs)) {
      throw new DvsError('PARAMS_FILE_NOT_FOUND', `--params ${spec}: no file ${rel}`, { hint: 'Name a YAML file of the repository, then the section: --params params.yaml:filter', data: { file: rel } });
    }
    const found = paramsFromText(readTextFile(abs, { where: rel, code: 'PARAMS', what: 'a params file', hint: `Fix the YAML in ${rel}.` }), { spec, file: rel, key });
    for (const [name, value] of Object.entries(found)) {
      if (name in params) throw new DvsError('DUPLICATE_ASSIGNMENT', `parameter ${name} is given twice (--param and --params ${spec})`, { data: { key: name } });
      params[name] = value;
    }
    out.push(`${rel}:${key}`);
  }
  return out;
}

/** Everything that would make the record wrong, checked before any command runs. */
async function prepare(ctx: OpContext, spec: TransformSpec): Promise<Prepared> {
  const { repo } = ctx;
  if (!NAME.test(spec.name)) {
    throw new DvsError('INVALID_TRANSFORM_NAME', `Invalid transform name "${spec.name}": use letters, digits, "_", ".", ":" and "-"`, {
      hint: 'Name the kind of step: --name filter, --name dedup, --name tokenize.',
    });
  }
  if (spec.outputs.length === 0) {
    throw new DvsError('NO_OUTPUTS', 'Name the data the transform writes with --output <path>', { hint: 'dvs transform --name filter --input raw.csv --output clean.csv -- python filter.py' });
  }
  const params = parseAssignments(spec.params, '--param');
  const paramsFrom = readParamsFiles(repo, ctx.cwd, spec.paramsFrom ?? [], params);
  const inputs = spec.inputs.map((arg) => resolveTracked(repo, ctx.cwd, arg, 'input'));
  const inputPaths = new Set(inputs.map((i) => i.path));
  if (inputPaths.size !== inputs.length) throw new DvsError('DUPLICATE_INPUT', 'An input is named twice');
  const seen = new Set<string>();
  for (const arg of spec.outputs) {
    const { rel } = repo.resolve(ctx.cwd, arg.replace(/\/+$/, '') || arg);
    if (rel.endsWith(POINTER_SUFFIX)) {
      throw new DvsError('OUTPUT_IS_POINTER', `output ${arg}: is a dvs pointer, not data`, { hint: `Name the data: --output ${arg.slice(0, -POINTER_SUFFIX.length)}` });
    }
    if (inputPaths.has(rel)) {
      throw new DvsError('OUTPUT_IS_INPUT', `${arg} is both an input and an output`, { hint: 'Write the result to a new path; lineage needs the input version to stay as it was.' });
    }
    if (seen.has(rel)) throw new DvsError('DUPLICATE_OUTPUT', `output ${arg} is named twice`);
    seen.add(rel);
    const owner = trackedAncestor(repo, rel);
    if (owner) {
      throw new DvsError('INSIDE_TRACKED_DIR', `output ${arg}: inside the tracked directory ${owner}`, {
        hint: `Write the output elsewhere, or make the whole directory the output: --output ${owner}`,
        data: { path: rel, owner },
      });
    }
  }
  // What `dvs track` would refuse afterwards is refused now, before a long command runs for nothing.
  const inGit = await trackedByGit(repo.root, [...seen]);
  if (inGit.length) {
    throw new DvsError('TRACKED_BY_GIT', `output ${inGit[0]}: already tracked by Git`, {
      hint: `Stop tracking it in Git first: git rm -r --cached ${inGit[0]}`,
      data: { gitPath: inGit[0] },
    });
  }
  const state = await repo.statCache();
  for (const input of inputs) await requireUnchanged(repo, input, state, 'input', 'INPUT_MODIFIED');
  return { params, paramsFrom, inputs };
}

/** A tracked version as a record names it; rows from a lineage record that counted it already, else read. */
async function describe(repo: Repo, ds: { path: string; pointerPath: string }): Promise<LineageIO> {
  const pointer = readPointer(repo.root, ds.pointerPath);
  const known = lineageOf(pointer).record?.outputs.find((o) => o.path === ds.path && o.oid === pointer.oid);
  let rows = known?.rows ?? null;
  if (rows === null) {
    const { countRows } = await import('../../lineage/rows.js');
    rows = await countRows(repo, ds.path, pointer.kind);
  }
  const io: LineageIO = { path: ds.path, oid: pointer.oid, kind: pointer.kind, size: pointer.size, rows };
  if (pointer.files !== undefined) io.files = pointer.files;
  return io;
}

interface Execution {
  command: string[] | string | null;
  started: string;
  duration: number | null;
  ran: 'here' | 'elsewhere';
  code: { commit: string | null; dirty: boolean };
}

/**
 * Track the outputs and write the lineage record into each output's pointer, then append the audit
 * event. Shared by `dvs transform` (after the command succeeded) and `dvs lineage record`.
 */
async function recordOutputs(ctx: OpContext, spec: TransformSpec, prepared: Prepared, inputs: LineageIO[], run: Execution): Promise<TransformResult> {
  const { repo } = ctx;
  const tracked = await track(ctx, { targets: spec.outputs });
  const outputs: LineageIO[] = [];
  for (const item of tracked.items) outputs.push(await describe(repo, { path: item.path, pointerPath: item.pointerPath }));
  const warnings = [...tracked.warnings];
  let indexObjects: Buffer[] = [];
  if (spec.rowIndex !== false) {
    const { buildRowIndexes } = await import('../../lineage/row-record.js');
    indexObjects = await buildRowIndexes(repo, inputs, outputs, spec.rowId === undefined ? {} : { rowId: spec.rowId }, warnings);
  }
  const cwd = relative(repo.root, ctx.cwd).split(sep).join('/');
  const record: LineageRecord = {
    transform: spec.name,
    params: prepared.params,
    ...(prepared.paramsFrom.length ? { paramsFrom: prepared.paramsFrom } : {}),
    command: run.command,
    ...(run.ran === 'here' && cwd ? { cwd } : {}),
    ...(spec.rowId !== undefined ? { rowId: spec.rowId } : {}),
    inputs,
    outputs,
    started: run.started,
    duration: run.duration,
    user: await currentUser(repo.root),
    host: currentHost(),
    commit: run.code.commit,
    dirty: run.code.dirty,
    ran: run.ran,
  };
  const hash = lineageHash(record);
  if (run.ran === 'here') saveResult(repo, record);
  return repo.withLock({ ...ctx.lock, command: run.ran === 'here' ? 'dvs transform' : 'dvs lineage record' }, async () => {
    const pointerPaths = tracked.items.map((i) => i.pointerPath);
    for (const data of indexObjects) repo.cache.addBuffer(data);
    for (const pointerPath of pointerPaths) writeLineage(repo.root, pointerPath, readPointer(repo.root, pointerPath), record);
    const autostage = repo.config.bool('core.autostage');
    const { recordAuditEvent } = await import('../../audit/record.js');
    const event = await recordAuditEvent(repo, {
      type: run.ran === 'here' ? 'transform' : 'lineage-record',
      paths: [
        ...inputs.map((i) => ({ path: i.path, oid: i.oid, kind: i.kind, size: i.size, role: 'input' as const })),
        ...outputs.map((o) => ({ path: o.path, oid: o.oid, kind: o.kind, size: o.size, role: 'output' as const })),
      ],
      data: { transform: spec.name, params: prepared.params, record: hash },
    }, { stageWith: pointerPaths });
    const files = [...new Set([...tracked.staged, ...tracked.toStage, ...pointerPaths])];
    return {
      transform: spec.name,
      params: prepared.params,
      command: run.command,
      inputs,
      outputs,
      duration: run.duration,
      ran: run.ran,
      record: hash,
      event: event && { hash: event.hash, file: event.file },
      track: tracked,
      staged: autostage ? files : [],
      toStage: autostage ? [] : files,
      warnings,
    };
  });
}

/**
 * `dvs transform`: check the inputs match their pointers, run the command, check the inputs were left
 * alone, then track the outputs and record how they were made. A failing command records nothing.
 */
export async function transform(ctx: OpContext, options: TransformOptions): Promise<TransformResult> {
  const { repo } = ctx;
  if (options.command.length === 0) {
    throw new DvsError('NO_COMMAND', 'Name the command to run after --', { hint: 'dvs transform --name filter --input raw.csv --output clean.csv -- python filter.py' });
  }
  const prepared = await prepare(ctx, options);
  const inputs: LineageIO[] = [];
  for (const i of prepared.inputs) inputs.push(await describe(repo, i));
  const code = await codeState(repo.root);
  const started = new Date().toISOString();
  const t0 = performance.now();
  let exit: { code: number | null; signal: string | null };
  try {
    exit = await options.run(options.command, { cwd: ctx.cwd });
  } catch (err) {
    const errno = errnoCode(err);
    if (errno === 'ENOENT') {
      throw new DvsError('COMMAND_NOT_FOUND', `${options.command[0]}: command not found; nothing was recorded`, {
        hint: 'Check the command after --. It runs without a shell; to use one, run: -- sh -c "…"',
        data: { command: options.command },
      });
    }
    if (errno === 'EACCES') {
      throw new DvsError('COMMAND_NOT_EXECUTABLE', `${options.command[0]}: permission denied; nothing was recorded`, { hint: 'Make it executable (chmod +x) or run it through its interpreter.', data: { command: options.command } });
    }
    throw err;
  }
  const duration = Math.round(performance.now() - t0) / 1000;
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `failed with exit status ${exit.code}`;
    throw new DvsError('TRANSFORM_FAILED', `The ${options.name} command ${how}; its outputs were not tracked and no lineage was recorded`, {
      hint: 'Fix the command and run dvs transform again.',
      data: { command: options.command, exitCode: exit.code, signal: exit.signal },
    });
  }
  // A command that changed its own inputs would make the recorded input versions a lie.
  const state = await repo.statCache();
  for (const input of prepared.inputs) await requireUnchanged(repo, input, state, 'the command changed its input', 'INPUT_CHANGED_BY_COMMAND');
  const missing = options.outputs.filter((o) => !existsSync(repo.resolve(ctx.cwd, o).abs));
  if (missing.length) {
    throw new DvsError('OUTPUT_MISSING', `The ${options.name} command succeeded but did not write ${missing.join(', ')}; no lineage was recorded`, {
      hint: 'Check the --output paths against what the command writes.',
      data: { missing },
    });
  }
  return recordOutputs(ctx, options, prepared, inputs, { command: options.command, started, duration, ran: 'here', code });
}

export interface RecordLineageOptions extends TransformSpec {
  /** The command that ran elsewhere, as text. */
  command?: string;
  /** When it started (ISO 8601); default now. */
  started?: string;
  /** Seconds it took. */
  duration?: number;
  /** The code commit it ran at; default HEAD. */
  commit?: string;
}

/** `dvs lineage record`: the same record for work that ran elsewhere (the outputs are in the workspace now). */
export async function recordLineage(ctx: OpContext, options: RecordLineageOptions): Promise<TransformResult> {
  const { repo } = ctx;
  const prepared = await prepare(ctx, options);
  const missing = options.outputs.filter((o) => !existsSync(repo.resolve(ctx.cwd, o).abs));
  if (missing.length) {
    throw new DvsError('OUTPUT_MISSING', `Outputs not found: ${missing.join(', ')}`, { hint: 'Copy the outputs into the workspace first, then record their lineage.', data: { missing } });
  }
  let started = new Date().toISOString();
  if (options.started !== undefined) {
    const t = new Date(options.started);
    if (Number.isNaN(t.getTime())) throw new DvsError('INVALID_TIME', `--started ${options.started}: not a date and time (use ISO 8601: 2024-05-13T10:15:00Z)`);
    started = t.toISOString();
  }
  if (options.duration !== undefined && !(options.duration >= 0)) throw new DvsError('INVALID_DURATION', `--duration ${options.duration}: expected seconds ≥ 0`);
  const code = await codeState(repo.root);
  if (options.commit !== undefined) {
    const { resolveRevision } = await import('../../scm/git.js');
    code.commit = await resolveRevision(repo.root, options.commit);
    code.dirty = false;
  }
  const inputs: LineageIO[] = [];
  for (const i of prepared.inputs) inputs.push(await describe(repo, i));
  return recordOutputs(ctx, options, prepared, inputs, { command: options.command ?? null, started, duration: options.duration ?? null, ran: 'elsewhere', code });
}
