import { quote } from './safe-yaml.js';

/**
 * Typed reads of the members of a map parsed from a file the repository supplies (run records, lineage
 * records, audit events). A member that is absent or null takes its default; one of the wrong type is
 * refused through `fail`, naming where it is ("datasets[2].size must be …"), so no reader ever meets a
 * number where it expects a list.
 */
export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export type Scalar = string | number | boolean;

export class Fields {
  private constructor(
    readonly value: Obj,
    /** Where this map is, for messages: "" for the top level, "datasets[0]" below it. */
    readonly at: string,
    private readonly fail: (message: string) => Error,
  ) {}

  /** `value` as a map; absent or null is an empty map unless `required`. */
  static of(value: unknown, at: string, fail: (message: string) => Error, required = false): Fields {
    if (!required && (value === undefined || value === null)) return new Fields({}, at, fail);
    if (!isObj(value)) throw fail(`${at || 'the document'} must be a map, not ${quote(value)}`);
    return new Fields(value, at, fail);
  }

  private name(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }

  private wrong(key: string, want: string): Error {
    return this.fail(`${this.name(key)} must be ${want}, not ${quote(this.value[key])}`);
  }

  private get(key: string): unknown {
    const v = this.value[key];
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  str(key: string, fallback = ''): string {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') throw this.wrong(key, 'text');
    return v;
  }

  strOrNull(key: string): string | null {
    return this.has(key) ? this.str(key) : null;
  }

  /** A string that must be there. */
  required(key: string): string {
    if (!this.has(key)) throw this.fail(`${this.name(key)} is missing`);
    return this.str(key);
  }

  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (!values.includes(v as T)) throw this.wrong(key, values.map((x) => JSON.stringify(x)).join(' or '));
    return v as T;
  }

  bool(key: string, fallback = false): boolean {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw this.wrong(key, 'true or false');
    return v;
  }

  /** A finite number, or null when absent. */
  numOrNull(key: string): number | null {
    const v = this.get(key);
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.wrong(key, 'a number');
    return v;
  }

  /** A non-negative integer (a size, a count), or `fallback` when absent. */
  count(key: string, fallback = 0): number {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw this.wrong(key, 'a non-negative integer');
    return v as number;
  }

  countOrNull(key: string): number | null {
    return this.has(key) ? this.count(key) : null;
  }

  list(key: string): unknown[] {
    const v = this.get(key);
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw this.wrong(key, 'a list');
    return v;
  }

  /** A list that must be there. */
  requiredList(key: string): unknown[] {
    if (!this.has(key)) throw this.fail(`${this.name(key)} must be a list`);
    return this.list(key);
  }

  strings(key: string): string[] {
    const list = this.list(key);
    if (!list.every((s) => typeof s === 'string')) throw this.wrong(key, 'a list of text');
    return list as string[];
  }

  map(key: string): Fields {
    return Fields.of(this.get(key), this.name(key), this.fail);
  }

  /** Each item of a list, as a map. */
  maps(key: string, required = false): Fields[] {
    const list = required ? this.requiredList(key) : this.list(key);
    return list.map((item, i) => Fields.of(item, `${this.name(key)}[${i}]`, this.fail, true));
  }

  /** A map of text, numbers and booleans (parameters). */
  scalars(key: string): Record<string, Scalar> {
    const m = this.map(key).value;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
        throw this.fail(`${this.name(key)}.${k} must be text, a number or true/false, not ${quote(v)}`);
      }
    }
    return m as Record<string, Scalar>;
  }

  /** A map of numbers (metrics). */
  numbers(key: string): Record<string, number> {
    const m = this.map(key).value;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw this.fail(`${this.name(key)}.${k} must be a number, not ${quote(v)}`);
    }
    return m as Record<string, number>;
  }
}

/**
 * Where `value` holds a number JSON cannot write (Infinity, NaN: YAML's `.inf`, JSON's `1e400`), as
 * "a.b[2]"; undefined when it holds none. Records are hashed over their canonical JSON, which has no
 * form for those. Walks iteratively: the value may come straight from a file.
 */
export function nonFiniteAt(value: unknown, at = ''): string | undefined {
  const stack: Array<[unknown, string]> = [[value, at]];
  while (stack.length) {
    const [v, where] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return where || 'the document';
    if (Array.isArray(v)) v.forEach((item, i) => stack.push([item, `${where}[${i}]`]));
    else if (isObj(v)) for (const [k, item] of Object.entries(v)) stack.push([item, where ? `${where}.${k}` : k]);
  }
  return undefined;
}
