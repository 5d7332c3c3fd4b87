import type { ErrorCode } from '../../errors.js';
import type { DvsError } from '../../errors.js';
import type { Oid } from '../../objects/oid.js';

/** One object that could not be moved, named by the data path it belongs to. Reported once, at the end. */
export interface TransferFailure {
  path: string;
  oid: Oid;
  code: ErrorCode;
  message: string;
  hint?: string;
}

export function failureOf(path: string, oid: Oid, error: Pick<DvsError, 'code' | 'message' | 'hint'>): TransferFailure {
  return { path, oid, code: error.code, message: path ? `${path}: ${error.message}` : error.message, hint: error.hint };
}

/** The remote a result is about, as shown to people. */
export interface RemoteRef {
  name: string;
  url: string;
}
