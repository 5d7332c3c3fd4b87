import { DvsError } from '../errors.js';

/** A parameter or metric value: numbers and booleans keep their type, everything else is text. */
export type ParamValue = string | number | boolean;

const KEY = /^[A-Za-z_][A-Za-z0-9_.\-/]*$/;

/**
 * Parse `k=v` arguments (`--param`, `--metric`). A value that reads back exactly as a JSON number or
 * boolean becomes one ("0.5" -> 0.5, "true" -> true); "007" and "1e3" stay text, so nothing the user
 * wrote is lost.
 */
export function parseAssignments(args: readonly string[] | undefined, flag: string, options: { numeric?: boolean } = {}): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const arg of args ?? []) {
    const eq = arg.indexOf('=');
    const key = eq < 0 ? arg : arg.slice(0, eq);
    if (eq < 0 || !KEY.test(key)) {
      throw new DvsError('INVALID_ASSIGNMENT', `${flag} ${arg}: expected key=value with a key of letters, digits, _ . - /`, {
        hint: `For example: ${flag} ${options.numeric ? 'accuracy=0.91' : 'min_quality=0.5'}`,
        data: { arg },
      });
    }
    if (key in out) {
      throw new DvsError('DUPLICATE_ASSIGNMENT', `${flag} ${key} is given twice`, { data: { key } });
    }
    const value = coerce(arg.slice(eq + 1));
    if (options.numeric && typeof value !== 'number') {
      throw new DvsError('INVALID_METRIC', `${flag} ${arg}: a metric must be a number`, { hint: `For example: ${flag} ${key}=0.91`, data: { arg } });
    }
    out[key] = value;
  }
  return out;
}

export function coerce(raw: string): ParamValue {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(raw)) {
    const n = Number(raw);
    if (Number.isFinite(n) && String(n) === raw) return n;
  }
  return raw;
}

/** "k=v k2=v2" for human output. */
export function formatParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export interface ValueChange {
  key: string;
  before: unknown;
  after: unknown;
}

/** Keys whose values differ (including keys on one side only), in sorted key order. */
export function diffValues(before: Record<string, unknown>, after: Record<string, unknown>): ValueChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: ValueChange[] = [];
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ key, before: a ?? null, after: b ?? null });
  }
  return out;
}
