import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { createGunzip } from 'node:zlib';
import { DvsError } from '../errors.js';
import type { Oid } from '../objects/oid.js';

/**
 * Row indexes: for one tabular output of a transform, each row's fingerprint and the input row it came
 * from, and for each input row what became of it (kept as which output row, dropped, or dropped as a copy
 * of a kept row). Stored as a cache object named by the output's lineage entry (`row_index:`), so it
 * travels with push/pull and costs Git nothing. The binary layout is specified in docs/lineage.md.
 */

export type RowFormat = 'csv' | 'tsv' | 'jsonl';

/**
 * One tabular file of a directory, in a directory's scan or index: its rows are the directory's rows
 * [start, start + rows), in manifest order. `path` is relative to the directory.
 */
export interface FileSpan {
  path: string;
  oid: Oid;
  rows: number;
  lineBase: number;
}

/** The fingerprints of one file's data rows, in file order; of a directory, its tabular files' rows one after another. */
export interface RowScan {
  rows: number;
  /** Two u32 per row: low and high halves of a 64-bit fingerprint. */
  fps: Uint32Array;
  /** 1-based line where each row starts (within its file); undefined when every row n (0-based) is on line n + lineBase (of its file). */
  lines?: Uint32Array;
  lineBase: number;
  /** A directory: its tabular files, whose rows follow each other in this order. */
  files?: FileSpan[];
}

/**
 * The scan of a directory from its files' scans: fingerprints one after another, and a line table only
 * when some file needs one (each row's line is within its own file).
 */
export function concatScans(files: Array<{ path: string; oid: Oid; scan: RowScan }>): RowScan {
  const rows = files.reduce((n, f) => n + f.scan.rows, 0);
  const fps = new Uint32Array(rows * 2);
  const listed = files.some((f) => f.scan.lines);
  const lines = listed ? new Uint32Array(rows) : undefined;
  let at = 0;
  for (const f of files) {
    fps.set(f.scan.fps.subarray(0, f.scan.rows * 2), at * 2);
    if (lines) for (let r = 0; r < f.scan.rows; r++) lines[at + r] = lineOf(f.scan, r);
    at += f.scan.rows;
  }
  return { rows, fps, lineBase: 1, ...(lines ? { lines } : {}), files: files.map((f) => ({ path: f.path, oid: f.oid, rows: f.scan.rows, lineBase: f.scan.lineBase })) };
}

/** The file of a directory's row (0-based): its span and the row within it; undefined past the end. */
export function fileOfRow(files: readonly FileSpan[], row: number): { file: FileSpan; row: number } | undefined {
  let start = 0;
  for (const file of files) {
    if (row < start + file.rows) return { file, row: row - start };
    start += file.rows;
  }
  return undefined;
}

/** The directory row (0-based) of a file's row; undefined when the directory has no such tabular file. */
export function rowOfFile(files: readonly FileSpan[], path: string, row: number): number | undefined {
  let start = 0;
  for (const file of files) {
    if (file.path === path) return row < file.rows ? start + row : undefined;
    start += file.rows;
  }
  return undefined;
}

const MAGIC = 'DVSROWS1';
const CHUNK = 1 << 22;

/** Data rows whose line is not `row + lineBase` force a full line table. */
function compactLines(lines: Uint32Array, rows: number): { lines?: Uint32Array; lineBase: number } {
  if (rows === 0) return { lineBase: 1 };
  const base = lines[0];
  for (let i = 1; i < rows; i++) if (lines[i] !== base + i) return { lines: lines.slice(0, rows), lineBase: base };
  return { lineBase: base };
}

/**
 * A 64-bit fingerprint of bytes [s, e): two 32-bit murmur-style lanes, each over every other 4-byte word. Not a
 * cryptographic hash: it names rows within one dataset, where 2^-64 per pair is ample, and it is about
 * six times faster than SHA-1 per row in JavaScript. `words`, when given, is a 32-bit view of the same
 * memory (`b` starting on a multiple of 4): a word then costs one or two loads instead of four byte loads.
 */
function fingerprint(b: Uint8Array, s: number, e: number, out: Uint32Array, at: number, words?: Int32Array): void {
  let h1 = 0x811c9dc5 ^ (e - s);
  let h2 = 0x9747b28c;
  let i = s;
  // The word view may be used only where the last word it loads (up to 3 bytes past e) lies inside it.
  const w = words !== undefined && e + 4 <= words.length * 4 ? words : undefined;
  const sh = (s & 3) * 8;
  const inv = 32 - sh;
  // Each lane takes every other word: half the multiplications of hashing every word twice.
  for (; i + 8 <= e; i += 8) {
    let k1: number;
    let k2: number;
    if (w === undefined) {
      k1 = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
      k2 = b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24);
    } else if (sh === 0) {
      k1 = w[i >> 2];
      k2 = w[(i >> 2) + 1];
    } else {
      const q = i >> 2;
      const m = w[q + 1];
      k1 = (w[q] >>> sh) | (m << inv);
      k2 = (m >>> sh) | (w[q + 2] << inv);
    }
    k1 = Math.imul(k1, 0xcc9e2d51);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, 0x1b873593);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    k2 = Math.imul(k2, 0x85ebca6b);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, 0xc2b2ae35);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (Math.imul(h2, 5) + 0x1b873594) | 0;
  }
  for (; i < e; i++) {
    h1 = Math.imul(h1 ^ b[i], 0x01000193);
    h2 = Math.imul(h2 ^ b[i], 0x5bd1e995);
  }
  h1 ^= h2 >>> 13;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 16;
  h2 ^= h1 >>> 11;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 16;
  out[at] = h1 >>> 0;
  out[at + 1] = h2 >>> 0;
}

/** A 32-bit view of a buffer's memory, when it starts on a multiple of 4 (else the byte loop is used). */
function wordsOf(b: Uint8Array): Int32Array | undefined {
  return b.byteOffset % 4 === 0 ? new Int32Array(b.buffer, b.byteOffset, b.length >> 2) : undefined;
}

/** Split a CSV/TSV record into its fields (quotes undone for CSV). */
export function splitRecord(text: string, format: RowFormat): string[] {
  const delim = format === 'tsv' ? '\t' : ',';
  if (format === 'tsv' || !text.includes('"')) return text.split(delim);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === delim) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** A row's value of a column or dotted JSON path, as text; undefined when the row has none. */
export function fieldOf(row: Record<string, unknown>, name: string): unknown {
  if (name in row) return row[name];
  let v: unknown = row;
  for (const part of name.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in (v as object))) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

type RecordVisitor = (buf: Buffer, s: number, e: number, line: number, header: boolean) => boolean | void;

/**
 * Splits text fed to it in pieces into records, each visited with its bytes [s, e) (line ending stripped)
 * and the 1-based line it starts on. Empty records are skipped; CSV newlines inside quotes do not end a
 * record. For CSV/TSV the header is the first record and is passed with `header` true. The reader writes
 * into `room()` at `filled` and calls `consume(n)`; n = 0 is the end of the text.
 */
class RecordSplitter {
  buf: Buffer;
  filled = 0;
  private line = 1;
  private headerSeen: boolean;
  private readonly quotes: boolean;

  constructor(format: RowFormat, size: number, private readonly visit: RecordVisitor) {
    this.buf = Buffer.allocUnsafe(size);
    this.headerSeen = format === 'jsonl';
    this.quotes = format === 'csv';
  }

  /** The buffer, with room for at least one more byte at `filled`. */
  room(): Buffer {
    if (this.filled === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.filled);
      this.buf = bigger;
    }
    return this.buf;
  }

  /** Split what `n` more bytes complete; false once the visitor stopped or the text ended. */
  consume(n: number): boolean {
    const buf = this.buf;
    const eof = n === 0;
    const end = this.filled + n;
    let line = this.line;
    let s = 0;
    let scan = 0;
    let startLine = line;
    let inQuote = false;
    for (;;) {
      let nl = buf.indexOf(10, scan);
      if (nl >= end) nl = -1;
      if (this.quotes && nl >= 0) {
        // Count quotes up to the newline: an odd number so far means the newline is inside a field.
        for (let i = scan; i < nl; i++) if (buf[i] === 34) inQuote = !inQuote;
        if (inQuote) {
          line++;
          scan = nl + 1;
          continue;
        }
      }
      if (nl < 0) {
        if (!eof) break;
        if (s >= end) break;
        nl = end;
      }
      let e = nl;
      if (e > s && buf[e - 1] === 13) e--;
      if (e > s) {
        const isHeader = !this.headerSeen;
        this.headerSeen = true;
        if (this.visit(buf, s, e, startLine, isHeader) === false) return false;
      }
      line++;
      s = nl + 1;
      scan = s;
      startLine = line;
      inQuote = false;
      if (s >= end) break;
    }
    // The unfinished record moves to the front; its line count restarts from its first line.
    if (s < end && !eof) {
      buf.copy(buf, 0, s, end);
      this.filled = end - s;
      this.line = startLine;
    } else {
      this.filled = 0;
      this.line = line;
    }
    return !eof;
  }
}

/** Visit each record of a CSV/TSV/JSONL file (see RecordSplitter). */
export function forEachRecord(abs: string, format: RowFormat, visit: RecordVisitor): void {
  const fd = openSync(abs, 'r');
  try {
    // Small files get a small buffer: a trace or a test reads many of them.
    const split = new RecordSplitter(format, Math.min(CHUNK, Math.max(1 << 12, fstatSync(fd).size + 1)), visit);
    for (;;) {
      const buf = split.room();
      if (!split.consume(readSync(fd, buf, split.filled, buf.length - split.filled, null))) break;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Visit each record of a gzip-compressed CSV/TSV/JSONL file, decompressed as a stream: lines are those of
 * the decompressed text, so a row fingerprints the same compressed or not.
 */
export async function forEachGzipRecord(abs: string, format: RowFormat, visit: RecordVisitor, label = abs): Promise<void> {
  const split = new RecordSplitter(format, 1 << 16, visit);
  const stream = createReadStream(abs).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let off = 0; off < chunk.length; ) {
        const buf = split.room();
        const n = Math.min(buf.length - split.filled, chunk.length - off);
        chunk.copy(buf, split.filled, off, off + n);
        off += n;
        if (!split.consume(n)) return;
      }
    }
    split.consume(0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new DvsError('ROW_DATA_UNREADABLE', `${label}: not valid gzip data (${(err as Error).message})`);
    throw err;
  } finally {
    stream.destroy();
  }
}

/** Visit each record of a text file, plain or gzip-compressed. */
export async function forEachTextRecord(abs: string, file: { format: RowFormat; gzip: boolean }, visit: RecordVisitor, label = abs): Promise<void> {
  if (file.gzip) await forEachGzipRecord(abs, file.format, visit, label);
  else forEachRecord(abs, file.format, visit);
}

/** How rows are named: by their bytes, or by the value of a declared column (`--row-id`). */
export interface FingerprintMode {
  rowId?: string;
  /**
   * Name rows by their record digest (docs/record-hash.md) instead of their bytes: the mode of a step with
   * Parquet among its tabular files, so that the same record in CSV, JSONL and Parquet matches.
   */
  records?: boolean;
}

export function modeName(mode: FingerprintMode): string {
  return mode.rowId !== undefined ? `row-id:${mode.rowId}` : mode.records ? 'record' : 'row';
}

/** Collects the fingerprints and lines of the records visited (the header checked for a row id). */
function rowScanner(format: RowFormat, mode: FingerprintMode, label: string): { visit: RecordVisitor; result(): RowScan } {
  let fps = new Uint32Array(1 << 16);
  let lines = new Uint32Array(1 << 15);
  let rows = 0;
  let column = -1;
  const rowId = mode.rowId;
  const encoder = new TextEncoder();
  let words: Int32Array | undefined;
  let wordsOfBuf: Buffer | undefined;
  const visit: RecordVisitor = (buf, s, e, line, header) => {
    if (header) {
      if (rowId !== undefined) {
        column = splitRecord(buf.toString('utf8', s, e), format).indexOf(rowId);
        if (column < 0) throw rowIdNotFound(rowId, label);
      }
      return;
    }
    if (rows * 2 + 2 > fps.length) {
      const f = new Uint32Array(fps.length * 2);
      f.set(fps);
      fps = f;
      const l = new Uint32Array(lines.length * 2);
      l.set(lines);
      lines = l;
    }
    if (rowId === undefined) {
      if (buf !== wordsOfBuf) {
        wordsOfBuf = buf;
        words = wordsOf(buf);
      }
      fingerprint(buf, s, e, fps, rows * 2, words);
    }
    else {
      const value = idValue(buf.toString('utf8', s, e), format, rowId, column);
      const bytes = encoder.encode(value);
      fingerprint(bytes, 0, bytes.length, fps, rows * 2);
    }
    lines[rows++] = line;
  };
  return { visit, result: () => ({ rows, fps: fps.slice(0, rows * 2), ...compactLines(lines, rows) }) };
}

export function rowIdNotFound(rowId: string, label: string): DvsError {
  return new DvsError('ROW_ID_NOT_FOUND', `--row-id ${rowId}: no such column in ${label}`, { hint: 'Name a column every input and output has, or leave --row-id out to match rows by content.' });
}

/** Fingerprint every data row of a file. With a row id, each row's fingerprint is that of the column's value. */
export function scanRows(abs: string, format: RowFormat, mode: FingerprintMode = {}, label = abs): RowScan {
  const scanner = rowScanner(format, mode, label);
  forEachRecord(abs, format, scanner.visit);
  return scanner.result();
}

/** scanRows for a text file that may be gzip-compressed: rows and lines are those of the decompressed text. */
export async function scanTextRows(abs: string, file: { format: RowFormat; gzip: boolean }, mode: FingerprintMode = {}, label = abs): Promise<RowScan> {
  const scanner = rowScanner(file.format, mode, label);
  await forEachTextRecord(abs, file, scanner.visit, label);
  return scanner.result();
}

function idValue(text: string, format: RowFormat, rowId: string, column: number): string {
  if (format !== 'jsonl') return splitRecord(text, format)[column] ?? '';
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return text; // a line that is not JSON is named by its text
  }
  const v = obj !== null && typeof obj === 'object' ? fieldOf(obj as Record<string, unknown>, rowId) : undefined;
  return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** The fingerprint of a row-id value, to find a row by `--key` without reading the data. */
export function fingerprintOfText(text: string): [number, number] {
  const out = new Uint32Array(2);
  const bytes = new TextEncoder().encode(text);
  fingerprint(bytes, 0, bytes.length, out, 0);
  return [out[0], out[1]];
}

export interface IndexInput {
  path: string;
  oid: Oid;
  rows: number;
  lineBase: number;
  files?: FileSpan[];
  /** What became of each row: ≥ 0 kept as that output row; -1 dropped; ≤ -2 dropped, a copy of output row -fate-2. */
  fates: Int32Array;
  lines?: Uint32Array;
}

export interface RowIndex {
  fingerprint: string;
  output: { path: string; oid: Oid; rows: number; lineBase: number; lines?: Uint32Array; files?: FileSpan[] };
  fps: Uint32Array;
  /** Per output row: index into `inputs`, or NO_ORIGIN. */
  originInput: Uint32Array;
  originRow: Uint32Array;
  inputs: IndexInput[];
}

export const NO_ORIGIN = 0xffffffff;

export function lineOf(x: { lineBase: number; lines?: Uint32Array; files?: readonly FileSpan[] }, row: number): number {
  if (x.lines) return x.lines[row];
  if (x.files) {
    const at = fileOfRow(x.files, row);
    return at ? at.file.lineBase + at.row : row + 1;
  }
  return x.lineBase + row;
}

/**
 * Match output rows to input rows by fingerprint. One open-addressing table, four words per slot (the
 * fingerprint's two halves, the first input row with it + 1, the next unmatched one + 1), so a lookup
 * touches one cache line; rows with the same fingerprint are chained through `next` in input order.
 * Nothing is allocated per row: a million rows cost a few typed arrays, not a million objects.
 */
function matchRows(output: RowScan, inputs: RowScan[]): RowMatch {
  const starts = new Uint32Array(inputs.length + 1);
  for (let i = 0; i < inputs.length; i++) starts[i + 1] = starts[i] + inputs[i].rows;
  return matchInOrder(output, inputs, starts) ?? matchByTable(output, inputs, starts);
}

interface RowMatch {
  originInput: Uint32Array;
  originRow: Uint32Array;
  fates: Int32Array[];
}

/** The probe start of a fingerprint in a table of `mask + 1` four-word slots. */
function slotOf(lo: number, hi: number, mask: number): number {
  return ((lo ^ Math.imul(hi, 0x9e3779b1)) & mask) * 4;
}

/**
 * The usual case, a filter or a dedup, without a table over every input row: such a step writes the rows
 * it keeps in input order, so the output is a subsequence of the inputs and one merge walk pairs them.
 * That pairing is matchByTable's (the n-th output copy of a row is its n-th input copy) exactly when no
 * dropped row has a copy kept after it, which a table of the dropped rows alone (usually few) tells.
 * Undefined when the output is not such a subsequence or a later copy was kept: then the table decides.
 */
function matchInOrder(output: RowScan, inputs: RowScan[], starts: Uint32Array): RowMatch | undefined {
  const total = starts[inputs.length];
  if (output.rows > total) return undefined;
  const originInput = new Uint32Array(output.rows);
  const originRow = new Uint32Array(output.rows);
  const fate = new Int32Array(total).fill(-1);
  const ofps = output.fps;
  let i = 0;
  let r = 0;
  let fps = inputs.length ? inputs[0].fps : ofps;
  let rows = inputs.length ? inputs[0].rows : 0;
  for (let k = 0; k < output.rows; k++) {
    const lo = ofps[k * 2];
    const hi = ofps[k * 2 + 1];
    for (;;) {
      while (r >= rows) {
        if (++i >= inputs.length) return undefined;
        fps = inputs[i].fps;
        rows = inputs[i].rows;
        r = 0;
      }
      if (fps[r * 2] === lo && fps[r * 2 + 1] === hi) break;
      r++;
    }
    originInput[k] = i;
    originRow[k] = r;
    fate[starts[i] + r] = k;
    r++;
  }
  const dropped = total - output.rows;
  if (dropped > 0) {
    // The dropped rows by fingerprint: the first one's position + 1, and the first output row that kept a copy + 1.
    let size = 1024;
    while (size < dropped * 2) size *= 2;
    const mask = size - 1;
    const wrap = size * 4 - 1;
    const table = new Int32Array(size * 4);
    const find = (lo: number, hi: number): number => {
      let h = slotOf(lo, hi, mask);
      while (table[h + 2] !== 0 && (table[h] !== lo || table[h + 1] !== hi)) h = (h + 4) & wrap;
      return h;
    };
    for (let n = 0, g = 0; n < inputs.length; n++) {
      const f = inputs[n].fps;
      for (let q = 0; q < inputs[n].rows; q++, g++) {
        if (fate[g] !== -1) continue;
        const h = find(f[q * 2] | 0, f[q * 2 + 1] | 0);
        if (table[h + 2] !== 0) continue;
        table[h] = f[q * 2] | 0;
        table[h + 1] = f[q * 2 + 1] | 0;
        table[h + 2] = g + 1;
      }
    }
    for (let k = 0; k < output.rows; k++) {
      const h = find(ofps[k * 2] | 0, ofps[k * 2 + 1] | 0);
      if (table[h + 2] === 0) continue;
      if (table[h + 2] - 1 < starts[originInput[k]] + originRow[k]) return undefined;
      if (table[h + 3] === 0) table[h + 3] = k + 1;
    }
    for (let n = 0, g = 0; n < inputs.length; n++) {
      const f = inputs[n].fps;
      for (let q = 0; q < inputs[n].rows; q++, g++) {
        if (fate[g] !== -1) continue;
        const kept = table[find(f[q * 2] | 0, f[q * 2 + 1] | 0) + 3] - 1;
        if (kept >= 0) fate[g] = -kept - 2;
      }
    }
  }
  return { originInput, originRow, fates: inputs.map((s, n) => fate.subarray(starts[n], starts[n] + s.rows)) };
}

/** Any output: a table over every input row, its copies chained in input order. */
function matchByTable(output: RowScan, inputs: RowScan[], starts: Uint32Array): RowMatch {
  const total = starts[inputs.length];
  let size = 1024;
  while (size < total * 2) size *= 2;
  const mask = size - 1;
  const wrap = size * 4 - 1;
  const table = new Int32Array(size * 4);
  const next = new Int32Array(total);
  // Inserted last row first, so each chain runs in input order without a tail pointer.
  for (let i = inputs.length - 1; i >= 0; i--) {
    const fps = inputs[i].fps;
    for (let r = inputs[i].rows - 1; r >= 0; r--) {
      const lo = fps[r * 2] | 0;
      const hi = fps[r * 2 + 1] | 0;
      const g = starts[i] + r;
      let h = slotOf(lo, hi, mask);
      while (table[h + 2] !== 0 && (table[h] !== lo || table[h + 1] !== hi)) h = (h + 4) & wrap;
      next[g] = table[h + 2] - 1;
      table[h] = lo;
      table[h + 1] = hi;
      table[h + 2] = g + 1;
      table[h + 3] = g + 1;
    }
  }
  const fate = new Int32Array(total).fill(-1);
  const originInput = new Uint32Array(output.rows).fill(NO_ORIGIN);
  const originRow = new Uint32Array(output.rows);
  const ofps = output.fps;
  const single = inputs.length === 1;
  for (let k = 0; k < output.rows; k++) {
    const lo = ofps[k * 2] | 0;
    const hi = ofps[k * 2 + 1] | 0;
    let h = slotOf(lo, hi, mask);
    while (table[h + 2] !== 0 && (table[h] !== lo || table[h + 1] !== hi)) h = (h + 4) & wrap;
    if (table[h + 2] === 0) continue;
    // The n-th output copy of a row is the n-th input copy; a copy not in the input gets the last one.
    let c = table[h + 3] - 1;
    if (c >= 0) table[h + 3] = next[c] + 1;
    else for (c = table[h + 2] - 1; next[c] >= 0; ) c = next[c];
    if (fate[c] < 0) fate[c] = k;
    let i = 0;
    if (!single) while (starts[i + 1] <= c) i++;
    originInput[k] = i;
    originRow[k] = c - starts[i];
  }
  // Dropped rows with a kept copy: they were duplicates of it. Only chains longer than one row can have such.
  for (let h = 0; h < size * 4; h += 4) {
    const first = table[h + 2] - 1;
    if (first < 0 || next[first] < 0) continue;
    let kept = -1;
    for (let c = first; c !== -1; c = next[c]) if (fate[c] >= 0) {
      kept = fate[c];
      break;
    }
    if (kept < 0) continue;
    for (let c = first; c !== -1; c = next[c]) if (fate[c] === -1) fate[c] = -kept - 2;
  }
  const fates = inputs.map((s, i) => fate.subarray(starts[i], starts[i] + s.rows));
  return { originInput, originRow, fates };
}

/** Build the index of one output from its scan and its inputs' scans. */
export function buildRowIndex(mode: FingerprintMode, output: { path: string; oid: Oid; scan: RowScan }, inputs: Array<{ path: string; oid: Oid; scan: RowScan }>): RowIndex {
  const m = matchRows(output.scan, inputs.map((i) => i.scan));
  return {
    fingerprint: modeName(mode),
    output: { path: output.path, oid: output.oid, rows: output.scan.rows, lineBase: output.scan.lineBase, lines: output.scan.lines, ...filesOf(output.scan) },
    fps: output.scan.fps,
    originInput: m.originInput,
    originRow: m.originRow,
    inputs: inputs.map((i, n) => ({ path: i.path, oid: i.oid, rows: i.scan.rows, lineBase: i.scan.lineBase, lines: i.scan.lines, ...filesOf(i.scan), fates: m.fates[n] })),
  };
}

function filesOf(x: { files?: FileSpan[] }): { files?: FileSpan[] } {
  return x.files ? { files: x.files } : {};
}

/** A side of the stored header: a directory's side lists its tabular files. */
function headerSide(x: { path: string; oid: Oid; rows: number; lineBase: number; lines?: Uint32Array; files?: FileSpan[] }): StoredSide {
  return { path: x.path, oid: x.oid, rows: x.rows, lineBase: x.lineBase, lines: x.lines ? 'listed' : 'regular', ...(x.files ? { files: x.files.map((f) => ({ path: f.path, oid: f.oid, rows: f.rows, lineBase: f.lineBase })) } : {}) };
}

/** A directory side's files, checked: their rows must add up to the side's (else positions would be wrong). */
function sideFiles(side: StoredSide, oid: string): { files?: FileSpan[] } {
  if (side.files === undefined) return {};
  const ok = Array.isArray(side.files) && side.files.every((f) => f !== null && typeof f === 'object' && typeof f.path === 'string' && typeof f.oid === 'string' && Number.isInteger(f.rows) && f.rows >= 0 && Number.isInteger(f.lineBase));
  if (!ok || side.files.reduce((n, f) => n + f.rows, 0) !== side.rows) throw new RowIndexFormatError(oid, `the files of ${side.path} do not add up to its rows`);
  return { files: side.files };
}

function requireLittleEndian(): void {
  if (endianness() !== 'LE') throw new DvsError('ROW_INDEX_UNSUPPORTED', 'row indexes are little-endian; this machine is big-endian');
}

/** The stored form: magic, u32 header length, JSON header, then u32 arrays (4-byte aligned, little-endian). */
export function encodeRowIndex(index: RowIndex): Buffer {
  requireLittleEndian();
  const header: StoredHeader = { fingerprint: index.fingerprint, output: headerSide(index.output), inputs: index.inputs.map(headerSide) };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.from(' '.repeat(pad))]);
  const arrays: ArrayBufferView[] = [index.fps, index.originInput, index.originRow];
  if (index.output.lines) arrays.push(index.output.lines);
  for (const i of index.inputs) {
    arrays.push(i.fates);
    if (i.lines) arrays.push(i.lines);
  }
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  return Buffer.concat([head, json, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
}

export class RowIndexFormatError extends DvsError {
  constructor(oid: string, reason: string) {
    super('ROW_INDEX_INVALID', `row index ${oid.slice(0, 10)}: ${reason}`, { hint: 'Re-run the transform to record a new index (dvs repro --force <dataset>).', data: { oid } });
  }
}

export function decodeRowIndex(data: Buffer, oid: string): RowIndex {
  requireLittleEndian();
  if (data.length < 12 || data.toString('latin1', 0, 8) !== MAGIC) throw new RowIndexFormatError(oid, 'not a row index');
  const len = data.readUInt32LE(8);
  let header: StoredHeader;
  try {
    header = JSON.parse(data.toString('utf8', 12, 12 + len));
  } catch {
    throw new RowIndexFormatError(oid, 'its header is not JSON');
  }
  // Typed arrays need 4-byte alignment: copy when the buffer does not start on one.
  const aligned = data.byteOffset % 4 === 0 ? data : Buffer.from(data);
  let at = 12 + len;
  const take = (n: number): Uint32Array => {
    if (at + n * 4 > aligned.length) throw new RowIndexFormatError(oid, 'truncated');
    const a = new Uint32Array(aligned.buffer, aligned.byteOffset + at, n);
    at += n * 4;
    return a;
  };
  const out = header.output;
  const fps = take(out.rows * 2);
  const originInput = take(out.rows);
  const originRow = take(out.rows);
  const outLines = out.lines === 'listed' ? take(out.rows) : undefined;
  const inputs: IndexInput[] = header.inputs.map((i) => {
    const fates = new Int32Array(take(i.rows).buffer, aligned.byteOffset + at - i.rows * 4, i.rows);
    const lines = i.lines === 'listed' ? take(i.rows) : undefined;
    return { path: i.path, oid: i.oid, rows: i.rows, lineBase: i.lineBase, fates, ...(lines ? { lines } : {}), ...sideFiles(i, oid) };
  });
  return {
    fingerprint: header.fingerprint,
    output: { path: out.path, oid: out.oid, rows: out.rows, lineBase: out.lineBase, ...(outLines ? { lines: outLines } : {}), ...sideFiles(out, oid) },
    fps,
    originInput,
    originRow,
    inputs,
  };
}

/** The scan an index holds for its output, so the next step need not read that data again. */
export function scanOfIndex(index: RowIndex): RowScan {
  return { rows: index.output.rows, fps: index.fps, lineBase: index.output.lineBase, ...(index.output.lines ? { lines: index.output.lines } : {}), ...filesOf(index.output) };
}

/**
 * What a trace reads of a row index: a few entries per step. Reading whole indexes (16 bytes per output
 * row) made a trace through three steps of a million rows read 50 MB for a handful of numbers.
 */
export interface RowIndexView {
  fingerprint: string;
  /** `files`: a directory's tabular files, whose rows are the side's rows one file after another. */
  output: { path: string; oid: Oid; rows: number; files?: readonly FileSpan[] };
  inputs: ReadonlyArray<{ path: string; oid: Oid; rows: number; files?: readonly FileSpan[] }>;
  /** Index into `inputs` of the output row's origin, or NO_ORIGIN. */
  originInput(row: number): number;
  originRow(row: number): number;
  outputLine(row: number): number;
  inputLine(input: number, row: number): number;
  fate(input: number, row: number): number;
  /** Every fate of one input (to count a row's copies). */
  fates(input: number): Int32Array;
  /** The first output row with this fingerprint. */
  findFingerprint(lo: number, hi: number): number | undefined;
}

/** An index in memory, seen as a trace sees one. */
export function viewOfIndex(index: RowIndex): RowIndexView {
  return {
    fingerprint: index.fingerprint,
    output: index.output,
    inputs: index.inputs,
    originInput: (row) => index.originInput[row],
    originRow: (row) => index.originRow[row],
    outputLine: (row) => lineOf(index.output, row),
    inputLine: (input, row) => lineOf(index.inputs[input], row),
    fate: (input, row) => index.inputs[input].fates[row],
    fates: (input) => index.inputs[input].fates,
    findFingerprint: (lo, hi) => firstWith(index.fps, lo, hi),
  };
}

function firstWith(fps: Uint32Array, lo: number, hi: number): number | undefined {
  for (let r = 0; r * 2 < fps.length; r++) if (fps[r * 2] === lo && fps[r * 2 + 1] === hi) return r;
  return undefined;
}

interface StoredArrays {
  fps: number;
  originInput: number;
  originRow: number;
  outputLines?: number;
  inputs: Array<{ fates: number; lines?: number }>;
}

/**
 * A row index file read in place: the header once, then each entry a trace asks for by a positioned read
 * of its 4 bytes. The layout is checked against the file's size when opened, as decodeRowIndex checks it.
 */
export class StoredRowIndex implements RowIndexView {
  readonly fingerprint: string;
  readonly output: { path: string; oid: Oid; rows: number; lineBase: number; files?: FileSpan[] };
  readonly inputs: Array<{ path: string; oid: Oid; rows: number; lineBase: number; files?: FileSpan[] }>;
  private readonly at: StoredArrays;
  private readonly fd: number;
  private readonly word = Buffer.alloc(4);

  constructor(file: string, oid: string) {
    requireLittleEndian();
    this.fd = openSync(file, 'r');
    try {
      const size = fstatSync(this.fd).size;
      const head = Buffer.alloc(12);
      if (size < 12 || readSync(this.fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 8) !== MAGIC) throw new RowIndexFormatError(oid, 'not a row index');
      const len = head.readUInt32LE(8);
      if (12 + len > size) throw new RowIndexFormatError(oid, 'truncated');
      const json = Buffer.alloc(len);
      readSync(this.fd, json, 0, len, 12);
      let header: StoredHeader;
      try {
        header = JSON.parse(json.toString('utf8'));
      } catch {
        throw new RowIndexFormatError(oid, 'its header is not JSON');
      }
      let pos = 12 + len;
      const take = (words: number): number => {
        const start = pos;
        pos += words * 4;
        return start;
      };
      const out = header.output;
      this.at = {
        fps: take(out.rows * 2),
        originInput: take(out.rows),
        originRow: take(out.rows),
        ...(out.lines === 'listed' ? { outputLines: take(out.rows) } : {}),
        inputs: header.inputs.map((i) => ({ fates: take(i.rows), ...(i.lines === 'listed' ? { lines: take(i.rows) } : {}) })),
      };
      if (pos > size) throw new RowIndexFormatError(oid, 'truncated');
      this.fingerprint = header.fingerprint;
      this.output = { path: out.path, oid: out.oid, rows: out.rows, lineBase: out.lineBase, ...sideFiles(out, oid) };
      this.inputs = header.inputs.map((i) => ({ path: i.path, oid: i.oid, rows: i.rows, lineBase: i.lineBase, ...sideFiles(i, oid) }));
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private u32(pos: number): number {
    readSync(this.fd, this.word, 0, 4, pos);
    return this.word.readUInt32LE(0);
  }

  private array(pos: number, n: number): Buffer {
    const b = Buffer.alloc(n * 4);
    readSync(this.fd, b, 0, b.length, pos);
    return b;
  }

  originInput(row: number): number {
    return this.u32(this.at.originInput + row * 4);
  }

  originRow(row: number): number {
    return this.u32(this.at.originRow + row * 4);
  }

  outputLine(row: number): number {
    return this.at.outputLines === undefined ? lineOf(this.output, row) : this.u32(this.at.outputLines + row * 4);
  }

  inputLine(input: number, row: number): number {
    const lines = this.at.inputs[input].lines;
    return lines === undefined ? lineOf(this.inputs[input], row) : this.u32(lines + row * 4);
  }

  fate(input: number, row: number): number {
    return this.u32(this.at.inputs[input].fates + row * 4) | 0;
  }

  fates(input: number): Int32Array {
    const b = this.array(this.at.inputs[input].fates, this.inputs[input].rows);
    return new Int32Array(b.buffer, b.byteOffset, this.inputs[input].rows);
  }

  findFingerprint(lo: number, hi: number): number | undefined {
    const b = this.array(this.at.fps, this.output.rows * 2);
    return firstWith(new Uint32Array(b.buffer, b.byteOffset, this.output.rows * 2), lo, hi);
  }
}

interface StoredSide {
  path: string;
  oid: Oid;
  rows: number;
  lineBase: number;
  lines: string;
  files?: FileSpan[];
}

interface StoredHeader {
  fingerprint: string;
  output: StoredSide;
  inputs: StoredSide[];
}
