import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errnoCode } from '../../errors.js';
import type { Warning } from '../../events.js';
import { hashFileInSlices, sha256Hex } from '../../objects/hash.js';
import { loadManifestIfPresent, serializeManifest, sortEntries, type ManifestEntry } from '../../objects/manifest.js';
import { objectPath } from '../../objects/cache.js';
import type { Oid } from '../../objects/oid.js';
import type { ParamValue } from '../../lineage/params.js';
import type { LineageIO } from '../../lineage/record.js';
import { currentParams, staleReasons, type ChainStep } from '../../lineage/repro-plan.js';
import { runGit } from '../../scm/git.js';
import type { OpContext } from '../context.js';
import { openChain, sectionReader } from './repro.js';
import { ensureObjects } from './repro-restore.js';
import type { CommandRunner } from './transform.js';

/**
 * `dvs repro --check`: is the recorded lineage reproducible? Every step of the chain is run again, each
 * from the input versions its record names, in a scratch copy of the workspace's code under the
 * repository's state folder (`.dvs/tmp/repro-check-*`, removed afterwards). Each step is checked on its
 * own, so one non-deterministic step is named and the steps after it are not blamed for its output.
 * Commands must write their outputs by relative path (the same data paths as in the record): they run in
 * the scratch copy, where those paths lead to the scratch's own files.
 */
export interface ReproCheckOptions {
  targets: string[];
  rev?: string;
  run: CommandRunner;
}

export interface CheckedOutput {
  path: string;
  recorded: Oid;
  /** Null when the command did not write it. */
  reproduced: Oid | null;
  /** Tabular data that differs: rows in one version and not the other (the content diff's counts). */
  rows?: { added: number; removed: number; changed: number | null; estimated: boolean };
  /** Sizes, when the versions differ. */
  size?: { recorded: number; reproduced: number };
}

export interface CheckedStep {
  id: string;
  transform: string;
  params: Record<string, ParamValue>;
  /** `identical`: every output reproduced byte for byte; `skipped`: could not be run (reason says why). */
  status: 'identical' | 'differs' | 'failed' | 'skipped';
  outputs: CheckedOutput[];
  reason?: string;
  exitCode?: number | null;
  signal?: string | null;
}

export interface ReproCheckResult {
  rev: string | null;
  commit: string | null;
  /** True when every step reproduced its recorded outputs byte for byte. */
  reproduced: boolean;
  steps: CheckedStep[];
  warnings: Warning[];
}

export async function reproCheck(ctx: OpContext, options: ReproCheckOptions): Promise<ReproCheckResult> {
  const { repo } = ctx;
  const { source, chain } = await openChain(ctx, options.targets, options.rev);
  source.close();
  const result: ReproCheckResult = { rev: options.rev ?? null, commit: source.commit ?? null, reproduced: true, steps: [], warnings: [...chain.warnings] };
  mkdirSync(repo.paths.tmp, { recursive: true });
  const scratch = mkdtempSync(join(repo.paths.tmp, 'repro-check-'));
  try {
    await copyCode(repo.root, scratch);
    for (const step of chain.steps) result.steps.push(await checkStep(ctx, step, scratch, options.run, result.warnings));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  result.reproduced = result.steps.every((s) => s.status === 'identical');
  return result;
}

/** The workspace's code as it is now (files Git tracks, and untracked ones it does not ignore); no data, no .git, no .dvs. */
async function copyCode(root: string, scratch: string): Promise<void> {
  const listing = await runGit(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
  for (const rel of new Set(listing.split('\0').filter(Boolean))) {
    if (rel === '.dvs' || rel.startsWith('.dvs/')) continue;
    const from = join(root, rel);
    try {
      if (!statSync(from).isFile()) continue;
    } catch {
      continue; // deleted in the workspace, or a dangling link
    }
    mkdirSync(dirname(join(scratch, rel)), { recursive: true });
    copyFileSync(from, join(scratch, rel));
  }
}

async function checkStep(ctx: OpContext, step: ChainStep, scratch: string, run: CommandRunner, warnings: Warning[]): Promise<CheckedStep> {
  const { record } = step;
  const checked: CheckedStep = { id: step.id, transform: record.transform, params: record.params, status: 'skipped', outputs: [] };
  const command = record.command;
  if (record.ran !== 'here' || !Array.isArray(command) || command.length === 0) {
    checked.reason = 'recorded with dvs lineage record: no command to run';
    return checked;
  }
  // The scratch copy has the params files as they are now: a step whose values changed would be checked
  // with parameters it never ran with.
  const changed = staleReasons(step, { inputs: (path) => record.inputs.find((i) => i.path === path)!.oid, params: currentParams(record, sectionReader(ctx)) });
  if (changed.length) {
    checked.reason = `its parameters changed since it ran (${changed.map((r) => (r.kind === 'param' ? `${r.key} in ${r.file}` : r.kind)).join(', ')}): run dvs repro first`;
    return checked;
  }
  if (!(await ensureObjects(ctx, [...record.inputs, ...record.outputs], `checking ${record.transform}`, warnings))) {
    checked.reason = 'the recorded input or output versions are not in the cache (dvs fetch them first)';
    return checked;
  }
  for (const input of record.inputs) placeVersion(ctx, input, scratch);
  for (const output of record.outputs) rmSync(join(scratch, output.path), { recursive: true, force: true });
  const cwd = record.cwd ? join(scratch, record.cwd) : scratch;
  mkdirSync(cwd, { recursive: true });
  let exit: { code: number | null; signal: string | null };
  try {
    exit = await run(command, { cwd });
  } catch (err) {
    checked.status = 'failed';
    checked.reason = errnoCode(err) === 'ENOENT' ? `${command[0]}: command not found` : `${command[0]}: ${(err as Error).message}`;
    return checked;
  }
  if (exit.code !== 0) {
    checked.status = 'failed';
    checked.exitCode = exit.code;
    checked.signal = exit.signal;
    return checked;
  }
  for (const output of record.outputs) checked.outputs.push(await compareOutput(ctx, output, join(scratch, output.path)));
  checked.status = checked.outputs.every((o) => o.reproduced === o.recorded) ? 'identical' : 'differs';
  return checked;
}

/** Copy a recorded version out of the cache to its path in the scratch copy. */
function placeVersion(ctx: OpContext, io: LineageIO, scratch: string): void {
  const { cache } = ctx.repo;
  const dest = join(scratch, io.path);
  rmSync(dest, { recursive: true, force: true });
  if (io.kind === 'file') {
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(objectPath(cache.root, io.oid), dest);
    chmodSync(dest, 0o644);
    return;
  }
  // Manifest paths were checked when the manifest was parsed: relative, no `..`, no reserved names.
  for (const e of loadManifestIfPresent(cache, io.oid, io.path)?.entries ?? []) {
    const file = join(dest, e.path);
    mkdirSync(dirname(file), { recursive: true });
    copyFileSync(objectPath(cache.root, e.oid), file);
    chmodSync(file, e.exec ? 0o755 : 0o644);
  }
}

/** The oid dvs track would give the data at `abs` (a file, or a directory's manifest), or null when absent. */
async function oidOf(abs: string): Promise<{ oid: Oid; size: number } | null> {
  if (!existsSync(abs)) return null;
  if (statSync(abs).isFile()) {
    const h = await hashFileInSlices(abs);
    return { oid: h.oid, size: h.size };
  }
  const entries: ManifestEntry[] = [];
  const walk = async (dir: string, prefix: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(join(dir, d.name), rel);
      else if (d.isFile()) {
        const h = await hashFileInSlices(join(dir, d.name));
        entries.push({ path: rel, oid: h.oid, size: h.size, exec: (statSync(join(dir, d.name)).mode & 0o111) !== 0 });
      }
    }
  };
  await walk(abs, '');
  return { oid: sha256Hex(serializeManifest({ entries: sortEntries(entries) })), size: entries.reduce((n, e) => n + e.size, 0) };
}

async function compareOutput(ctx: OpContext, output: LineageIO, abs: string): Promise<CheckedOutput> {
  const now = await oidOf(abs);
  const checked: CheckedOutput = { path: output.path, recorded: output.oid, reproduced: now?.oid ?? null };
  if (!now || now.oid === output.oid) return checked;
  checked.size = { recorded: output.size, reproduced: now.size };
  if (output.kind === 'file') {
    const rows = await rowChanges(objectPath(ctx.repo.cache.root, output.oid), abs, output.path);
    if (rows) checked.rows = rows;
  }
  return checked;
}

/** The content diff's row counts between two versions of a tabular file; undefined when not tabular. */
async function rowChanges(before: string, after: string, logicalPath: string): Promise<CheckedOutput['rows']> {
  const { detectFormat, diffContent, fileSource } = await import('../../diff/content/index.js');
  if (!detectFormat(logicalPath)) return undefined;
  try {
    const d = await diffContent(await fileSource(before, logicalPath), await fileSource(after, logicalPath), { rows: 0, rowLevel: true });
    if (!d.rowDiff) return undefined;
    return { added: d.rowDiff.added, removed: d.rowDiff.removed, changed: d.rowDiff.changed, estimated: d.rowDiff.estimated };
  } catch {
    return undefined;
  }
}
