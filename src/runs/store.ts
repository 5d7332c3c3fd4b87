import { readdirSync } from 'node:fs';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import type { Repo } from '../repo/repo.js';
import { readTextFile } from '../base/safe-yaml.js';
import { BlobReader, resolveRevision, runGit } from '../scm/git.js';
import { checkRunId, parseRun, runPath, runSource, RUNS_DIR, type LoadedRun } from './record.js';

/** A run named on the command line: `<id>` (the workspace) or `<id>@<rev>` (read from Git). */
export interface RunRef {
  id: string;
  rev?: string;
}

export function parseRunRef(arg: string): RunRef {
  const at = arg.indexOf('@');
  const ref = at < 0 ? { id: arg } : { id: arg.slice(0, at), rev: arg.slice(at + 1) };
  checkRunId(ref.id);
  if (ref.rev === '') throw new DvsError('INVALID_RUN_REF', `${arg}: name a revision after "@" (run-42@main)`, { data: { arg } });
  return ref;
}

function runNotFound(id: string, where: string, hint: string): DvsError {
  return new DvsError('RUN_NOT_FOUND', `No run "${id}" in ${where} (${runPath(id)})`, { hint, data: { id } });
}

/** Read a run from the workspace. */
export function loadRun(repo: Repo, id: string): LoadedRun {
  checkRunId(id);
  const file = runPath(id);
  let text: string;
  try {
    // Size and file type are checked before reading (a record comes with a clone).
    text = readTextFile(repo.abs(file), runSource(file));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw runNotFound(id, 'the workspace', 'List runs with `dvs run list`; a run of another branch is named <id>@<branch>.');
    throw fromSystemError(err, file, 'reading');
  }
  return parseRun(text, file, id);
}

/** Read a run from the workspace or, with a revision, from Git's objects without a checkout. */
export async function loadRunRef(repo: Repo, ref: RunRef, reader?: BlobReader): Promise<LoadedRun> {
  if (ref.rev === undefined) return loadRun(repo, ref.id);
  const commit = await resolveRevision(repo.root, ref.rev);
  const own = reader ?? new BlobReader(repo.root);
  try {
    const file = runPath(ref.id);
    const blob = await own.read(`${commit}:${file}`);
    if (!blob) throw runNotFound(ref.id, `${ref.rev} (${commit.slice(0, 10)})`, `List the runs there with \`dvs run list --rev ${ref.rev}\`.`);
    return parseRun(blob.toString('utf8'), `${file} at ${ref.rev}`, ref.id, commit);
  } finally {
    if (!reader) own.close();
  }
}

/** Ids of the runs in the workspace, or at a commit. */
export async function runIds(repo: Repo, commit?: string): Promise<string[]> {
  let names: string[];
  if (commit === undefined) {
    try {
      names = readdirSync(repo.abs(RUNS_DIR));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw fromSystemError(err, RUNS_DIR, 'listing');
    }
  } else {
    const out = await runGit(repo.root, ['ls-tree', '-z', '--name-only', '--full-tree', commit, '--', `${RUNS_DIR}/`]).catch(() => '');
    names = out.split('\0').filter(Boolean).map((p) => p.slice(RUNS_DIR.length + 1));
  }
  return names.filter((n) => n.endsWith('.yaml')).map((n) => n.slice(0, -5)).filter((id) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)).sort();
}
