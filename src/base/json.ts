/** Sets become arrays, bigints strings: what `--json` prints, and what the library API returns, is plain JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value];
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A result exactly as `--json` prints it (no undefined fields, no class instances). */
export function toJsonValue<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value, jsonReplacer));
}
