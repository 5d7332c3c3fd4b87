import type { Options, PositionalOptions } from 'yargs';

/**
 * Every value a flag was given, as a list (`--rev A --rev B`). A yargs `array` option would instead take
 * every word after the flag: `dvs push --rev HEAD~1 data/train` read `data/train` as a revision.
 */
export function allValues(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map(String);
}

/** The value of a flag given once; given again, the last one wins (as in Git and DVC). */
export function lastValue<T>(value: T | T[]): T {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/**
 * A flag that takes one value per occurrence and may be repeated: `--param a=1 --param b=2`, like
 * DVC's `--rev` (argparse's `append`). Its value is always a list.
 */
export function repeatable(describe: string, extra: Options = {}): Options {
  return { type: 'string', requiresArg: true, coerce: allValues, describe: `${describe} (repeatable)`, ...extra };
}

/** A flag that takes exactly one value. */
export function single(type: 'string' | 'number', describe: string, extra: Options = {}): Options {
  return { type, requiresArg: true, coerce: lastValue, describe, ...extra };
}

/**
 * A variadic argument (`<paths..>`, `[paths..]`). Without `default: undefined`, yargs prints
 * `[default: []]` in the help, even next to `[required]`; with it, an optional one left out parses as
 * `[undefined]`, which allValues drops.
 */
export function variadic(describe: string): PositionalOptions {
  return { type: 'string', array: true, default: undefined, coerce: allValues, describe };
}
