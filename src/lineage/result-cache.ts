import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalHash } from '../audit/canonical.js';
import { writeFileAtomic } from '../base/atomic.js';
import type { Repo } from '../repo/repo.js';
import type { ParamValue } from './params.js';
import { pointerPathOf } from '../pointer/format.js';
import { lineageHash, lineageOf, lineageToStored, parseLineage, type LineageRecord } from './record.js';
import type { PointerSource } from './source.js';

/**
 * The transform result cache. A step is known by what determines its result: the command (and the
 * directory it runs in), the parameters, the input versions and the output paths. Two runs with the same
 * key are the same computation, so a result recorded once (in any lineage record Git holds, or in this
 * machine's run cache) can be checked out instead of computed again, as DVC's run cache does.
 *
 * The local run cache keeps every result `dvs transform` and `dvs repro` produced on this machine, also
 * those never committed: `.dvs/tmp/runs/<first 2 hex>/<key>.json`, one lineage record in JSON per file
 * (`.dvs/tmp/` is ignored by Git; it moves into the Git directory when a clone commits it by mistake).
 */
export interface StepIdentity {
  command: LineageRecord['command'];
  cwd?: string;
  params: Record<string, ParamValue>;
  inputs: Array<{ path: string; oid: string }>;
  outputs: Array<{ path: string }>;
}

/** SHA-256 of the canonical JSON of the step's identity; inputs and outputs in path order. */
export function resultKey(s: StepIdentity): string {
  return canonicalHash({
    command: s.command,
    cwd: s.cwd ?? '',
    params: s.params,
    inputs: s.inputs.map((i) => [i.path, i.oid]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    outputs: s.outputs.map((o) => o.path).sort(),
  });
}

export function runCacheFile(repo: Repo, key: string): string {
  return join(repo.paths.tmp, 'runs', key.slice(0, 2), `${key}.json`);
}

/** Remember a result on this machine. Best effort: a run cache that cannot be written only costs a re-run. */
export function saveResult(repo: Repo, record: LineageRecord): void {
  try {
    const file = runCacheFile(repo, resultKey(record));
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(lineageToStored(record)) + '\n');
  } catch {
    // a read-only state folder must not fail the transform that already succeeded
  }
}

/** The result stored under `key` on this machine, or undefined (absent or unreadable: a miss). */
export function loadResult(repo: Repo, key: string): LineageRecord | undefined {
  let text: string;
  try {
    text = readFileSync(runCacheFile(repo, key), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const record = parseLineage(JSON.parse(text), runCacheFile(repo, key));
    // A file renamed or edited by hand is not the result of that key.
    return resultKey(record) === key ? record : undefined;
  } catch {
    return undefined;
  }
}

/** A stored result and where it was found. */
export interface FoundResult {
  record: LineageRecord;
  /** `run cache`: this machine's run cache; otherwise the commit whose pointer holds the record (null: the workspace). */
  from: 'run cache' | { commit: string | null };
}

/**
 * The result of the step `key` makes, if it was ever recorded: in this machine's run cache, in the
 * records the caller already holds (the chain being rebuilt), or in the history of the outputs' pointers
 * (every commit that changed one, up to the source's history limit).
 */
export async function findResult(repo: Repo, source: PointerSource, key: string, outputs: string[], known: LineageRecord[] = []): Promise<FoundResult | undefined> {
  const local = loadResult(repo, key);
  if (local) return { record: local, from: 'run cache' };
  for (const record of known) if (resultKey(record) === key) return { record, from: { commit: source.commit ?? null } };
  const seen = new Set<string>();
  for (const path of outputs) {
    const pointerPath = pointerPathOf(path);
    for (const commit of await source.history(pointerPath)) {
      let pointer;
      try {
        pointer = await source.read(pointerPath, commit);
      } catch {
        continue; // an unreadable pointer in history holds no usable result
      }
      const record = pointer && lineageOf(pointer).record;
      if (!record) continue;
      const hash = lineageHash(record);
      if (seen.has(hash)) continue;
      seen.add(hash);
      if (resultKey(record) === key) return { record, from: { commit } };
    }
  }
  return undefined;
}
