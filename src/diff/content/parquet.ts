/**
 * Parquet: schema, row counts and per-column min/max/nulls straight from the footer, without reading a
 * single row (two small range reads per file when the caller gives `readRange`). Rows are decoded, one
 * row group at a time, only for a row-level diff.
 *
 * Columns: a struct's fields become dotted columns (`meta.lang`), like JSONL; a list or map is one column
 * holding its JSON text, since its leaves have no per-row value.
 */
import * as zlib from 'node:zlib';
import type { AsyncBuffer, Compressors, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { exactBound } from './exact.js';
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
  /** DECIMAL: the scale; its values are read as exact decimal text (`"12.50"`), not as doubles. */
  decimalScale?: number;
  /**
   * Dates, times and timestamps: shown as text (ISO 8601), yet ordered, so the rows give them a min and
   * max as the footer does (see Columns.bounded).
   */
  temporal?: boolean;
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

/**
 * Every codec Parquet writers use: ZSTD (the default of Polars and DuckDB), LZ4, LZ4_RAW and Brotli from
 * hyparquet-compressors (pure JavaScript, loaded only when rows are decoded); gzip, Brotli and, where
 * Node has it, zstd from node:zlib, which are native and faster. Snappy stays hyparquet's built-in one.
 */
let codecs: Promise<Compressors> | undefined;
function compressors(): Promise<Compressors> {
  codecs ??= import('hyparquet-compressors').then(({ compressors: js }) => {
    const z = zlib as typeof zlib & { zstdDecompressSync?: (b: Uint8Array) => Buffer };
    const out: Compressors = {
      ZSTD: js.ZSTD,
      LZ4: js.LZ4,
      LZ4_RAW: js.LZ4_RAW,
      GZIP: (input) => zlib.gunzipSync(input),
      BROTLI: (input) => zlib.brotliDecompressSync(input),
    };
    if (z.zstdDecompressSync) out.ZSTD = (input) => z.zstdDecompressSync!(input);
    return out;
  });
  return codecs;
}

function isTemporal(e: SchemaElement): boolean {
  const logical = e.logical_type?.type;
  if (logical === 'DATE' || logical === 'TIME' || logical === 'TIMESTAMP' || e.type === 'INT96') return true;
  return e.converted_type !== undefined && /^(DATE|TIME|TIMESTAMP)/.test(e.converted_type);
}

function leafType(tree: SchemaTree): ColumnType {
  const e = tree.element;
  const logical = e.logical_type?.type;
  const converted = e.converted_type;
  if (converted === 'DECIMAL' || logical === 'DECIMAL' || logical === 'FLOAT16') return 'number';
  // Dates and times are shown as ISO text: that is how a reviewer reads them.
  if (isTemporal(e)) return 'string';
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

function decimalScale(e: SchemaElement): number | undefined {
  if (e.logical_type?.type === 'DECIMAL') return e.logical_type.scale;
  return e.converted_type === 'DECIMAL' ? (e.scale ?? 0) : undefined;
}

/**
 * The metadata with DECIMAL annotations removed, so hyparquet hands over the unscaled integers (numbers,
 * bigints or big-endian bytes) instead of doubles: DECIMAL(38,2) values that differ in the last digit
 * would otherwise become the same float.
 */
function rawDecimals(metadata: FileMetaData): FileMetaData {
  if (!metadata.schema.some((e) => decimalScale(e) !== undefined)) return metadata;
  const schema = metadata.schema.map((e) => {
    if (decimalScale(e) === undefined) return e;
    const { converted_type: _c, logical_type: _l, ...plain } = e;
    return plain;
  });
  return { ...metadata, schema };
}

/** An unscaled decimal as exact text with `scale` digits after the point: 1250n, 2 → "12.50". */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += '0'.repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

function unscaled(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (v instanceof Uint8Array) {
    if (v.length === 0) return 0n;
    let x = 0n;
    for (const byte of v) x = (x << 8n) | BigInt(byte);
    return v[0]! & 0x80 ? x - (1n << BigInt(v.length * 8)) : x; // two's complement
  }
  return undefined;
}

/**
 * Timestamps as ISO 8601 text with every digit the file holds: hyparquet's default makes a Date, which
 * keeps milliseconds only, so two timestamps a microsecond apart would compare equal.
 */
function isoWithFraction(ticks: bigint, perSecond: bigint, digits: number): string {
  let seconds = ticks / perSecond;
  let rest = ticks % perSecond;
  if (rest < 0n) {
    rest += perSecond;
    seconds -= 1n;
  }
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${rest.toString().padStart(digits, '0')}Z`;
}

const EXACT_PARSERS: Partial<ParquetParsers> = {
  timestampFromMicroseconds: (micros) => isoWithFraction(BigInt(micros), 1_000_000n, 6),
  timestampFromNanoseconds: (nanos) => isoWithFraction(BigInt(nanos), 1_000_000_000n, 9),
};

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
      const col: ParquetColumn = { name: p.join('.'), path: p, type: leafType(node), json: false };
      const scale = decimalScale(e);
      if (scale !== undefined) col.decimalScale = scale;
      if (isTemporal(e)) col.temporal = true;
      out.push(col);
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
    metadata = await parseMetadata(parquetMetadata, footer);
    file = {
      byteLength: size,
      slice: async (start, end) => {
        const u8 = await readRange(start, end ?? size);
        return u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;
      },
    };
  } else {
    const all = await readAll(source);
    metadata = await parseMetadata(parquetMetadata, all);
    const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
    file = { byteLength: ab.byteLength, slice: (start, end) => ab.slice(start, end) };
  }
  return { metadata, columns: parquetColumns(parquetSchema(metadata)), rows: Number(metadata.num_rows), file };
}

async function parseMetadata(parse: typeof import('hyparquet').parquetMetadata, bytes: Uint8Array): Promise<FileMetaData> {
  let metadata: FileMetaData;
  try {
    // Timestamps in the statistics as exact text too (the default parsers make millisecond Dates).
    metadata = parse(bytes, { parsers: EXACT_PARSERS });
  } catch (err) {
    throw new ContentParseError(`unreadable Parquet footer (${(err as Error).message})`);
  }
  if (metadata.schema.some((e) => decimalScale(e) !== undefined)) await exactDecimalBounds(metadata, bytes);
  return metadata;
}

/** A DECIMAL bound's raw statistics bytes: INT32 and INT64 little-endian (plain encoding), byte arrays big-endian two's complement. */
function rawUnscaled(bytes: Uint8Array, type: SchemaElement['type']): bigint | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === 'INT32') return bytes.byteLength === 4 ? BigInt(view.getInt32(0, true)) : undefined;
  if (type === 'INT64') return bytes.byteLength === 8 ? view.getBigInt64(0, true) : undefined;
  return unscaled(bytes);
}

/**
 * The footer's DECIMAL min and max, exactly: hyparquet turns them into doubles, so DECIMAL(38,2) bounds
 * that differ in the last digit would read as one number. The footer's Thrift is read again (it is a few
 * KB) for the raw bytes of those statistics, which replace the doubles: a number when the double reads
 * back as the same decimal, else the exact text (exact.ts), as the bounds computed from rows are.
 */
async function exactDecimalBounds(metadata: FileMetaData, bytes: Uint8Array): Promise<void> {
  const { deserializeTCompactProtocol } = await import('hyparquet/src/thrift.js');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(bytes.byteLength - 8, true);
  let raw: { [key: `field_${number}`]: any };
  try {
    raw = deserializeTCompactProtocol({ view, offset: bytes.byteLength - 8 - length });
  } catch {
    return; // hyparquet read it a moment ago; nothing better to offer than its doubles
  }
  const leaves = metadata.schema.filter((e) => e.type);
  const bound = (value: unknown, e: SchemaElement, scale: number): number | string | undefined => {
    if (!(value instanceof Uint8Array)) return undefined;
    const u = rawUnscaled(value, e.type);
    return u === undefined ? undefined : exactBound(decimalText(u, scale));
  };
  (raw.field_4 as any[] | undefined)?.forEach((rg, g) => {
    (rg.field_1 as any[] | undefined)?.forEach((chunk, c) => {
      const e = leaves[c];
      const scale = e && decimalScale(e);
      const stats = metadata.row_groups[g]?.columns[c]?.meta_data?.statistics;
      const rawStats = chunk.field_3?.field_12;
      if (scale === undefined || !stats || !rawStats) return;
      // Unknown byte layouts keep nothing rather than a rounded double.
      (stats as Record<string, unknown>).max = bound(rawStats.field_1, e, scale);
      (stats as Record<string, unknown>).min = bound(rawStats.field_2, e, scale);
      (stats as Record<string, unknown>).max_value = bound(rawStats.field_5, e, scale);
      (stats as Record<string, unknown>).min_value = bound(rawStats.field_6, e, scale);
    });
  });
}

/**
 * A decoded value as a cell: bigints that fit stay numbers, larger ones and decimals become exact text
 * (the statistics read such text in a numeric column as a number), the rest (dates, bytes, lists) text.
 */
function toCell(v: unknown, col: ParquetColumn): Cell {
  if (v === null || v === undefined) return null;
  if (col.json) return canonical(v);
  if (col.decimalScale !== undefined) {
    const u = unscaled(v);
    if (u !== undefined) return decimalText(u, col.decimalScale);
  }
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
  pf.columns.forEach((c, i) => {
    if (!c.json && (c.type === 'integer' || c.type === 'number')) ctx.columns.markNumericText(idx[i]!);
    if (c.temporal) ctx.columns.markBounded(idx[i]!);
  });
  const metadata = rawDecimals(pf.metadata);
  const codecs = await compressors();
  const values: Cell[] = new Array<Cell>(ctx.columns.length).fill(null);
  let rowStart = 0;
  let rowNumber = 0;
  for (const rg of pf.metadata.row_groups) {
    const rowEnd = rowStart + Number(rg.num_rows);
    let rows: Record<string, unknown>[] = [];
    try {
      await parquetRead({
        file: pf.file,
        metadata,
        rowStart,
        rowEnd,
        rowFormat: 'object',
        compressors: codecs,
        parsers: EXACT_PARSERS,
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
        values[idx[c]!] = toCell(v, col);
      }
      if (!ctx.sink.values(values, ++rowNumber)) return;
    }
    rowStart = rowEnd;
  }
}
