import { existsSync } from 'node:fs';
import type { Oid } from '../objects/oid.js';
import { pointerPathOf, type Pointer } from '../pointer/format.js';
import { readPointer } from '../pointer/io.js';
import type { Repo } from '../repo/repo.js';
import { lineageOf } from './record.js';

/** A dataset whose recorded step read inputs that have changed since. */
export interface StaleLineage {
  transform: string;
  /** The inputs whose pointers now name another version (`current` null: no longer tracked). */
  inputs: Array<{ path: string; recorded: Oid; current: Oid | null }>;
}

/**
 * The stale inputs of the step that made this version, from the pointers in the workspace alone (no
 * data is read or hashed); undefined when the version has no usable record or is up to date. Parameters
 * from params files and steps further upstream are `dvs repro --dry-run`'s business.
 */
export function staleLineage(repo: Repo, path: string, pointer: Pointer): StaleLineage | undefined {
  const record = lineageOf(pointer).record;
  if (!record || record.outputs.find((o) => o.path === path)?.oid !== pointer.oid) return undefined;
  const inputs: StaleLineage['inputs'] = [];
  for (const input of record.inputs) {
    const pointerPath = pointerPathOf(input.path);
    let current: Oid | null = null;
    try {
      current = existsSync(repo.abs(pointerPath)) ? readPointer(repo.root, pointerPath).oid : null;
    } catch {
      continue; // an unreadable pointer is reported by status on its own line
    }
    if (current !== input.oid) inputs.push({ path: input.path, recorded: input.oid, current });
  }
  return inputs.length ? { transform: record.transform, inputs } : undefined;
}
