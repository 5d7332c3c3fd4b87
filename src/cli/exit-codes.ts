import { EXIT_STATUS_OF_KIND } from '../error-codes.js';
import type { ErrorKind } from '../errors.js';

/**
 * Exit codes, documented in the README. One table, so that scripts can rely on them.
 */
export const EXIT = {
  ok: 0,
  /** A check found something: status/diff --exit-code, verify found bad objects, audit verify failed; `config <key>` of a key not set. */
  differences: 1,
  ...EXIT_STATUS_OF_KIND,
  interrupted: 130,
} as const;

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT[kind];
}
