/**
 * CSV/TSV reader: RFC 4180 (quoted fields with embedded delimiters, newlines and doubled quotes), a UTF-8
 * BOM, CRLF or LF, ragged rows, and delimiter detection among `,` `;` TAB `|`.
 *
 * Speed matters (a 1 GB file must go through at well over 50 MB/s), so the common line — no quote in it —
 * takes a fast path: find the newline with indexOf and split on the delimiter, both native. Only records
 * containing a quote go through the character-level parser. Cells are handed on as raw text; type
 * inference happens in the statistics.
 */
import { ContentParseError, MAX_RECORD_CHARS, textPieces, where, type Columns, type ReadContext } from './reader.js';

const CANDIDATES = [',', '\t', ';', '|'] as const;
const NO_QUOTE = Number.MAX_SAFE_INTEGER;

/**
 * Pick the delimiter that splits the first records most consistently: the one whose count per record is
 * the same as in the header for the most records, then the one with more columns. Quoted text is skipped,
 * so commas inside quoted prose do not vote. Ties go to `preferred` (TAB for .tsv, comma otherwise).
 */
export function detectDelimiter(sample: string, preferred: string): string {
  const perRecord: number[][] = [];
  let counts = [0, 0, 0, 0];
  let inQuote = false;
  for (let i = 0; i < sample.length && perRecord.length < 20; i++) {
    const c = sample[i];
    if (c === '"') inQuote = !inQuote;
    else if (inQuote) continue;
    else if (c === '\n') {
      perRecord.push(counts);
      counts = [0, 0, 0, 0];
    } else {
      const k = CANDIDATES.indexOf(c as (typeof CANDIDATES)[number]);
      if (k >= 0) counts[k]!++;
    }
  }
  if (counts.some((x) => x > 0)) perRecord.push(counts);
  if (perRecord.length === 0) return preferred;
  let best = preferred;
  let bestScore = [-1, -1, -1];
  CANDIDATES.forEach((cand, k) => {
    const header = perRecord[0]![k]!;
    if (header === 0) return;
    const consistent = perRecord.filter((r) => r[k] === header).length;
    const score = [consistent, header, cand === preferred ? 1 : 0];
    if (score[0]! > bestScore[0]! || (score[0] === bestScore[0] && (score[1]! > bestScore[1]! || (score[1] === bestScore[1] && score[2]! > bestScore[2]!)))) {
      best = cand;
      bestScore = score;
    }
  });
  return best;
}

/**
 * Parse one record that contains a quote, from `pos`. Fields go to `out`. Returns the position after the
 * record, or when the record may continue past the end of the text we have, -2 if it stopped inside a
 * quoted field and -1 otherwise.
 */
function parseRecord(t: string, pos: number, d: number, final: boolean, out: string[]): number {
  out.length = 0;
  const n = t.length;
  let i = pos;
  for (;;) {
    let value = '';
    if (i < n && t.charCodeAt(i) === 34) {
      let j = i + 1;
      for (;;) {
        const q = t.indexOf('"', j);
        if (q < 0) {
          if (!final) return -2;
          throw new ContentParseError('unterminated quoted field (a " with no closing quote)');
        }
        if (q + 1 >= n && !final) return -1; // cannot tell yet whether a doubled quote follows
        if (t.charCodeAt(q + 1) === 34) {
          value += t.slice(j, q + 1);
          j = q + 2;
          continue;
        }
        value += t.slice(j, q);
        i = q + 1;
        break;
      }
    }
    // Unquoted text, or (leniently, as spreadsheets do) stray text after a closing quote.
    let k = i;
    while (k < n) {
      const c = t.charCodeAt(k);
      if (c === d || c === 10 || c === 13) break;
      k++;
    }
    if (k >= n && !final) return -1;
    out.push(k > i ? value + t.slice(i, k) : value);
    i = k;
    if (i >= n) return n;
    const c = t.charCodeAt(i);
    if (c === d) {
      i++;
      continue;
    }
    if (c === 13) {
      if (i + 1 >= n) return final ? n : -1;
      return t.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
    }
    return i + 1;
  }
}

function groupDigits(n: number): string {
  return n.toLocaleString('en-US');
}

/** Unique, non-empty column names: `column_3` for a blank header cell, `name_2` for a repeated one. */
function headerNames(fields: readonly string[]): string[] {
  const seen = new Set<string>();
  return fields.map((f, i) => {
    let name = f.trim() === '' ? `column_${i + 1}` : f;
    for (let k = 2; seen.has(name); k++) name = `${f}_${k}`;
    seen.add(name);
    return name;
  });
}

/** How much text the delimiter is chosen from; reading waits for that much before it parses anything. */
const SAMPLE_CHARS = 65536;

/**
 * Read a CSV/TSV source and hand its rows to `ctx.sink`. Two states: gathering a sample until the
 * delimiter can be chosen, then parsing chunk by chunk.
 */
export async function readCsv(ctx: ReadContext, preferred: ',' | '\t'): Promise<void> {
  let sample = '';
  // The sample's ASCII bytes while it is a single piece (the usual case: a piece is as long as a sample).
  let sampleBytes: Uint8Array | undefined;
  let parser: CsvParser | undefined;
  for await (const { text, ascii } of textPieces(ctx)) {
    if (parser !== undefined) {
      if (!parser.push(text, ascii)) return;
      continue;
    }
    sampleBytes = sample === '' ? ascii : undefined;
    sample += text;
    if (sample.length < SAMPLE_CHARS) continue;
    parser = new CsvParser(ctx, sample, preferred);
    if (!parser.parseSample(sampleBytes)) return;
  }
  (parser ?? new CsvParser(ctx, sample, preferred)).finish();
}

/** The text as its records begin: without a BOM, and refused when it is binary. */
function startOfText(text: string): string {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const head = t.slice(0, 8192);
  if (head.includes('\u0000')) throw new ContentParseError('not tabular: binary data (NUL bytes), not delimited text');
  // Random bytes have a control character in every ninth byte or so; text has next to none.
  const controls = head.match(/[\u0001-\u0008\u000e-\u001f\u007f]/g)?.length ?? 0;
  if (controls > Math.max(2, head.length / 100)) {
    throw new ContentParseError(`not tabular: binary data (${controls} control characters in the first ${head.length} characters), not delimited text`);
  }
  return t;
}

/** Where `text` has a line ending at or after `from`: just past the newline, or the end of the text. */
function lineAfter(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl + 1;
}

/** Splits text into records, chunk by chunk, carrying the record that straddles a chunk boundary. */
class CsvParser {
  private readonly rows: CsvRows;
  private readonly d: number;
  /** Text not parsed yet: the start of a record that the next chunk completes. */
  private carry: string;
  /** The carried text ends inside a quoted field: the record needs at least one more quote. */
  private inOpenQuote = false;
  private readonly fields: string[] = [];

  constructor(ctx: ReadContext, sample: string, preferred: string) {
    this.carry = startOfText(sample);
    const delim = detectDelimiter(this.carry.slice(0, SAMPLE_CHARS), preferred);
    this.d = delim.charCodeAt(0);
    this.rows = new CsvRows(ctx, delim);
  }

  /** Parse the sample the delimiter was chosen from (`ascii`: its bytes, if ASCII); false when the sink said stop. */
  parseSample(ascii: Uint8Array | undefined): boolean {
    // startOfText drops a BOM, which is not ASCII anyway: when the bytes are there, the text starts with them.
    const pos = this.parse(this.carry, false, 0, ascii !== undefined && ascii.length === this.carry.length ? ascii : undefined);
    this.carry = this.carry.slice(pos);
    return !this.rows.stopped;
  }

  /**
   * Parse the next chunk; false when the sink said stop. Never parse `carry + text` as a whole: V8 runs
   * indexOf on a concatenated string through a slow path, which costs more than the parsing itself. Only
   * the record that straddles the chunk boundary is concatenated; the rest of the chunk is parsed as it
   * came from the decoder.
   */
  push(text: string, ascii: Uint8Array | undefined): boolean {
    const offset = this.carry.length > 0 ? this.completeCarried(text) : 0;
    if (this.rows.stopped) return false;
    if (offset >= text.length) return true;
    const pos = this.parse(text, false, offset, ascii);
    if (this.rows.stopped) return false;
    this.keep(text.slice(pos));
    return true;
  }

  /** The end of the text: parse what is left as complete, then check the header and report ragged rows. */
  finish(): void {
    if (this.carry.length > 0) this.parse(this.carry, true);
    this.rows.finish();
  }

  /** Finish the carried record with the start of `text`; returns where in `text` parsing goes on. */
  private completeCarried(text: string): number {
    let take = this.firstTake(text);
    if (take < 0) {
      this.keep(this.carry + text);
      return text.length;
    }
    for (;;) {
      const joined = this.carry + text.slice(0, take);
      const pos = this.parse(joined, false);
      if (this.rows.stopped) return text.length;
      if (pos >= this.carry.length) {
        const offset = pos - this.carry.length;
        this.carry = '';
        return offset;
      }
      if (take >= text.length) {
        this.keep(joined.slice(pos)); // still inside a record (quoted newlines): wait for more text
        return text.length;
      }
      // The records before `pos` were handed on (a bare CR ends a record inside the carried text): drop
      // them from the carry, or the next, longer join would hand them on again.
      this.carry = this.carry.slice(pos);
      take = lineAfter(text, take);
    }
  }

  /**
   * How much of `text` to join to the carried record first: up to the first newline, or inside a quoted
   * field up to the first newline after the next quote; -1 when `text` has no quote to end the field.
   * Without the quote rule, a stray quote would make every chunk re-parse the whole (growing) record:
   * quadratic.
   */
  private firstTake(text: string): number {
    const from = this.inOpenQuote ? text.indexOf('"') : 0;
    return from < 0 ? -1 : lineAfter(text, from);
  }

  /** Carry `rest` to the next chunk, unless no record could be that long. */
  private keep(rest: string): void {
    this.carry = rest;
    if (rest.length > MAX_RECORD_CHARS) {
      throw new ContentParseError(`record after data row ${this.rows.rowNumber} is longer than ${MAX_RECORD_CHARS / 1048576} MB (an unterminated quote?)`);
    }
  }

  /**
   * Hand on the records of `t` from `start`; returns where the text left unparsed begins. A line with no
   * quote takes the fast path; a record with a quote goes through parseRecord. Unless `final`, a record
   * that may go on past the end of `t` is left for later. `ascii`: the bytes of `t`, when it is ASCII.
   */
  private parse(t: string, final: boolean, start = 0, ascii?: Uint8Array): number {
    const n = t.length;
    let pos = start;
    this.inOpenQuote = false;
    let nextQuote = -1;
    while (pos < n && !this.rows.stopped) {
      if (nextQuote < pos) {
        nextQuote = t.indexOf('"', pos);
        if (nextQuote < 0) nextQuote = NO_QUOTE;
      }
      let nl = t.indexOf('\n', pos);
      if (nl < 0) {
        if (!final) break;
        nl = n;
      }
      if (nextQuote > nl) {
        const end = nl > pos && t.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end > pos) this.rows.line(t, pos, end, ascii);
        pos = nl + 1;
        continue;
      }
      const next = parseRecord(t, pos, this.d, final, this.fields);
      if (next < 0) {
        this.inOpenQuote = next === -2;
        break;
      }
      if (!(this.fields.length === 1 && this.fields[0] === '')) this.rows.record(this.fields);
      pos = next;
    }
    return pos;
  }
}

/** The header of one file: where each field of a record goes, and how many rows did not fit it. */
class Header {
  /** File position -> column index; grows when a ragged row has more fields than the header. */
  readonly positions: number[];
  /** Field p goes to column p: records need no mapping. */
  identity: boolean;
  /** Fields in the header itself. */
  readonly length: number;
  short = 0;
  long = 0;

  constructor(
    fields: readonly string[],
    private readonly columns: Columns,
  ) {
    this.positions = headerNames(fields).map((name) => columns.indexOf(name));
    this.identity = this.positions.every((idx, p) => idx === p);
    this.length = this.positions.length;
  }

  /** Give every position below `upTo` a column: the extra cells of a ragged row get `column_N`. */
  extend(upTo: number): void {
    for (let p = this.positions.length; p < upTo; p++) {
      const idx = this.columns.indexOf(`column_${p + 1}`);
      this.positions.push(idx);
      if (idx !== p) this.identity = false;
    }
  }

  /** Count a row of `fields` fields against the header; grow the header for extra fields. */
  count(fields: number): void {
    if (fields < this.length) this.short++;
    else if (fields > this.length) {
      this.long++;
      if (fields > this.positions.length) this.extend(fields);
    }
  }
}

/** Receives records: the first is the header, the others go to the sink as rows in column order. */
class CsvRows {
  rowNumber = 0;
  /** The sink said stop. */
  stopped = false;
  private header: Header | undefined;
  private mapped: string[] = [];
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);

  constructor(
    private readonly ctx: ReadContext,
    private readonly delim: string,
  ) {}

  /** A record as strings: the header, or a record that needed the quote-aware parser. */
  record(fields: string[]): void {
    if (this.header === undefined) {
      this.header = new Header(fields, this.ctx.columns);
      return;
    }
    this.rowNumber++;
    this.header.count(fields.length);
    const values = this.header.identity ? fields : this.mapFields(this.header, fields);
    if (!this.ctx.sink.values(values, this.rowNumber)) this.stopped = true;
  }

  /** A record without quotes, t[pos, end): hand over where each cell is instead of substrings. */
  line(t: string, pos: number, end: number, ascii: Uint8Array | undefined): void {
    const header = this.header;
    if (header === undefined) return this.record(t.slice(pos, end).split(this.delim));
    this.rowNumber++;
    this.ensure(this.ctx.columns.length);
    const wasIdentity = header.identity;
    if (!wasIdentity) {
      this.starts.fill(0);
      this.ends.fill(0);
    }
    const cells = this.placeSpans(header, t, pos, end);
    header.count(cells);
    this.clearOtherSpans(header, cells, wasIdentity);
    if (!this.ctx.sink.spans(t, this.starts, this.ends, this.rowNumber, ascii)) this.stopped = true;
  }

  /** Tell of an empty file, or of ragged rows. */
  finish(): void {
    const { notes } = this.ctx;
    if (this.header === undefined) {
      notes.push(`${where(this.ctx)}: empty file (no header row): 0 rows`);
      return;
    }
    const { short, long } = this.header;
    if (short === 0 && long === 0) return;
    // Only now: the first toLocaleString of a thread costs some 20 ms (ICU's start).
    const of = `${groupDigits(this.rowNumber)} rows`;
    if (short > 0) notes.push(`${where(this.ctx)}: ${groupDigits(short)} of ${of} have fewer fields than the header's ${this.header.length} (missing cells count as null)`);
    if (long > 0) notes.push(`${where(this.ctx)}: ${groupDigits(long)} of ${of} have more fields than the header's ${this.header.length} (extra cells go to column_N)`);
  }

  /** The fields of a record in column order; columns it has no field for are empty. */
  private mapFields(header: Header, fields: readonly string[]): string[] {
    if (this.mapped.length !== this.ctx.columns.length) this.mapped = new Array<string>(this.ctx.columns.length);
    this.mapped.fill('');
    for (let p = 0; p < fields.length; p++) this.mapped[header.positions[p]!] = fields[p]!;
    return this.mapped;
  }

  /** Set the span of each cell of t[pos, end) in its column; returns how many cells there are. */
  private placeSpans(header: Header, t: string, pos: number, end: number): number {
    for (let f = 0, p = pos; ; f++) {
      let c = t.indexOf(this.delim, p);
      if (c < 0 || c > end) c = end;
      if (f >= header.positions.length) {
        header.extend(f + 1); // a ragged row: the extra cell gets a column of its own
        this.ensure(this.ctx.columns.length);
      }
      const col = header.positions[f]!;
      this.starts[col] = p;
      this.ends[col] = c;
      if (c === end) return f + 1;
      p = c + 1;
    }
  }

  /** Empty the spans of the columns a row of `cells` cells did not set. */
  private clearOtherSpans(header: Header, cells: number, wasIdentity: boolean): void {
    const n = this.ctx.columns.length;
    if (header.identity) for (let k = cells; k < n; k++) this.ends[k] = this.starts[k] = 0;
    else if (wasIdentity) {
      // This (ragged) row just made the mapping non-identity: clear every cell it did not set.
      const set = new Set(header.positions.slice(0, cells));
      for (let k = 0; k < n; k++) if (!set.has(k)) this.ends[k] = this.starts[k] = 0;
    }
  }

  /** Room in the span arrays for `n` columns. */
  private ensure(n: number): void {
    if (n <= this.starts.length) return;
    const size = Math.max(n, this.starts.length * 2);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }
}
