/**
 * Every failure a user can cause or fix is a DvsError: a stable code callers branch on, a message that
 * says what and where, and a hint that says what to do next. The CLI maps `kind` to an exit code in one
 * place (cli/exit-codes.ts); nothing below the CLI prints or exits.
 */

import { EXIT_STATUS_OF_KIND, kindOf, type ErrorCode, type ErrorKind } from './error-codes.js';

export type { ErrorCode, ErrorKind } from './error-codes.js';

export interface DvsErrorOptions {
  hint?: string;
  /** Machine-readable details for --json output. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class DvsError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly data?: Record<string, unknown>;

  /** The kind, and so the exit code, comes from the code's entry in the catalogue (error-codes.ts). */
  constructor(code: ErrorCode, message: string, options: DvsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DvsError';
    this.kind = kindOf(code);
    this.code = code;
    this.hint = options.hint;
    this.data = options.data;
  }

  /** The status the CLI exits with for this error (its kind's, docs/errors.md). */
  get exitCode(): number {
    return EXIT_STATUS_OF_KIND[this.kind];
  }
}

export function isDvsError(err: unknown): err is DvsError {
  return err instanceof DvsError;
}

/** Node's system errors carry `code` (ENOENT, EACCES, ...). */
export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/**
 * Turn an operating-system error into a DvsError that names the path and what to do. Errors that are
 * not about the environment (a bug, a DvsError already) pass through unchanged.
 */
export function fromSystemError(err: unknown, path: string, doing: string): unknown {
  if (isDvsError(err)) return err;
  switch (errnoCode(err)) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new DvsError('DISK_FULL', `No space left on the device while ${doing} ${path}`, {
        hint: 'Free some space (dvs gc removes unused cache objects) or move the cache with `dvs cache dir <path>`, then run the command again.',
        data: { path },
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
      return new DvsError('PERMISSION_DENIED', `Permission denied while ${doing} ${path}`, {
        hint: 'Check the owner and mode of the path (ls -l), or run dvs as a user that may read and write it.',
        data: { path },
        cause: err,
      });
    case 'ENOENT':
      return new DvsError('PATH_NOT_FOUND', `No such file or directory: ${path}`, {
        hint: 'Check the path; it is relative to the current directory.',
        data: { path },
        cause: err,
      });
    case 'ENAMETOOLONG':
      return new DvsError('NAME_TOO_LONG', `File name too long while ${doing} ${path}`, {
        hint: 'Rename it: file systems allow names of at most 255 bytes, and paths of at most 4,096.',
        data: { path },
        cause: err,
      });
    case 'EROFS':
      return new DvsError('READ_ONLY_FS', `Read-only file system while ${doing} ${path}`, {
        data: { path },
        cause: err,
      });
    case 'EISDIR':
    case 'ENOTDIR':
      // Usually a race: the path was a file when dvs listed it and is a folder now, or the reverse.
      return new DvsError('PATH_CHANGED', `${path} is not what dvs found a moment ago (a file where a folder is, or the reverse) while ${doing} it`, {
        hint: 'Something else is changing the data: run the command again once it is done.',
        data: { path },
        cause: err,
      });
    case 'ELOOP':
      return new DvsError('PATH_LINK_LOOP', `Too many levels of symbolic links while ${doing} ${path}`, {
        hint: 'A symbolic link points at itself or in a circle: fix or remove it.',
        data: { path },
        cause: err,
      });
    case 'EMFILE':
    case 'ENFILE':
      return new DvsError('TOO_MANY_OPEN_FILES', `Too many open files while ${doing} ${path}`, {
        hint: 'Raise the limit (ulimit -n 4096) or use fewer jobs (-j), then run the command again.',
        data: { path },
        cause: err,
      });
    case 'EIO':
      return new DvsError('IO_ERROR', `Input/output error while ${doing} ${path}`, {
        hint: 'The disk or network file system failed: check it (dmesg), then run the command again.',
        data: { path },
        cause: err,
      });
    default:
      return err;
  }
}
