/**
 * Streaming statistics of one column: one pass, constant memory per column (bounded sketches), and no
 * second look at a value. The mean is a compensated (Neumaier) sum, so the same values in another order
 * give the same mean; the standard deviation uses Welford's update, which stays accurate where the
 * textbook sum-of-squares formula cancels catastrophically on large, close values.
 */
import { exactBound, ExactSum, compareDecimalText, lessBound, parseDecimal } from './exact.js';
import { fmix32, hex64 } from './hash.js';
import { HistogramSketch, HyperLogLog, TopCounter } from './sketches.js';
import type { ColumnStats, ColumnType, PartialColumn } from './types.js';

/** How many most frequent values a summary shows. */
export const TOP_N = 10;

/** Exact powers of ten: a double holds 10^0..10^22 exactly. */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** Kinds of CSV text. */
export const STRING = 0;
export const INTEGER = 1;
export const NUMBER = 2;
export const BOOLEAN = 3;

/** The numeric value of the last `classifySpan` that returned INTEGER or NUMBER. */
export let NUM = 0;

/**
 * Classify CSV text t[s, e) (non-empty) as INTEGER, NUMBER, BOOLEAN or STRING, computing the number as it
 * goes. A loop, not a regular expression or `Number()`, because it runs on every cell and must reject
 * `0x1F`, `1_000`, ` 12` and `Infinity`, which `Number()` accepts. The value is exact (Clinger's fast
 * path: a mantissa under 2^53 times an exact power of ten is correctly rounded); longer numbers go
 * through `Number()`.
 */
export function classifySpan(t: string, s: number, e: number): number {
  let i = s;
  let c = t.charCodeAt(i);
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46)) {
    return isBooleanSpan(t, s, e, c) ? BOOLEAN : STRING;
  }
  let negative = false;
  if (c === 45 || c === 43) {
    negative = c === 45;
    c = codeAt(t, ++i);
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  while (c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    digits++;
    c = codeAt(t, ++i);
  }
  let kind = INTEGER;
  if (c === 46) {
    kind = NUMBER;
    c = codeAt(t, ++i);
    while (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      scale--;
      c = codeAt(t, ++i);
    }
  }
  if (digits === 0) return STRING;
  if (c === 101 || c === 69) {
    kind = NUMBER;
    c = codeAt(t, ++i);
    let expNegative = false;
    if (c === 45 || c === 43) {
      expNegative = c === 45;
      c = codeAt(t, ++i);
    }
    let exp = 0;
    let expDigits = 0;
    while (c >= 48 && c <= 57) {
      exp = exp * 10 + (c - 48);
      expDigits++;
      c = codeAt(t, ++i);
    }
    if (expDigits === 0) return STRING;
    scale += expNegative ? -exp : exp;
  }
  if (i !== e) return STRING;
  if (digits <= 15 && scale >= -22 && scale <= 22) {
    const v = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
    NUM = negative ? -v : v;
  } else {
    NUM = Number(t.slice(s, e));
  }
  return kind;
}

/**
 * t.charCodeAt(i), but -1 past the end of t instead of NaN: the same for every comparison classifySpan
 * makes, and a typed cell's text (which ends where the string does) no longer reads past the end, which
 * made V8 deoptimise classifySpan and then call charCodeAt out of line for every character.
 */
function codeAt(t: string, i: number): number {
  return i < t.length ? t.charCodeAt(i) : -1;
}

/** true/false in any letter case, without making a lower-cased copy. */
function isBooleanSpan(t: string, s: number, e: number, c: number): boolean {
  const n = e - s;
  if (n === 4) return (c | 32) === 116 && (t.charCodeAt(s + 1) | 32) === 114 && (t.charCodeAt(s + 2) | 32) === 117 && (t.charCodeAt(s + 3) | 32) === 101;
  if (n === 5) {
    return (c | 32) === 102 && (t.charCodeAt(s + 1) | 32) === 97 && (t.charCodeAt(s + 2) | 32) === 108 && (t.charCodeAt(s + 3) | 32) === 115 && (t.charCodeAt(s + 4) | 32) === 101;
  }
  return false;
}

const F64 = new Float64Array(1);
const I32 = new Int32Array(F64.buffer);

export class ColumnAccumulator {
  nulls = 0;
  count = 0;
  nBool = 0;
  nInt = 0;
  nNum = 0;
  nStr = 0;
  private n = 0; // numeric values in Welford's update
  private wmean = 0; // Welford's running mean, for m2 only
  private m2 = 0;
  // The mean is a Neumaier-compensated sum over n: nearly independent of the row order, where Welford's
  // running mean differed in the 15th digit when the same values came in another order.
  private sum = 0;
  private comp = 0;
  private min = Infinity;
  private max = -Infinity;
  // The exact text of min/max when it came from numeric text a double cannot hold (exact.ts); null when
  // the double is the value.
  private minText: string | null = null;
  private maxText: string | null = null;
  // Numeric text summed exactly (decimals, big integers); null until the column has any.
  private exact: ExactSum | null = null;
  // Bounds of an ordered column that is not numeric (Parquet dates and timestamps as ISO text, times):
  // null unless addBound is called.
  private lowest: string | number | null = null;
  private highest: string | number | null = null;
  private strLen = 0;
  private readonly top = new TopCounter();
  private readonly hll = new HyperLogLog();
  private readonly histogram = new HistogramSketch();
  // Order-independent multiset fingerprint: the wrapping sum of value hashes.
  private fp1 = 0;
  private fp2 = 0;
  // The same with CSV numbers hashed by value: equal to the other version's while `fp` differs means
  // the same numbers written differently (`1` → `1.0`).
  private vfp1 = 0;
  private vfp2 = 0;

  constructor(readonly name: string) {}

  private addNumber(x: number): void {
    if (!Number.isFinite(x)) return;
    const n = ++this.n;
    const d = x - this.wmean;
    this.wmean += d / n;
    this.m2 += d * (x - this.wmean);
    const t = this.sum + x;
    this.comp += Math.abs(this.sum) >= Math.abs(x) ? this.sum - t + x : x - t + this.sum;
    this.sum = t;
    if (x < this.min) {
      this.min = x;
      this.minText = null;
    }
    if (x > this.max) {
      this.max = x;
      this.maxText = null;
    }
    this.histogram.add(x);
  }

  /**
   * A number written as text with more digits than a double holds (`x` is its double): min and max keep
   * the exact text, the mean's sum adds it exactly; the other statistics use the double.
   */
  private addExactNumber(text: string, x: number): void {
    const dec = parseDecimal(text);
    if (dec === undefined || !Number.isFinite(x)) return this.addNumber(x);
    const n = ++this.n;
    const d = x - this.wmean;
    this.wmean += d / n;
    this.m2 += d * (x - this.wmean);
    (this.exact ??= new ExactSum()).add(dec);
    // Doubles that tie are ordered by the text; a double-only bound stands in by its shortest text.
    if (x < this.min || (x === this.min && compareDecimalText(text, this.minText ?? String(this.min)) < 0)) {
      this.min = x;
      this.minText = text;
    }
    if (x > this.max || (x === this.max && compareDecimalText(text, this.maxText ?? String(this.max)) > 0)) {
      this.max = x;
      this.maxText = text;
    }
    this.histogram.add(x);
  }

  /** The mean: exact sum when the column had numeric text and its other numbers were integers. */
  private mean(): number {
    const doubles = this.sum + this.comp;
    if (this.exact === null || !Number.isInteger(this.sum) || !Number.isInteger(this.comp)) {
      return this.exact === null ? doubles / this.n : (doubles + this.exact.mean(0n, this.exact.count) * this.exact.count) / this.n;
    }
    return this.exact.mean(BigInt(this.sum) + BigInt(this.comp), this.n);
  }

  /** A non-empty CSV/TSV cell t[s, e) hashed to (h1, h2): its type is inferred from the text. */
  addText(t: string, s: number, e: number, h1: number, h2: number): void {
    const kind = classifySpan(t, s, e);
    if (kind === INTEGER || kind === NUMBER) {
      if (kind === INTEGER) this.nInt++;
      else this.nNum++;
      if (e - s > 15) this.addExactNumber(t.slice(s, e), NUM);
      else this.addNumber(NUM);
      // By value, unless the text holds more digits than a double: then neighbours would collide.
      if (e - s <= 15) {
        F64[0] = NUM === 0 ? 0 : NUM;
        this.vfp1 = (this.vfp1 + fmix32(I32[0]! ^ 0x2545f491)) | 0;
        this.vfp2 = (this.vfp2 + fmix32(I32[1]! ^ 0x6a09e667)) | 0;
        this.addCommon(t, s, e, h1, h2);
        return;
      }
    } else if (kind === BOOLEAN) {
      this.nBool++;
    } else {
      this.nStr++;
      this.strLen += e - s;
    }
    this.vfp1 = (this.vfp1 + h1) | 0;
    this.vfp2 = (this.vfp2 + h2) | 0;
    this.addCommon(t, s, e, h1, h2);
  }

  private addCommon(t: string, s: number, e: number, h1: number, h2: number): void {
    this.count++;
    this.top.add(t, s, e, h1, h2);
    this.hll.add(h1, h2);
    this.fp1 = (this.fp1 + h1) | 0;
    this.fp2 = (this.fp2 + h2) | 0;
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
    this.addCommon(key, 0, key.length, h1, h2);
  }

  /**
   * A value of an ordered column (Columns.bounded), besides addValue: min and max ordered as the footer
   * orders its bounds (footer.ts), so that both give the same figures.
   */
  addBound(v: string | number): void {
    if (this.lowest === null || lessBound(v, this.lowest)) this.lowest = v;
    if (this.highest === null || lessBound(this.highest, v)) this.highest = v;
  }

  /** Exact numeric text of a typed column (a Parquet decimal or big int64): a number for the statistics. */
  addNumericText(text: string, h1: number, h2: number): void {
    const x = Number(text);
    if (Number.isNaN(x)) {
      this.nStr++;
      this.strLen += text.length;
    } else {
      if (/^-?\d+$/.test(text)) this.nInt++;
      else this.nNum++;
      this.addExactNumber(text, x);
    }
    this.addCommon(text, 0, text.length, h1, h2);
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
      min: numeric ? (this.minText === null ? this.min : exactBound(this.minText)) : this.lowest,
      max: numeric ? (this.maxText === null ? this.max : exactBound(this.maxText)) : this.highest,
      mean: numeric ? this.mean() : null,
      stddev: numeric ? Math.sqrt(this.m2 / this.n) : null,
      distinct: this.top.exact ? this.top.size : this.hll.estimate(),
      distinctExact: this.top.exact,
      meanLength: this.nStr > 0 ? this.strLen / this.nStr : null,
      top: this.top.top(TOP_N),
      topExact: this.top.exact,
      fingerprint: this.count > 0 ? hex64(this.fp1, this.fp2) : null,
      valueFingerprint: this.count > 0 ? (textual ? hex64(this.vfp1, this.vfp2) : hex64(this.fp1, this.fp2)) : null,
      histogram: numeric ? this.histogram.finish() : null,
    };
  }

  /** The mergeable state of this column (dataset totals over partitions, the stats cache). */
  partial(textual: boolean, declared?: ColumnType): PartialColumn {
    const done = this.finish(textual, declared);
    const values = this.top.exact && this.top.size <= PARTIAL_VALUES ? this.top.top(this.top.size) : null;
    return {
      ...done,
      n: this.n,
      m2: this.m2,
      strLen: this.strLen,
      values,
      hll: values ? null : Buffer.from(this.hll.registers).toString('base64'),
      textual,
    };
  }
}

/** A column with at most this many distinct values keeps them all in its partial: totals stay exact. */
export const PARTIAL_VALUES = 1000;
