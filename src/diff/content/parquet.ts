/**
 * Parquet: schema, row counts and per-column min/max/nulls straight from the footer, without reading a
 * single row (two small range reads per file when the caller gives `readRange`). Rows are decoded, one
 * row group at a time, only for a row-level diff.
 *
 * Columns: a struct's fields become dotted columns (`meta.lang`), like JSONL; a list or map is one column
 * holding its JSON text, since its leaves have no per-row value.
 */
import * as zlib from 'node:zlib';
import type { AsyncBuffer, Compressors, FileMetaData, SchemaTree } from 'hyparquet';
import { canonical } from './hash.js';
import { ContentParseError, readAll, type ReadContext } from './reader.js';
import type { Cell, ColumnType, ContentSource } from './types.js';

export interface ParquetColumn {
  name: string;
  /** Path of the value inside a row object, e.g. ['meta', 'lang']. */
  path: string[];
  type: ColumnType;
  /** Lists and maps: the value is shown as JSON and has no footer statistics. */
  json: boolean;
}

export interface ParquetFile {
  metadata: FileMetaData;
  columns: ParquetColumn[];
  rows: number;
  file: AsyncBuffer;
}

function hyparquet(): Promise<typeof import('hyparquet')> {
  return import('hyparquet');
}

/** Decompressors beyond hyparquet's built-in Snappy, from node:zlib (zstd only where Node has it). */
function compressors(): Compressors {
  const z = zlib as typeof zlib & { zstdDecompressSync?: (b: Uint8Array) => Buffer };
  const out: Compressors = {
    GZIP: (input) => zlib.gunzipSync(input),
    BROTLI: (input) => zlib.brotliDecompressSync(input),
  };
  if (z.zstdDecompressSync) out.ZSTD = (input) => z.zstdDecompressSync!(input);
  return out;
}

function leafType(tree: SchemaTree): ColumnType {
  const e = tree.element;
  const logical = e.logical_type?.type;
  const converted = e.converted_type;
  if (converted === 'DECIMAL' || logical === 'DECIMAL' || logical === 'FLOAT16') return 'number';
  // Dates and times are shown as ISO text: that is how a reviewer reads them.
  if (logical === 'DATE' || logical === 'TIME' || logical === 'TIMESTAMP' || e.type === 'INT96') return 'string';
  if (converted && /^(DATE|TIME|TIMESTAMP)/.test(converted)) return 'string';
  switch (e.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
      return 'integer';
    case 'FLOAT':
    case 'DOUBLE':
      return 'number';
    default:
      return 'string';
  }
}

export function parquetColumns(root: SchemaTree): ParquetColumn[] {
  const out: ParquetColumn[] = [];
  const walk = (node: SchemaTree, path: string[]): void => {
    const e = node.element;
    const p = [...path, e.name];
    const nested = e.converted_type === 'LIST' || e.converted_type === 'MAP' || e.converted_type === 'MAP_KEY_VALUE';
    const logicalNested = e.logical_type?.type === 'LIST' || e.logical_type?.type === 'MAP';
    if (nested || logicalNested || e.repetition_type === 'REPEATED') {
      out.push({ name: p.join('.'), path: p, type: 'string', json: true });
    } else if (node.children.length > 0) {
      for (const child of node.children) walk(child, p);
    } else {
      out.push({ name: p.join('.'), path: p, type: leafType(node), json: false });
    }
  };
  for (const child of root.children) walk(child, []);
  return out;
}

/** Footer only: the last 8 bytes give the metadata length, then the metadata itself. */
export async function openParquet(source: ContentSource): Promise<ParquetFile> {
  const { parquetMetadata, parquetSchema } = await hyparquet();
  let metadata: FileMetaData;
  let file: AsyncBuffer;
  const size = source.size;
  if (size < 12) throw new ContentParseError(`not a Parquet file (${size} bytes)`);
  const readRange = source.readRange?.bind(source);
  if (readRange) {
    const tail = await readRange(size - 8, size);
    const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    if (tail.byteLength !== 8 || view.getUint32(4, true) !== 0x31524150) throw new ContentParseError('not a Parquet file (no PAR1 magic at the end)');
    const len = view.getUint32(0, true);
    if (len + 12 > size) throw new ContentParseError(`Parquet footer length ${len} exceeds the file size ${size}`);
    const meta = await readRange(size - 8 - len, size - 8);
    const footer = new Uint8Array(len + 8);
    footer.set(meta, 0);
    footer.set(tail, len);
    metadata = parseMetadata(parquetMetadata, footer);
    file = {
      byteLength: size,
      slice: async (start, end) => {
        const u8 = await readRange(start, end ?? size);
        return u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;
      },
    };
  } else {
    const all = await readAll(source);
    metadata = parseMetadata(parquetMetadata, all);
    const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
    file = { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
  }
  return { metadata, columns: parquetColumns(parquetSchema(metadata)), rows: Number(metadata.num_rows), file };
}

function parseMetadata(parse: typeof import('hyparquet').parquetMetadata, bytes: Uint8Array): FileMetaData {
  try {
    return parse(bytes);
  } catch (err) {
    throw new ContentParseError(`unreadable Parquet footer (${(err as Error).message})`);
  }
}

/** A decoded value as a cell: bigints that fit stay numbers, the rest (dates, bytes, lists) becomes text. */
function toCell(v: unknown, json: boolean): Cell {
  if (v === null || v === undefined) return null;
  if (json) return canonical(v);
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
    default:
      return canonical(v);
  }
}

/** Decode rows one row group at a time, so memory is bounded by the largest row group. */
export async function readParquetRows(ctx: ReadContext, pf: ParquetFile): Promise<void> {
  const { parquetRead } = await hyparquet();
  const idx = pf.columns.map((c) => ctx.columns.indexOf(c.name));
  const values: Cell[] = new Array<Cell>(ctx.columns.length).fill(null);
  let rowStart = 0;
  let rowNumber = 0;
  for (const rg of pf.metadata.row_groups) {
    const rowEnd = rowStart + Number(rg.num_rows);
    let rows: Record<string, unknown>[] = [];
    try {
      await parquetRead({
        file: pf.file,
        metadata: pf.metadata,
        rowStart,
        rowEnd,
        rowFormat: 'object',
        compressors: compressors(),
        onComplete: (r) => (rows = r),
      });
    } catch (err) {
      throw new ContentParseError(`cannot decode Parquet rows ${rowStart}-${rowEnd} (${(err as Error).message})`);
    }
    for (const row of rows) {
      for (let c = 0; c < idx.length; c++) {
        const col = pf.columns[c]!;
        let v: unknown = row;
        for (const part of col.path) v = v === null || v === undefined ? v : (v as Record<string, unknown>)[part];
        values[idx[c]!] = toCell(v, col.json);
      }
      if (!ctx.sink.values(values, ++rowNumber)) return;
    }
    rowStart = rowEnd;
  }
}
