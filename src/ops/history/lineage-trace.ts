import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, isPointerPath, pointerPathOf, type Pointer } from '../../pointer/format.js';
import { lineageHash, lineageOf } from '../../lineage/record.js';
import { fingerprintOfText, StoredRowIndex, type RowIndexView } from '../../lineage/row-index.js';
import { rowFormatOf } from '../../lineage/row-record.js';
import { PointerSource } from '../../lineage/source.js';
import { findRowByKey, paramValues, readRowAt, traceBack, traceForward, type TraceBranch } from '../../lineage/trace.js';
import { newStep, walkLineage, type LineageStep } from '../../lineage/walk.js';
import { pointersAtCommits, workspacePointersRead } from '../../workspace/references.js';
import type { OpContext } from '../context.js';

export interface LineageTraceOptions {
  /** The dataset to trace a row of back to its sources. */
  target?: string;
  /** Instead: a source dataset whose row is followed forward. */
  source?: string;
  /** 1-based data row. */
  row?: number;
  /** `column=value`: the first row with that value. */
  key?: string;
  rev?: string;
}

export interface LineageTraceResult {
  /** `back`: from a dataset to its raw sources; `forward`: from a source row to where it ended up. */
  direction: 'back' | 'forward';
  path: string;
  oid: Oid;
  rev: string | null;
  commit: string | null;
  /** The row traced (1-based), and the key that found it. */
  row: number;
  key: { column: string; value: string } | null;
  /** One for a trace back; one per way the row went for a trace forward. */
  branches: TraceBranch[];
  /** Row indexes (and data for --key) fetched from the remote. */
  fetched: number;
  warnings: Warning[];
}

function parseKey(key: string): { column: string; value: string } {
  const eq = key.indexOf('=');
  if (eq <= 0) throw new DvsError('TRACE_OPTIONS', `--key ${key}: expected column=value`, { hint: 'dvs lineage trace data/clean.jsonl --key id=doc-18233' });
  return { column: key.slice(0, eq), value: key.slice(eq + 1) };
}

/** Loads row indexes (and data) from the cache, fetching what it lacks from the remote. */
class Objects {
  fetched = 0;
  private readonly indexes = new Map<Oid, StoredRowIndex>();

  constructor(private readonly ctx: OpContext) {}

  async ensure(oid: Oid, what: string): Promise<string> {
    const { repo } = this.ctx;
    if (!repo.cache.has(oid)) {
      const { fetchObjects } = await import('../remote/fetch.js');
      let failed = true;
      try {
        const r = await fetchObjects(this.ctx, [oid]);
        this.fetched += r.fetched;
        failed = r.failed.length > 0;
      } catch (err) {
        if (!(err instanceof DvsError)) throw err;
        throw new DvsError('ROW_INDEX_MISSING', `${what}: object ${oid.slice(0, 10)} is not in the cache and could not be fetched (${err.message})`, { hint: 'Configure the remote that holds it (dvs remote add), or run the trace where the transform ran.', data: { oid } });
      }
      if (failed || !repo.cache.has(oid)) {
        throw new DvsError('ROW_INDEX_MISSING', `${what}: object ${oid.slice(0, 10)} is neither in the cache nor on the remote`, { hint: 'Push it from the clone that recorded the transform (dvs push), then trace again.', data: { oid } });
      }
    }
    return repo.cache.pathOf(oid);
  }

  /** Indexes are read in place, entry by entry (StoredRowIndex): a trace needs a few numbers of each. */
  load = async (oid: Oid, where: string): Promise<RowIndexView> => {
    let index = this.indexes.get(oid);
    if (!index) {
      index = new StoredRowIndex(await this.ensure(oid, `the row index of ${where}`), oid);
      this.indexes.set(oid, index);
    }
    return index;
  };

  close(): void {
    for (const index of this.indexes.values()) index.close();
  }
}

function notTracked(target: string, rel: string, pointerPath: string, source: PointerSource, rev?: string): DvsError {
  return new DvsError('NOT_TRACKED', `${target}: not tracked by dvs in ${source.label} (no ${pointerPath})`, {
    hint: rev ? `List what was tracked there: git ls-tree -r --name-only ${rev} | grep '\\.dvs$'` : 'List tracked data with `dvs status`.',
    data: { path: rel, rev: rev ?? null },
  });
}

function noRow(path: string, what: string, rows: number | null): DvsError {
  return new DvsError('ROW_NOT_FOUND', `${path}: no ${what}${rows !== null ? ` (it has ${rows} rows)` : ''}`, { hint: 'Rows are counted from 1, the header excluded; or find one by a column: --key column=value.', data: { path } });
}

/** The 0-based row a --row or --key names in a version, reading the data only when no index can say. */
async function resolveRow(objects: Objects, path: string, pointer: Pointer, options: LineageTraceOptions, index: RowIndexView | undefined): Promise<number> {
  if (options.row !== undefined) {
    if (!Number.isInteger(options.row) || options.row < 1) throw new DvsError('TRACE_OPTIONS', `--row ${options.row}: expected a row number from 1`);
    return options.row - 1;
  }
  const { column, value } = parseKey(options.key!);
  if (index && index.fingerprint === `row-id:${column}`) {
    const row = index.findFingerprint(...fingerprintOfText(value));
    if (row !== undefined) return row;
    throw noRow(path, `row with ${column} = ${value}`, null);
  }
  const file = rowFormatOf({ path, kind: pointer.kind });
  if (!file) throw new DvsError('TRACE_OPTIONS', `${path}: --key needs CSV, TSV, JSON Lines or Parquet data`, { hint: 'Name the row by its number: --row N' });
  const row = await findRowByKey(await objects.ensure(pointer.oid, path), file, column, value);
  if (row === undefined) throw noRow(path, `row with ${column} = ${value}`, null);
  return row;
}

/** Fill each hop's parameter values from the row's fields, read from the first position whose data the cache has. */
async function addValues(ctx: OpContext, branches: TraceBranch[], warnings: Warning[]): Promise<void> {
  const hops = branches.flatMap((b) => b.hops);
  if (!hops.some((h) => Object.keys(h.params).length)) return;
  // The same row in every version: read the one nearest the start of its file.
  const positions = [...branches.map((b) => b.end.at), ...hops.map((h) => h.from)].sort((a, b) => a.line - b.line);
  for (const p of positions) {
    const file = rowFormatOf({ path: p.path, kind: 'file' });
    if (!file || !ctx.repo.cache.has(p.oid)) continue;
    let fields: Record<string, unknown> | undefined;
    try {
      fields = await readRowAt(ctx.repo.cache.pathOf(p.oid), file, p.row - 1);
    } catch (err) {
      // Values are a courtesy: data that cannot be read here leaves them to the next version of the row.
      if (!(err instanceof DvsError)) throw err;
    }
    if (!fields) continue;
    for (const h of hops) h.values = paramValues(h.params, fields);
    return;
  }
  warnings.push({ code: 'ROW_VALUES_UNREAD', message: "the row's values are not shown: none of its data versions is in the cache", hint: 'dvs fetch <dataset> brings one, then trace again.' });
}

/** The steps recorded at the source's revision, by each version they read. */
async function consumersAt(ctx: OpContext, source: PointerSource): Promise<Map<string, LineageStep[]>> {
  const pointers = source.commit ? await pointersAtCommits(ctx.repo, [source.commit]) : workspacePointersRead(ctx.repo);
  const byInput = new Map<string, LineageStep[]>();
  const seen = new Set<string>();
  for (const p of pointers) {
    const record = lineageOf(p.pointer).record;
    if (!record || !record.outputs.some((o) => o.path === p.dataPath && o.oid === p.pointer.oid)) continue;
    const id = lineageHash(record).slice(0, 12);
    if (seen.has(id)) continue;
    seen.add(id);
    const step = newStep(id, record);
    for (const input of record.inputs) {
      const key = `${input.path}@${input.oid}`;
      byInput.set(key, [...(byInput.get(key) ?? []), step]);
    }
  }
  return byInput;
}

/**
 * `dvs lineage trace`: one row's way through the recorded transforms, back from a dataset to its raw
 * source line, or forward (`--source`) from a source row to the datasets it reached or the step that
 * dropped it. Reads pointers from the workspace or Git's objects, and row indexes from the cache,
 * fetching those it lacks.
 */
export async function lineageTrace(ctx: OpContext, options: LineageTraceOptions): Promise<LineageTraceResult> {
  const { repo } = ctx;
  const named = options.source ?? options.target;
  if (!named || (options.source !== undefined && options.target !== undefined)) {
    throw new DvsError('TRACE_OPTIONS', 'Name one dataset to trace back from, or one --source to trace forward from', { hint: 'dvs lineage trace data/clean.jsonl --row 12   or   dvs lineage trace --source raw/cc.jsonl --row 18233' });
  }
  if ((options.row === undefined) === (options.key === undefined)) {
    throw new DvsError('TRACE_OPTIONS', 'Name the row with exactly one of --row N and --key column=value', { hint: 'dvs lineage trace data/clean.jsonl --row 12' });
  }
  const { rel } = repo.resolve(ctx.cwd, named.replace(/\/+$/, '') || named);
  const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
  const source = await PointerSource.open(repo, options.rev);
  const objects = new Objects(ctx);
  try {
    const pointer = await source.read(pointerPath);
    if (!pointer) throw notTracked(named, rel, pointerPath, source, options.rev);
    const path = dataPathOf(pointerPath);
    const warnings: Warning[] = [];
    let branches: TraceBranch[];
    let row: number;
    if (options.source === undefined) {
      const graph = await walkLineage(source, path, pointer);
      warnings.push(...graph.warnings);
      const root = graph.nodes[0];
      const made = root.step ? graph.steps.find((s) => s.id === root.step)?.outputs.find((o) => o.node === root.id) : undefined;
      const index = made?.rowIndex ? await objects.load(made.rowIndex, path) : undefined;
      row = await resolveRow(objects, path, pointer, options, index);
      if (index && row >= index.output.rows) throw noRow(path, `row ${row + 1}`, index.output.rows);
      branches = [await traceBack(graph, row, objects.load)];
    } else {
      row = await resolveRow(objects, path, pointer, options, undefined);
      branches = await traceForward({ path, oid: pointer.oid }, row, await consumersAt(ctx, source), objects.load);
      // Every index that read this version says the row is past its end.
      if (branches.length === 0) throw noRow(path, `row ${row + 1}`, null);
    }
    await addValues(ctx, branches, warnings);
    return {
      direction: options.source === undefined ? 'back' : 'forward',
      path,
      oid: pointer.oid,
      rev: options.rev ?? null,
      commit: source.commit ?? null,
      row: row + 1,
      key: options.key !== undefined ? parseKey(options.key) : null,
      branches,
      fetched: objects.fetched,
      warnings,
    };
  } finally {
    objects.close();
    source.close();
  }
}
