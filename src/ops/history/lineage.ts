import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, isPointerPath, pointerPathOf, type ImportSource } from '../../pointer/format.js';
import { PointerSource } from '../../lineage/source.js';
import { walkLineage, type LineageNode, type LineageStep } from '../../lineage/walk.js';
import type { OpContext } from '../context.js';

export { recordLineage, type RecordLineageOptions } from './transform.js';
export { lineageTrace, type LineageTraceOptions, type LineageTraceResult } from './lineage-trace.js';

export interface LineageShowOptions {
  target: string;
  /** Read pointers at this revision (from Git's objects) instead of the workspace. */
  rev?: string;
}

export interface LineageShowResult {
  path: string;
  oid: Oid;
  /** The revision asked for and the commit it names; null for the workspace. */
  rev: string | null;
  commit: string | null;
  /** The target first; then every version the walk reached. */
  nodes: LineageNode[];
  /** Nearest to the target first. */
  steps: LineageStep[];
  /** Raw sources: versions with no recorded lineage. */
  sources: string[];
  stale: boolean;
  /** Imported data (`dvs import`): the repository, path and commit it came from. */
  imported?: ImportSource;
  warnings: Warning[];
}

/** `dvs lineage show`: the chain of transforms from raw sources to one dataset version. */
export async function lineageShow(ctx: OpContext, options: LineageShowOptions): Promise<LineageShowResult> {
  const { repo } = ctx;
  const { rel } = repo.resolve(ctx.cwd, options.target.replace(/\/+$/, '') || options.target);
  const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
  const source = await PointerSource.open(repo, options.rev);
  try {
    const pointer = await source.read(pointerPath);
    if (!pointer) {
      throw new DvsError('NOT_TRACKED', `${options.target}: not tracked by dvs in ${source.label} (no ${pointerPath})`, {
        hint: options.rev ? `List what was tracked there: git ls-tree -r --name-only ${options.rev} | grep '\\.dvs$'` : 'List tracked data with `dvs status`.',
        data: { path: rel, rev: options.rev ?? null },
      });
    }
    const path = dataPathOf(pointerPath);
    const graph = await walkLineage(source, path, pointer);
    return {
      path,
      oid: pointer.oid,
      rev: options.rev ?? null,
      commit: source.commit ?? null,
      nodes: graph.nodes,
      steps: graph.steps,
      sources: graph.nodes.filter((n) => n.origin === 'source').map((n) => n.id),
      stale: graph.stale,
      ...(pointer.source ? { imported: pointer.source } : {}),
      warnings: graph.warnings,
    };
  } finally {
    source.close();
  }
}
