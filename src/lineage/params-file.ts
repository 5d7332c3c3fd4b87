import { DvsError } from '../errors.js';
import { parseYamlSafely, quote, type TextSource } from '../base/safe-yaml.js';
import type { ParamValue } from './params.js';

/**
 * Parameters read from a committed params file (`--params params.yaml:filter`), as DVC's `params:`.
 * The section's scalars become parameters named by their full dotted path (`filter.min`), so they never
 * collide with `--param` names; the record lists the sections in `params_from`, and `dvs repro` reads
 * them again to see whether a value changed.
 */
export interface ParamsSpec {
  /** As given: `params.yaml:filter`. */
  spec: string;
  /** Repository-relative path of the file. */
  file: string;
  /** Dotted key of the section (or of one value). */
  key: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$/;

/**
 * Split `file:key`; the file is returned as given (the caller resolves it against the repository). A key
 * is required: the parameters it owns are then told apart from `--param` ones by their prefix.
 */
export function parseParamsSpec(spec: string): { file: string; key: string } {
  const colon = spec.lastIndexOf(':');
  const file = colon < 0 ? '' : spec.slice(0, colon);
  const key = colon < 0 ? '' : spec.slice(colon + 1);
  if (file === '' || !KEY.test(key)) {
    throw new DvsError('INVALID_PARAMS_SPEC', `--params ${spec}: expected <file>:<key> (a dotted key of letters, digits, _ and -)`, {
      hint: 'For example: --params params.yaml:filter',
      data: { spec },
    });
  }
  return { file, key };
}

function source(where: string): TextSource {
  return { where, code: 'PARAMS', what: 'a params file', hint: `Fix the YAML in ${where}.` };
}

/** The parameters a section holds: its scalars by dotted path (a list is kept as its JSON text). */
export function paramsFromText(text: string, p: ParamsSpec, where = p.file): Record<string, ParamValue> {
  const { doc } = parseYamlSafely(text, source(where));
  let value: unknown = doc.toJS();
  for (const part of p.key.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !(part in value)) {
      throw new DvsError('PARAMS_KEY_NOT_FOUND', `${where}: no key ${quote(p.key)}`, { hint: `Check the key after the colon in ${p.spec}.`, data: { file: p.file, key: p.key } });
    }
    value = (value as Record<string, unknown>)[part];
  }
  const out: Record<string, ParamValue> = {};
  flatten(value, p.key, out);
  return out;
}

function flatten(value: unknown, prefix: string, out: Record<string, ParamValue>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    return;
  }
  const name = prefix;
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) out[name] = value;
  else out[name] = JSON.stringify(value ?? null);
}

/** Whether a parameter name belongs to the section `key` (the key itself, or a dotted path under it). */
export function ownedBy(key: string, name: string): boolean {
  return name === key || name.startsWith(`${key}.`);
}
