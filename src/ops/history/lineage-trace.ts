import { DvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, isPointerPath, pointerPathOf, type Pointer } from '../../pointer/format.js';
import { lineageHash, lineageOf } from '../../lineage/record.js';
import { fingerprintOfText, StoredRowIndex, type RowIndexView } from '../../lineage/row-index.js';
import { rowFormatOf, rowSourcesOf, type RowSource } from '../../lineage/row-record.js';
import { PointerSource } from '../../lineage/source.js';
import { findRowByKey, lineOfRow, paramValues, positionOf, readRowAt, traceBack, traceForward, type RowPosition, type TraceBranch, type TraceStart } from '../../lineage/trace.js';
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
  /** The dataset (a tracked file or directory) and its version. */
  path: string;
  oid: Oid;
  /** In a directory: the file the row is in (repository-relative); `row` counts within it. */
  file: string | null;
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

/** The dataset a trace names: a tracked version, and for a directory the file in it that was named. */
interface Named {
  path: string;
  pointer: Pointer;
  /** A file of a tracked directory, relative to it. */
  file?: string;
}

/** The pointer of the named data, or of the tracked directory it is in (a row is addressed in one of its files). */
async function findNamed(source: PointerSource, rel: string): Promise<Named | undefined> {
  const pointerPath = isPointerPath(rel) ? rel : pointerPathOf(rel);
  const pointer = await source.read(pointerPath);
  if (pointer) return { path: dataPathOf(pointerPath), pointer };
  const parts = rel.split('/');
  for (let n = parts.length - 1; n >= 1; n--) {
    const dir = parts.slice(0, n).join('/');
    const owner = await source.read(pointerPathOf(dir));
    if (owner) return owner.kind === 'dir' ? { path: dir, pointer: owner, file: parts.slice(n).join('/') } : undefined;
  }
  return undefined;
}

/** A directory's tabular files (manifest order), the manifest fetched when the cache lacks it. */
async function dirSources(ctx: OpContext, objects: Objects, named: Named): Promise<RowSource[]> {
  await objects.ensure(named.pointer.oid, `the manifest of ${named.path}`);
  return rowSourcesOf(ctx.repo, { path: named.path, kind: 'dir', oid: named.pointer.oid });
}

function startAt(named: Named, row: number, fileOid?: Oid): TraceStart {
  const path = named.file === undefined ? named.path : `${named.path}/${named.file}`;
  const at: RowPosition = { path, oid: fileOid ?? named.pointer.oid, row: row + 1, line: row + 1 };
  if (named.file !== undefined) at.dataset = { path: named.path, oid: named.pointer.oid };
  return { path: named.path, oid: named.pointer.oid, row, ...(named.file !== undefined ? { file: named.file } : {}), at };
}

/**
 * Where a --row or --key names a row of a version. In a directory, a row is a row of one of its files:
 * `--row` needs the file named (`out/train.jsonl --row 3`); `--key` searches every tabular file in order.
 * The data is read only when no index can say (a `--row-id` index answers a key on that column).
 */
async function resolveStart(ctx: OpContext, objects: Objects, named: Named, options: LineageTraceOptions, index: RowIndexView | undefined): Promise<TraceStart> {
  const isDir = named.pointer.kind === 'dir';
  if (options.row !== undefined) {
    if (!Number.isInteger(options.row) || options.row < 1) throw new DvsError('TRACE_OPTIONS', `--row ${options.row}: expected a row number from 1`);
    if (isDir && named.file === undefined) {
      const files = index?.output.files?.map((f) => f.path) ?? (await dirSources(ctx, objects, named)).map((s) => s.rel);
      throw new DvsError('TRACE_OPTIONS', `${named.path} is a directory: name the file the row is in, or find the row by a column with --key`, {
        hint: files.length ? `dvs lineage trace ${named.path}/${files[0]} --row ${options.row}` : `${named.path} has no CSV, TSV, JSON Lines or Parquet file`,
        data: { path: named.path, files: files.slice(0, 20) },
      });
    }
    const row = options.row - 1;
    if (named.file === undefined) return startAt(named, row);
    // The index that made the directory lists its files: the manifest is then not needed.
    const source = index?.output.files?.find((f) => f.path === named.file) ?? (await dirSources(ctx, objects, named)).find((s) => s.rel === named.file);
    if (!source) throw new DvsError('ROW_NOT_FOUND', `${named.path}/${named.file}: not a CSV, TSV, JSON Lines or Parquet file of ${named.path}`, { hint: `List its files: dvs list ${named.path}`, data: { path: `${named.path}/${named.file}` } });
    return startAt(named, row, source.oid);
  }
  const { column, value } = parseKey(options.key!);
  const label = named.file === undefined ? named.path : `${named.path}/${named.file}`;
  if (index && index.fingerprint === `row-id:${column}`) {
    const row = index.findFingerprint(...fingerprintOfText(value));
    if (row === undefined) throw noRow(label, `row with ${column} = ${value}`, null);
    const at = positionOf(index.output, row, index.outputLine(row));
    if (named.file === undefined || at.path === label) return { path: named.path, oid: named.pointer.oid, row: at.row - 1, ...(at.dataset ? { file: at.path.slice(named.path.length + 1) } : {}), at };
  }
  if (!isDir) {
    const file = rowFormatOf({ path: named.path, kind: 'file' });
    if (!file) throw new DvsError('TRACE_OPTIONS', `${named.path}: --key needs CSV, TSV, JSON Lines or Parquet data`, { hint: 'Name the row by its number: --row N' });
    const row = await findRowByKey(await objects.ensure(named.pointer.oid, named.path), file, column, value);
    if (row === undefined) throw noRow(named.path, `row with ${column} = ${value}`, null);
    return startAt(named, row);
  }
  // A directory: its files in order (only the named one, when one was), each fetched only when reached.
  const sources = (await dirSources(ctx, objects, named)).filter((s) => named.file === undefined || s.rel === named.file);
  for (const s of sources) {
    const path = `${named.path}/${s.rel}`;
    const row = await findRowByKey(await objects.ensure(s.oid, path), s.file, column, value);
    if (row !== undefined) return startAt({ ...named, file: s.rel }, row, s.oid);
  }
  throw noRow(label, `row with ${column} = ${value}`, null);
}

/**
 * A start no index placed (a raw source, a row no step read) has its line guessed as its row; where
 * the text file is in the cache, read where the row really starts (a CSV's header, blank lines and
 * quoted line breaks move it).
 */
async function exactStartLine(ctx: OpContext, start: TraceStart, branches: TraceBranch[]): Promise<void> {
  const at = start.at;
  const same = (p: RowPosition | null | undefined): p is RowPosition => !!p && p !== at && p.oid === at.oid && p.path === at.path && p.row === at.row;
  const guessed = [at, ...branches.map((b) => b.end.at).filter((p) => p === at || (same(p) && p.line === at.line))];
  // An index that read or wrote this row knows its line: no read needed.
  let line = branches.flatMap((b) => b.hops).flatMap((h) => [h.from, h.to]).find(same)?.line;
  const file = rowFormatOf({ path: at.path, kind: 'file' });
  if (line === undefined && file && ctx.repo.cache.has(at.oid)) {
    try {
      line = await lineOfRow(ctx.repo.cache.pathOf(at.oid), file, at.row - 1);
    } catch (err) {
      // Unreadable data keeps the guess; the trace itself did not need the bytes.
      if (!(err instanceof DvsError)) throw err;
    }
  }
  if (line !== undefined) for (const p of guessed) p.line = line;
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
  const source = await PointerSource.open(repo, options.rev);
  const objects = new Objects(ctx);
  try {
    const found = await findNamed(source, rel);
    if (!found) throw notTracked(named, rel, isPointerPath(rel) ? rel : pointerPathOf(rel), source, options.rev);
    const { path, pointer } = found;
    const warnings: Warning[] = [];
    let branches: TraceBranch[];
    let start: TraceStart;
    if (options.source === undefined) {
      const graph = await walkLineage(source, path, pointer);
      warnings.push(...graph.warnings);
      const root = graph.nodes[0];
      const made = root.step ? graph.steps.find((s) => s.id === root.step)?.outputs.find((o) => o.node === root.id) : undefined;
      const index = made?.rowIndex ? await objects.load(made.rowIndex, path) : undefined;
      start = await resolveStart(ctx, objects, found, options, index);
      if (index) {
        const files = index.output.files;
        const fileRows = start.file !== undefined ? files?.find((f) => f.path === start.file)?.rows : undefined;
        const rows = fileRows ?? (start.file === undefined ? index.output.rows : 0);
        if (start.row >= rows) throw noRow(start.at.path, `row ${start.row + 1}`, rows);
      }
      branches = [await traceBack(graph, start, objects.load)];
    } else {
      start = await resolveStart(ctx, objects, found, options, undefined);
      branches = await traceForward(start, await consumersAt(ctx, source), objects.load);
      // Every index that read this version says the row is past its end.
      if (branches.length === 0) throw noRow(start.at.path, `row ${start.row + 1}`, null);
    }
    await exactStartLine(ctx, start, branches);
    await addValues(ctx, branches, warnings);
    return {
      direction: options.source === undefined ? 'back' : 'forward',
      path,
      oid: pointer.oid,
      file: start.file !== undefined ? start.at.path : null,
      rev: options.rev ?? null,
      commit: source.commit ?? null,
      row: start.row + 1,
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
