/**
 * Fast non-cryptographic hashing of cell values for the row diff and the sketches.
 *
 * Every value is hashed to 64 bits as two 32-bit halves (two multiplicative lanes over the same UTF-16
 * code units, each finished with murmur3's fmix32). 64 bits keep the chance of any collision
 * among 10 M distinct rows below 1e-5; JavaScript has no fast 64-bit integer, hence two 32-bit halves.
 * The halves are returned through module variables instead of an object: this runs once per cell, and an
 * allocation per cell halves the throughput. For the same reason they are signed 32-bit integers: V8 holds
 * those as small integers, while an unsigned value of 2^31 or more is a heap-allocated number wherever it
 * is stored (a module variable, an object field, an argument of a call not inlined): half of all hashes,
 * two per cell, which was most of the garbage a scan made. Every consumer reads them with 32-bit
 * operations (`|`, `^`, `>>>`, `&`, Math.clz32, Int32Array) or prints them with hex64, which sees the
 * same bits either way.
 */

/** Low and high halves of the last `hashString` result. */
export let H1 = 0;
export let H2 = 0;

/** murmur3's finaliser: spreads every input bit over the whole word. Signed 32-bit (see above). */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Hash the code units t[start, end) into H1/H2: CSV cells are hashed in place, without a substring.
 * Two code units per step (one 32-bit word) in two independent lanes — an FNV-style multiply-rotate and
 * a multiply-xorshift — then murmur3's finaliser on each: twice as fast as one unit per step, and the
 * finaliser gives every output bit a dependence on every input bit.
 */
export function hashSpan(t: string, start: number, end: number): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  let i = start;
  for (; i + 1 < end; i += 2) {
    const w = t.charCodeAt(i) | (t.charCodeAt(i + 1) << 16);
    a = Math.imul(a ^ w, 0x01000193);
    a = (a << 13) | (a >>> 19);
    b = Math.imul(b + w, 0x5bd1e995);
    b ^= b >>> 15;
  }
  if (i < end) {
    const c = t.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b + c, 0x5bd1e995);
  }
  const n = end - start;
  H1 = fmix32(a ^ n);
  H2 = fmix32(b ^ Math.imul(n, 0x27d4eb2d));
}

/**
 * hashSpan over bytes: the same H1/H2 as hashSpan(t, start, end) whenever b[i] === t.charCodeAt(i) on the
 * span, which holds for text decoded from ASCII bytes. A CSV chunk that is all ASCII (most data) is
 * hashed from its bytes: a typed-array load costs less than charCodeAt, which must check what kind of
 * string it reads each time.
 */
export function hashBytes(b: Uint8Array, start: number, end: number): void {
  let a = 0x811c9dc5;
  let c = 0x9747b28c;
  let i = start;
  // Two steps per turn (the same steps as hashSpan's): fewer loop tests, a fifth faster on typical cells.
  for (; i + 3 < end; i += 4) {
    let w = b[i]! | (b[i + 1]! << 16);
    a = Math.imul(a ^ w, 0x01000193);
    a = (a << 13) | (a >>> 19);
    c = Math.imul(c + w, 0x5bd1e995);
    c ^= c >>> 15;
    w = b[i + 2]! | (b[i + 3]! << 16);
    a = Math.imul(a ^ w, 0x01000193);
    a = (a << 13) | (a >>> 19);
    c = Math.imul(c + w, 0x5bd1e995);
    c ^= c >>> 15;
  }
  if (i + 1 < end) {
    const w = b[i]! | (b[i + 1]! << 16);
    a = Math.imul(a ^ w, 0x01000193);
    a = (a << 13) | (a >>> 19);
    c = Math.imul(c + w, 0x5bd1e995);
    c ^= c >>> 15;
    i += 2;
  }
  if (i < end) {
    const u = b[i]!;
    a = Math.imul(a ^ u, 0x01000193);
    c = Math.imul(c + u, 0x5bd1e995);
  }
  const n = end - start;
  H1 = fmix32(a ^ n);
  H2 = fmix32(c ^ Math.imul(n, 0x27d4eb2d));
}

export function hashString(s: string): void {
  hashSpan(s, 0, s.length);
}

/**
 * The canonical text of a typed value, so that `5` in JSONL, `5n` from Parquet and `5` in CSV hash alike.
 * Objects (arrays, nested lists) become JSON; bigint is written in decimal inside JSON too.
 */
export function canonical(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      if (v instanceof Date) return v.toISOString();
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? '';
  }
}

/** 64-bit hash as 16 hex digits, for fingerprints in JSON output. */
export function hex64(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * V8 keeps substrings as views of their parent, so a short value kept in a map can pin a whole decoded
 * chunk in memory. Values we keep beyond the current row go through this to own their text.
 */
export function detach(s: string): string {
  // Below 13 code units V8 copies substrings anyway. Above, slicing a fresh concatenation makes V8 flatten
  // it into a new string of s.length + 1 units, which the result then views: a copy, five times faster
  // than a round trip through a Buffer.
  return s.length < 13 ? s : (' ' + s).slice(1);
}
