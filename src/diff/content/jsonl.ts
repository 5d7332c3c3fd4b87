/**
 * JSON Lines / NDJSON reader. One object per line; blank lines are skipped.
 *
 * Nested objects are flattened into dotted column names (`{"meta":{"lang":"en"}}` → `meta.lang`), because
 * that is how a reviewer asks about them ("did meta.lang change?") and it keeps every column a scalar that
 * statistics make sense for. Arrays are not flattened (their length varies per row): they become their
 * JSON text, a string cell. A key holding null, or missing from a line, is a null cell.
 */
import { ContentParseError, MAX_RECORD_CHARS, textChunks, where, type Columns, type ReadContext } from './reader.js';
import { BIG_INTEGER_MARK, protectBigIntegers } from './exact.js';
import type { Cell } from './types.js';

/**
 * JSON.parse, except that integers beyond 2^53 keep every digit: they come back as strings marked with
 * BIG_INTEGER_MARK, which `flatten` turns into exact numeric text. Other numbers parse as usual.
 */
export function parseJson(text: string): unknown {
  return JSON.parse(protectBigIntegers(text) ?? text);
}

export function flatten(obj: Record<string, unknown>, prefix: string, columns: Columns, out: Cell[]): void {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    const name = prefix + key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      flatten(v as Record<string, unknown>, name + '.', columns, out);
      continue;
    }
    const i = columns.indexOf(name);
    if (v === null || v === undefined) out[i] = null;
    else if (typeof v === 'object') out[i] = JSON.stringify(v);
    else if (typeof v === 'string' && v.charCodeAt(0) === 1 && v.startsWith(BIG_INTEGER_MARK)) {
      // An integer beyond 2^53 kept as its digits (parseJson): exact text in a numeric column.
      out[i] = v.slice(1);
      columns.markNumericText(i);
    } else out[i] = v as Cell;
  }
}

export async function readJsonl(ctx: ReadContext): Promise<void> {
  const { columns, sink } = ctx;
  let carry = '';
  let lineNo = 0;
  let rowNumber = 0;
  let bad = 0;
  let firstBad = '';
  let values: Cell[] = [];
  let started = false;

  /** Returns false when the sink asked to stop. */
  const line = (raw: string): boolean => {
    lineNo++;
    const s = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (s.trim() === '') return true;
    let obj: unknown;
    try {
      obj = parseJson(s);
    } catch (err) {
      bad++;
      if (!firstBad) firstBad = `line ${lineNo}: ${(err as Error).message}`;
      return true;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      bad++;
      if (!firstBad) firstBad = `line ${lineNo}: not a JSON object`;
      return true;
    }
    if (values.length < columns.length) values = new Array<Cell>(columns.length);
    values.fill(null);
    flatten(obj as Record<string, unknown>, '', columns, values);
    return sink.values(values, ++rowNumber);
  };

  for await (const chunk of textChunks(ctx)) {
    let t = chunk;
    if (!started) {
      started = true;
      if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
      if (t.slice(0, 8192).includes('\u0000')) throw new ContentParseError('binary data (NUL bytes), not JSON Lines');
    }
    let pos = 0;
    if (carry) {
      // Only the line that straddles the chunk boundary is concatenated: indexOf on a concatenated
      // string takes a slow path in V8 (see csv.ts).
      const nl = t.indexOf('\n');
      if (nl < 0) {
        carry += t;
        if (carry.length > MAX_RECORD_CHARS) throw new ContentParseError(`line ${lineNo + 1} is longer than ${MAX_RECORD_CHARS / 1048576} MB`);
        continue;
      }
      const keepGoing = line(carry + t.slice(0, nl));
      carry = '';
      if (!keepGoing) return;
      pos = nl + 1;
    }
    for (let nl = t.indexOf('\n', pos); nl >= 0; nl = t.indexOf('\n', pos)) {
      const keepGoing = line(t.slice(pos, nl));
      pos = nl + 1;
      if (!keepGoing) return;
      // Fail fast on something that is clearly not JSON Lines, instead of reading all of it.
      if (rowNumber === 0 && bad >= 20) throw new ContentParseError(`not JSON Lines (${firstBad})`);
    }
    carry = t.slice(pos);
    if (carry.length > MAX_RECORD_CHARS) throw new ContentParseError(`line ${lineNo + 1} is longer than ${MAX_RECORD_CHARS / 1048576} MB`);
  }
  if (carry && !line(carry)) return;
  if (rowNumber === 0 && bad > 0) throw new ContentParseError(`not JSON Lines (${firstBad})`);
  if (bad > 0) ctx.notes.push(`${where(ctx)}: ${bad} line(s) skipped, not JSON objects (first at ${firstBad})`);
}
