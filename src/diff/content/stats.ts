/**
 * Streaming statistics of one column: one pass, constant memory per column (bounded sketches), and no
 * second look at a value. Mean and standard deviation use Welford's update, which stays accurate where
 * the textbook sum-of-squares formula cancels catastrophically on large, close values.
 */
import { hex64 } from './hash.js';
import { HyperLogLog, TopCounter } from './sketches.js';
import type { ColumnStats, ColumnType } from './types.js';

/** How many most frequent values a summary shows. */
export const TOP_N = 10;

/**
 * Classify CSV text as a number: 0 = not a number, 1 = integer, 2 = other decimal number. Written as a
 * loop because it runs on every cell and must reject `0x1F`, `1_000`, ` 12` and `Infinity`, all of which
 * `Number()` accepts.
 */
export function numberKind(s: string): 0 | 1 | 2 {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45 || c === 43) c = s.charCodeAt(++i); // sign
  let digits = 0;
  while (c >= 48 && c <= 57) {
    digits++;
    c = s.charCodeAt(++i);
  }
  let integer = true;
  if (c === 46) {
    integer = false;
    c = s.charCodeAt(++i);
    while (c >= 48 && c <= 57) {
      digits++;
      c = s.charCodeAt(++i);
    }
  }
  if (digits === 0) return 0;
  if (c === 101 || c === 69) {
    integer = false;
    c = s.charCodeAt(++i);
    if (c === 45 || c === 43) c = s.charCodeAt(++i);
    let exp = 0;
    while (c >= 48 && c <= 57) {
      exp++;
      c = s.charCodeAt(++i);
    }
    if (exp === 0) return 0;
  }
  if (i !== n) return 0;
  return integer ? 1 : 2;
}

function isBooleanText(s: string): boolean {
  const n = s.length;
  if (n !== 4 && n !== 5) return false;
  const l = s.toLowerCase();
  return l === 'true' || l === 'false';
}

export class ColumnAccumulator {
  nulls = 0;
  count = 0;
  nBool = 0;
  nInt = 0;
  nNum = 0;
  nStr = 0;
  private n = 0; // numeric values in Welford's update
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private strLen = 0;
  private readonly top = new TopCounter();
  private readonly hll = new HyperLogLog();
  // Order-independent multiset fingerprint: the wrapping sum of value hashes.
  private fp1 = 0;
  private fp2 = 0;

  constructor(readonly name: string) {}

  private addNumber(x: number): void {
    if (!Number.isFinite(x)) return;
    const n = ++this.n;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  private addCommon(key: string, h1: number, h2: number): void {
    this.count++;
    this.top.add(key);
    this.hll.add(h1, h2);
    this.fp1 = (this.fp1 + h1) | 0;
    this.fp2 = (this.fp2 + h2) | 0;
  }

  /** A non-empty CSV/TSV cell: its type is inferred from the text. */
  addText(s: string, h1: number, h2: number): void {
    const c = s.charCodeAt(0);
    let kind: 0 | 1 | 2 = 0;
    if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) kind = numberKind(s);
    if (kind === 1) {
      this.nInt++;
      this.addNumber(+s);
    } else if (kind === 2) {
      this.nNum++;
      this.addNumber(+s);
    } else if ((c === 116 || c === 84 || c === 102 || c === 70) && isBooleanText(s)) {
      this.nBool++;
    } else {
      this.nStr++;
      this.strLen += s.length;
    }
    this.addCommon(s, h1, h2);
  }

  /** A non-null typed value (JSONL, Parquet), with its canonical text `key`. */
  addValue(v: string | number | boolean, key: string, h1: number, h2: number): void {
    if (typeof v === 'number') {
      if (Number.isInteger(v)) this.nInt++;
      else this.nNum++;
      this.addNumber(v);
    } else if (typeof v === 'boolean') {
      this.nBool++;
    } else {
      this.nStr++;
      this.strLen += v.length;
    }
    this.addCommon(key, h1, h2);
  }

  /**
   * One type for the column. A CSV column with any non-numeric text is a string column (CSV cells are all
   * text, and that is what pandas or a spreadsheet would say); a JSONL column holding, say, numbers and
   * strings is `mixed`, because the file itself says the values have different types.
   */
  type(textual: boolean): ColumnType {
    if (this.count === 0) return 'null';
    const { nBool, nInt, nNum, nStr } = this;
    if (nBool === 0 && nStr === 0) return nNum === 0 ? 'integer' : 'number';
    if (nInt === 0 && nNum === 0 && nStr === 0) return 'boolean';
    if (nBool === 0 && nInt === 0 && nNum === 0) return 'string';
    return textual ? 'string' : 'mixed';
  }

  finish(textual: boolean, declared?: ColumnType): ColumnStats {
    const type = declared ?? this.type(textual);
    const numeric = this.n > 0 && (type === 'integer' || type === 'number' || type === 'mixed');
    return {
      name: this.name,
      type,
      source: 'data',
      count: this.count,
      nulls: this.nulls,
      kinds: { boolean: this.nBool, integer: this.nInt, number: this.nNum, string: this.nStr },
      min: numeric ? this.min : null,
      max: numeric ? this.max : null,
      mean: numeric ? this.mean : null,
      stddev: numeric ? Math.sqrt(this.m2 / this.n) : null,
      distinct: this.top.exact ? this.top.size : this.hll.estimate(),
      distinctExact: this.top.exact,
      meanLength: this.nStr > 0 ? this.strLen / this.nStr : null,
      top: this.top.top(TOP_N),
      topExact: this.top.exact,
      fingerprint: this.count > 0 ? hex64(this.fp1, this.fp2) : null,
    };
  }
}
