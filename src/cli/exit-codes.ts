import type { ErrorKind } from '../errors.js';

/**
 * Exit codes, documented in the README. One table, so that scripts can rely on them.
 */
export const EXIT = {
  ok: 0,
  /** A check found something: status/diff --exit-code, verify found bad objects, audit verify failed; `config <key>` of a key not set. */
  differences: 1,
  usage: 2,
  input: 3,
  notfound: 4,
  conflict: 5,
  environment: 6,
  remote: 7,
  partial: 8,
  internal: 70,
  interrupted: 130,
} as const;

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT[kind];
}
