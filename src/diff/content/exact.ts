/**
 * Exact arithmetic on numbers written as decimal text — Parquet DECIMAL(38,2), int64 beyond 2^53, long
 * CSV numbers, JSON integers JSON.parse would round — for the few statistics where a double's 53 bits
 * would make a reviewer doubt the figure: min, max and the mean's sum.
 *
 * Rounding to a double is monotonic (a ≤ b ⇒ fl(a) ≤ fl(b)), so two values whose doubles differ are
 * ordered by their doubles; only values whose doubles tie need the text. That keeps the exact path off
 * the per-cell hot loop.
 */

/** `-12.50`, `007`, `3.`: a sign, digits, optionally a point and digits. No exponent. */
const PLAIN_DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)$/;

export interface ExactDecimal {
  /** The value × 10^scale. */
  unscaled: bigint;
  scale: number;
}

/** The exact value of plain decimal text; undefined for anything else (exponents, words). */
export function parseDecimal(text: string): ExactDecimal | undefined {
  if (!PLAIN_DECIMAL.test(text)) return undefined;
  const point = text.indexOf('.');
  const digits = point < 0 ? text : text.slice(0, point) + text.slice(point + 1);
  const scale = point < 0 ? 0 : text.length - point - 1;
  return { unscaled: BigInt(digits === '-' || digits === '+' || digits === '' ? '0' : digits), scale };
}

const POW10 = new Map<number, bigint>();

export function pow10(k: number): bigint {
  let p = POW10.get(k);
  if (p === undefined) POW10.set(k, (p = 10n ** BigInt(k)));
  return p;
}

/** Order of two plain decimal texts by exact value (text that is not a plain decimal: by its double). */
export function compareDecimalText(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (x !== y) return x < y ? -1 : 1;
  const da = parseDecimal(a);
  const db = parseDecimal(b);
  if (!da || !db) return 0;
  const scale = Math.max(da.scale, db.scale);
  const ua = da.unscaled * pow10(scale - da.scale);
  const ub = db.unscaled * pow10(scale - db.scale);
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * A bound as output: a number when the double reads back as the same decimal (`12.50` → 12.5), else the
 * exact text (`9007199254740993`, `12345678901234567890123456789012.00`), so no digit is made up.
 */
export function exactBound(text: string): number | string {
  const x = Number(text);
  const d = parseDecimal(text);
  if (!d || !Number.isFinite(x)) return x;
  const back = parseDecimal(String(x));
  if (back) {
    const scale = Math.max(d.scale, back.scale);
    if (d.unscaled * pow10(scale - d.scale) === back.unscaled * pow10(scale - back.scale)) return x;
  }
  return text.startsWith('+') ? text.slice(1) : text;
}

/** a < b for statistics bounds: numbers and numeric text by exact value, other text as text. */
export function lessBound(a: unknown, b: unknown): boolean {
  const numA = typeof a === 'number' || (typeof a === 'string' && PLAIN_DECIMAL.test(a));
  const numB = typeof b === 'number' || (typeof b === 'string' && PLAIN_DECIMAL.test(b));
  if (numA && numB && (typeof a === 'string' || typeof b === 'string')) return compareDecimalText(String(a), String(b)) < 0;
  return typeof a === typeof b ? (a as number) < (b as number) : String(a) < String(b);
}

/**
 * num / den correctly rounded to a double: a quotient of at least 66 bits, its lowest bit set when the
 * division left a remainder (a sticky bit), rounds in Number() exactly as the infinite quotient would;
 * dividing by a power of two is then exact.
 */
export function ratioToNumber(num: bigint, den: bigint): number {
  if (den < 0n) return ratioToNumber(-num, -den);
  if (num === 0n) return 0;
  const negative = num < 0n;
  const abs = negative ? -num : num;
  const shift = Math.max(0, 66 - (abs.toString(2).length - den.toString(2).length));
  const scaled = abs << BigInt(shift);
  let q = scaled / den;
  if (scaled % den !== 0n) q |= 1n;
  let x = Number(q);
  for (let s = shift; s > 0; s -= 1000) x /= 2 ** Math.min(s, 1000);
  return negative ? -x : x;
}

/** An exact running sum of decimals, in the finest scale met so far. */
export class ExactSum {
  sum = 0n;
  scale = 0;
  count = 0;

  add(d: ExactDecimal): void {
    if (d.scale > this.scale) {
      this.sum *= pow10(d.scale - this.scale);
      this.scale = d.scale;
    }
    this.sum += d.scale === this.scale ? d.unscaled : d.unscaled * pow10(this.scale - d.scale);
    this.count++;
  }

  /** (this sum + `extra`, an integer-valued double sum) / n, correctly rounded. */
  mean(extra: bigint, n: number): number {
    return ratioToNumber(this.sum + extra * pow10(this.scale), BigInt(n) * pow10(this.scale));
  }
}

/** JSON integer tokens longer than this may not survive JSON.parse (2^53 has 16 digits). */
const LONG_INTEGER = /\d{16}/;
/** The marker a protected integer carries inside its JSON string: not a character JSON text holds raw. */
export const BIG_INTEGER_MARK = '\u0001';

/**
 * JSON text with every integer token beyond 2^53 turned into a string holding BIG_INTEGER_MARK and its
 * digits, so that JSON.parse keeps them exactly; null when the text has none (the common case, decided by
 * one regular-expression test). Strings in the text are skipped, escapes included.
 */
export function protectBigIntegers(text: string): string | null {
  if (!LONG_INTEGER.test(text)) return null;
  let out = '';
  let last = 0;
  let changed = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) continue;
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) j++;
      else break;
    }
    const token = text.slice(i, j);
    if (/^-?\d{16,}$/.test(token) && !Number.isSafeInteger(Number(token))) {
      out += text.slice(last, i) + `"\\u0001${token}"`;
      last = j;
      changed = true;
    }
    i = j - 1;
  }
  return changed ? out + text.slice(last) : null;
}
