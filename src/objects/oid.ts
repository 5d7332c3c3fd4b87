import { DvsError } from '../errors.js';

/** The hash of an object: 64 lowercase hex digits of SHA-256. Pointers spell it `sha256:<hex>`. */
export type Oid = string;

export const HASH_ALGORITHM = 'sha256';
const HEX64 = /^[0-9a-f]{64}$/;

export function isOid(value: unknown): value is Oid {
  return typeof value === 'string' && HEX64.test(value);
}

/** Parse `sha256:<64 hex>` as written in pointers. `where` names the file and line for the message. */
export function parseOidField(value: unknown, where: string): Oid {
  if (typeof value !== 'string') {
    throw new DvsError('INVALID_OID', `${where}: oid must be a string "sha256:<64 hex digits>"`, {
      hint: 'Restore the pointer from Git (git checkout -- <file>) or re-track the data with `dvs track`.',
    });
  }
  const [algorithm, hex, extra] = value.split(':');
  if (extra !== undefined || hex === undefined) {
    throw new DvsError('INVALID_OID', `${where}: oid "${value}" is not of the form "sha256:<64 hex digits>"`, {
      hint: 'Restore the pointer from Git (git checkout -- <file>) or re-track the data with `dvs track`.',
    });
  }
  if (algorithm !== HASH_ALGORITHM) {
    throw new DvsError('UNSUPPORTED_HASH', `${where}: hash algorithm "${algorithm}" is not supported (only sha256)`, {
      hint: 'The pointer was written by another tool or a newer dvs.',
    });
  }
  if (!HEX64.test(hex)) {
    throw new DvsError('INVALID_OID', `${where}: "${hex}" is not 64 lowercase hex digits (got ${hex.length} characters)`, {
      hint: 'Restore the pointer from Git (git checkout -- <file>) or re-track the data with `dvs track`.',
    });
  }
  return hex;
}

export function formatOid(oid: Oid): string {
  return `${HASH_ALGORITHM}:${oid}`;
}

/** Short form for human output. */
export function shortOid(oid: Oid): string {
  return oid.slice(0, 10);
}
