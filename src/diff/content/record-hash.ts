/**
 * The record hash: a digest of the records of CSV/TSV/JSONL/Parquet data that does not depend on the
 * container — one file or fifty partitions, CSV or Parquet, column order, quoting. Specified byte for
 * byte in docs/record-hash.md (with test vectors and a Python reference implementation); change both
 * together, and bump RECORD_HASH_VERSION when a digest would change.
 *
 * Each record is canonicalised (values typed by what they look like, since CSV has no types; nulls and
 * empty cells dropped; columns sorted by name), serialised with length prefixes and hashed with SHA-256.
 * The multiset digest adds the record digests as 256-bit integers (mod 2^256): order-free, counts
 * duplicates (XOR would cancel a row present twice), constant memory, and composable — the part of each
 * file is a pair (rows, sum) that can be cached per object and added to the others'. The sequence digest
 * (`ordered`) hashes the record digests in order, files in path order.
 */
import * as crypto from 'node:crypto';
import { detectFormat } from './format.js';
import { Columns, ContentParseError, type ReadContext, type RowSink } from './reader.js';
import type { Cell, ContentSource, TabularFormat } from './types.js';

export const RECORD_HASH_VERSION = 1;

/** The contribution of one file to a multiset digest: rows and the sum of their digests, 64 hex digits. */
export interface RecordSum {
  rows: number;
  sum: string;
}

export interface RecordDigest {
  /** 64 hex digits. */
  digest: string;
  rows: number;
  ordered: boolean;
}

export interface RecordHashOptions {
  /** Called with bytes read (compressed bytes for gzip), as reading goes on. */
  onBytes?(n: number): void;
}

// ---------------------------------------------------------------------------------------------------
// Canonical values

/** Type tags of canonical values (one byte in the serialisation). */
const TAG_BOOLEAN = 0x62; // b
const TAG_NUMBER = 0x6e; // n
const TAG_STRING = 0x73; // s
const TAG_DATE = 0x64; // d
const TAG_TIMESTAMP = 0x74; // t

/** The canonical value of the last `canonicalise` call (module variables: one call per cell, no allocation). */
let TAG = 0;
let TEXT = '';

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const PLAIN_INTEGER = /^[1-9]\d*$/;
const NUMBER_SHAPE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_FLOAT = /^([+-]?)(nan|inf|infinity)$/i;
const BOOLEAN = /^(?:true|false)$/i;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * A number's text as sign, significant digits and exponent: `-15e-1` for -1.50, `1e2` for 100, `0` for any
 * zero. Equal values give equal text whatever the notation (`1`, `1.0`, `+1`, `1e0`, `001`).
 */
export function canonicalNumber(text: string): string {
  if (PLAIN_INTEGER.test(text)) {
    // The common case, a positive integer without leading zeros: only trailing zeros move to the exponent.
    let end = text.length;
    while (text.charCodeAt(end - 1) === 48) end--;
    return `${text.slice(0, end)}e${text.length - end}`;
  }
  const m = NUMBER.exec(text);
  if (!m) throw new Error(`not a number: ${text}`);
  const frac = m[3] ?? '';
  let digits = (m[2] ?? '') + frac;
  let exp = Number(m[4] ?? 0) - frac.length;
  let lead = 0;
  while (lead < digits.length && digits.charCodeAt(lead) === 48) lead++;
  digits = digits.slice(lead);
  if (digits.length === 0) return '0';
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end--;
  exp += digits.length - end;
  return `${m[1] === '-' ? '-' : ''}${digits.slice(0, end)}e${exp}`;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Set TAG/TEXT for a date or timestamp string; false when it is not a valid one. */
function dateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > (mo === 2 && !leap ? 28 : DAYS_IN_MONTH[mo - 1]!)) return false;
  if (m[4] === undefined) {
    TAG = TAG_DATE;
    TEXT = `${m[1]}-${m[2]}-${m[3]}`;
    return true;
  }
  const [h, mi, sec] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (h > 23 || mi > 59 || sec > 59) return false;
  const frac = (m[7] ?? '').replace(/0+$/, '');
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * (zone[0] === '-' ? -1 : 1);
  }
  // Naive timestamps count as UTC: a Parquet timestamp without a zone is read that way too.
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi - offset, sec, 0);
  const date = `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}`;
  if (t.getUTCHours() === 0 && t.getUTCMinutes() === 0 && t.getUTCSeconds() === 0 && frac === '') {
    // A Parquet DATE is decoded as midnight UTC: a midnight timestamp and its date must hash alike.
    TAG = TAG_DATE;
    TEXT = date;
  } else {
    TAG = TAG_TIMESTAMP;
    TEXT = `${date}T${pad(t.getUTCHours(), 2)}:${pad(t.getUTCMinutes(), 2)}:${pad(t.getUTCSeconds(), 2)}${frac ? '.' + frac : ''}Z`;
  }
  return true;
}

/**
 * Canonicalise text (a CSV cell, or a string from any format): false for null (the empty string). Text
 * is typed by its shape, the same for every format, because CSV cannot say "this 1 is a string".
 */
function canonicaliseText(s: string): boolean {
  if (s.length === 0) return false;
  const c = s.charCodeAt(0);
  // Only text starting with a digit, sign, point, t/f/n/i can be anything but a string.
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
    if (NUMBER_SHAPE.test(s)) {
      TAG = TAG_NUMBER;
      TEXT = canonicalNumber(s);
      return true;
    }
    if (s.length >= 10 && dateTime(s)) return true;
  }
  if (s.length <= 9) {
    if (BOOLEAN.test(s)) {
      TAG = TAG_BOOLEAN;
      TEXT = s.toLowerCase();
      return true;
    }
    const special = SPECIAL_FLOAT.exec(s);
    if (special) return specialFloat(special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity);
  }
  TAG = TAG_STRING;
  TEXT = s;
  return true;
}

function specialFloat(v: number): true {
  TAG = TAG_NUMBER;
  TEXT = Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return true;
}

/** Canonicalise a typed cell (JSONL, Parquet): false for null. */
function canonicaliseCell(v: Cell | string | undefined): boolean {
  switch (typeof v) {
    case 'string':
      return canonicaliseText(v);
    case 'number':
      if (!Number.isFinite(v)) return specialFloat(v);
      TAG = TAG_NUMBER;
      // String() gives the shortest text that reads back as the same double, as Python's repr does.
      TEXT = canonicalNumber(String(v));
      return true;
    case 'boolean':
      TAG = TAG_BOOLEAN;
      TEXT = v ? 'true' : 'false';
      return true;
    default:
      return false;
  }
}

/**
 * A 32-bit float (decoded into a double) as the shortest text that reads back to the same float32, as
 * numpy prints it and a CSV writer writes it: 0.1f is 0.1, not its double expansion 0.10000000149011612.
 */
function canonicaliseFloat32(v: number): void {
  if (!Number.isFinite(v)) {
    specialFloat(v);
    return;
  }
  let text = String(v);
  for (let p = 1; p <= 9; p++) {
    const t = v.toPrecision(p);
    if (Math.fround(Number(t)) === v) {
      text = t;
      break;
    }
  }
  TAG = TAG_NUMBER;
  TEXT = canonicalNumber(text);
}

/** The canonical form of a value, `[tag, text]`, or null for a null cell (docs, tests). */
export function canonicalValue(v: Cell | undefined, textual = false): [string, string] | null {
  const ok = textual && typeof v === 'string' ? canonicaliseText(v) : canonicaliseCell(v);
  return ok ? [String.fromCharCode(TAG), TEXT] : null;
}

// ---------------------------------------------------------------------------------------------------
// Record serialisation and the two combinations

/** A column's name, UTF-8, with its 4-byte big-endian length in front: written once per file, not per row. */
interface NameBytes {
  index: number;
  bytes: Buffer;
}

const hashOnce: (data: Buffer) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(a: string, d: Buffer, e: 'buffer'): Buffer }).hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

const TWO_32 = 2 ** 32;

/** Rows → record digests → the running multiset sum and/or sequence hash. */
export class RecordAccumulator implements RowSink {
  rows = 0;
  /** Eight 32-bit limbs, least significant first, carried lazily: each lane stays below 2^53. */
  private readonly lanes = new Float64Array(8);
  private sinceCarry = 0;
  private readonly sequence: crypto.Hash | undefined;
  private pending = Buffer.alloc(32 * 2048);
  private pendingBytes = 0;
  private buf = Buffer.alloc(64 * 1024);
  /** Columns sorted by name (UTF-8 bytes), rebuilt when a file registers a new column. */
  private order: NameBytes[] = [];
  private columns: Columns | undefined;
  /** The current file is CSV/TSV: every cell is text to be typed. */
  textual = false;
  /** Column indices of Parquet FLOAT (32-bit) columns in the current file. */
  private float32 = new Set<number>();

  constructor(readonly ordered: boolean) {
    this.sequence = ordered ? crypto.createHash('sha256') : undefined;
  }

  /** Start a file: its rows arrive with cells in the order of `columns`. */
  begin(columns: Columns, textual: boolean, float32: Set<number> = new Set()): void {
    this.columns = columns;
    this.textual = textual;
    this.float32 = float32;
    this.order = [];
  }

  private sortedColumns(): NameBytes[] {
    const names = this.columns!.names;
    if (this.order.length !== names.length) {
      this.order = names
        .map((name, index) => {
          const utf8 = Buffer.from(name, 'utf8');
          const bytes = Buffer.alloc(4 + utf8.length);
          bytes.writeUInt32BE(utf8.length, 0);
          utf8.copy(bytes, 4);
          return { index, bytes, utf8 };
        })
        .sort((a, b) => Buffer.compare(a.utf8, b.utf8))
        .map(({ index, bytes }) => ({ index, bytes }));
    }
    return this.order;
  }

  /** Append the current TAG/TEXT under a column's name to the record being serialised. */
  private put(off: number, name: Buffer): number {
    const need = off + name.length + 5 + TEXT.length * 3;
    if (need > this.buf.length) {
      const bigger = Buffer.alloc(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, off);
      this.buf = bigger;
    }
    const buf = this.buf;
    name.copy(buf, off);
    off += name.length;
    buf[off] = TAG;
    const text = TEXT;
    const n = text.length;
    let written = n;
    // Short ASCII text is copied here: cheaper than a call into the native UTF-8 encoder per cell.
    if (n <= 32) {
      for (let i = 0; i < n; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) {
          written = -1;
          break;
        }
        buf[off + 5 + i] = c;
      }
    } else written = -1;
    if (written < 0) written = buf.write(text, off + 5, 'utf8');
    buf.writeUInt32BE(written, off + 1);
    return off + 5 + written;
  }

  values(values: readonly (Cell | string)[]): boolean {
    let off = 0;
    const textual = this.textual;
    for (const col of this.sortedColumns()) {
      const v = values[col.index];
      if (v === null || v === undefined) continue;
      if (typeof v === 'number' && this.float32.has(col.index)) canonicaliseFloat32(v);
      else if (!(textual && typeof v === 'string' ? canonicaliseText(v) : canonicaliseCell(v))) continue;
      off = this.put(off, col.bytes);
    }
    this.add(hashOnce(this.buf.subarray(0, off)));
    return true;
  }

  spans(text: string, start: Int32Array, end: Int32Array): boolean {
    let off = 0;
    for (const col of this.sortedColumns()) {
      const s = start[col.index]!;
      const e = end[col.index]!;
      if (e <= s || !canonicaliseText(text.slice(s, e))) continue;
      off = this.put(off, col.bytes);
    }
    this.add(hashOnce(this.buf.subarray(0, off)));
    return true;
  }

  /** Add one record digest. */
  add(d: Buffer): void {
    this.rows++;
    if (this.sequence) {
      d.copy(this.pending, this.pendingBytes);
      this.pendingBytes += 32;
      if (this.pendingBytes === this.pending.length) this.flushSequence();
      return;
    }
    const lanes = this.lanes;
    for (let k = 0; k < 8; k++) lanes[k]! += d.readUInt32BE(28 - 4 * k);
    if (++this.sinceCarry === 1 << 20) this.carry();
  }

  /** Add another file's multiset part. */
  addSum(part: RecordSum): void {
    const d = Buffer.from(part.sum, 'hex');
    for (let k = 0; k < 8; k++) this.lanes[k]! += d.readUInt32BE(28 - 4 * k);
    this.rows += part.rows;
    this.carry();
  }

  private carry(): void {
    let c = 0;
    for (let k = 0; k < 8; k++) {
      const s = this.lanes[k]! + c;
      this.lanes[k] = s % TWO_32;
      c = Math.floor(s / TWO_32);
    }
    this.sinceCarry = 0;
  }

  private flushSequence(): void {
    this.sequence!.update(this.pending.subarray(0, this.pendingBytes));
    this.pendingBytes = 0;
  }

  /** The multiset part so far: rows and the sum mod 2^256, big-endian hex. */
  sum(): RecordSum {
    this.carry();
    const out = Buffer.alloc(32);
    for (let k = 0; k < 8; k++) out.writeUInt32BE(this.lanes[k]!, 28 - 4 * k);
    return { rows: this.rows, sum: out.toString('hex') };
  }

  /** The final digest (the accumulator may not be used afterwards in ordered mode). */
  digest(): RecordDigest {
    const count = Buffer.alloc(8);
    count.writeBigUInt64BE(BigInt(this.rows));
    let body: Buffer;
    if (this.sequence) {
      this.flushSequence();
      body = this.sequence.digest();
    } else {
      body = Buffer.from(this.sum().sum, 'hex');
    }
    const label = Buffer.from(this.ordered ? 'dvs-records/1/sequence\n' : 'dvs-records/1/multiset\n', 'utf8');
    const digest = crypto.createHash('sha256').update(label).update(count).update(body).digest('hex');
    return { digest, rows: this.rows, ordered: this.ordered };
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** The format of a source: the caller's word, else the extension. */
export function formatOf(source: ContentSource): TabularFormat | undefined {
  return source.format ?? detectFormat(source.path);
}

/**
 * Feed the records of one file to `acc`. Throws ContentParseError (or a system error) when the file
 * cannot be read; a record hash over part of a file would be a wrong answer, not an approximate one.
 */
export async function addRecords(acc: RecordAccumulator, source: ContentSource, options: RecordHashOptions = {}): Promise<void> {
  const format = formatOf(source);
  if (!format) throw new ContentParseError(`${source.path}: not CSV, TSV, JSON Lines or Parquet (by its extension)`);
  const columns = new Columns();
  acc.begin(columns, format === 'csv' || format === 'tsv');
  const ctx: ReadContext = { source, columns, sink: acc, notes: [], onBytes: options.onBytes };
  if (format === 'parquet') {
    const { openParquet, readParquetRows } = await import('./parquet.js');
    const pf = await openParquet(source);
    const float32 = new Set<number>();
    const { parquetSchema } = await import('hyparquet');
    const root = parquetSchema(pf.metadata);
    for (const c of pf.columns) {
      const index = columns.indexOf(c.name);
      let node: typeof root | undefined = root;
      for (const part of c.path) node = node?.children.find((ch) => ch.element.name === part);
      const e = node?.element;
      if (e && !c.json && e.type === 'FLOAT' && !e.converted_type && e.logical_type === undefined) float32.add(index);
    }
    acc.begin(columns, false, float32);
    await readParquetRows(ctx, pf);
    options.onBytes?.(source.size);
  } else if (format === 'jsonl') {
    const { readJsonl } = await import('./jsonl.js');
    await readJsonl(ctx);
  } else {
    const { readCsv } = await import('./csv.js');
    await readCsv(ctx, format === 'tsv' ? '\t' : ',');
  }
}

/** The multiset part of one file (cacheable per object). */
export async function recordSumOf(source: ContentSource, options: RecordHashOptions = {}): Promise<RecordSum> {
  const acc = new RecordAccumulator(false);
  await addRecords(acc, source, options);
  return acc.sum();
}

/** The multiset digest of parts (files) already summed. */
export function combineRecordSums(parts: readonly RecordSum[]): RecordDigest {
  const acc = new RecordAccumulator(false);
  for (const p of parts) acc.addSum(p);
  return acc.digest();
}

/** The sequence digest of files read in the order given (callers sort them by path). */
export async function orderedRecordDigest(sources: readonly ContentSource[], options: RecordHashOptions = {}): Promise<RecordDigest> {
  const acc = new RecordAccumulator(true);
  for (const s of sources) await addRecords(acc, s, options);
  return acc.digest();
}

/** The digest of sources, in either mode (no caching). */
export async function recordDigest(sources: readonly ContentSource[], ordered: boolean, options: RecordHashOptions = {}): Promise<RecordDigest> {
  if (ordered) return orderedRecordDigest(sources, options);
  const parts: RecordSum[] = [];
  for (const s of sources) parts.push(await recordSumOf(s, options));
  return combineRecordSums(parts);
}
