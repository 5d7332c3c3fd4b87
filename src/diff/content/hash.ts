/**
 * Fast non-cryptographic hashing of cell values for the row diff and the sketches.
 *
 * Every value is hashed to 64 bits as two 32-bit halves (FNV-1a and a second multiplicative hash over the
 * same UTF-16 code units, each finished with murmur3's fmix32). 64 bits keep the chance of any collision
 * among 10 M distinct rows below 1e-5; JavaScript has no fast 64-bit integer, hence two 32-bit halves.
 * The halves are returned through module variables instead of an object: this runs once per cell, and an
 * allocation per cell halves the throughput.
 */

/** Low and high halves of the last `hashString` result. */
export let H1 = 0;
export let H2 = 0;

/** murmur3's finaliser: spreads every input bit over the whole word. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashString(s: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) + c;
  }
  H1 = fmix32(a ^ n);
  H2 = fmix32(b ^ Math.imul(n, 0x27d4eb2d));
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
 * chunk (a megabyte) in memory. Values we keep beyond the current row go through this to own their text.
 */
export function detach(s: string): string {
  // Below 13 code units V8 copies substrings anyway.
  return s.length < 13 ? s : Buffer.from(s, 'utf16le').toString('utf16le') // utf16le: lossless, even for lone surrogates;
}
