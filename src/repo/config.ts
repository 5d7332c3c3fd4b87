import { existsSync, readFileSync } from 'node:fs';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { DvsError, errnoCode } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Configuration: `.dvs/config` (committed) overlaid by `.dvs/config.local` (ignored by Git; secrets and
 * machine-specific paths go there). Both are YAML maps of sections (`cache: {type: …}`); keys are
 * addressed as `section.key`, remotes as `remote.<name>.<option>`. Only known keys are accepted.
 */

export type LinkType = 'reflink' | 'hardlink' | 'symlink' | 'copy';
export const LINK_TYPES: readonly LinkType[] = ['reflink', 'hardlink', 'symlink', 'copy'];

type ValueKind = 'boolean' | 'string' | 'path' | 'linktypes' | 'integer';

interface KeySpec {
  kind: ValueKind;
  default?: unknown;
  describe: string;
  /** Secrets may only be written to config.local. */
  secret?: boolean;
}

export const CONFIG_KEYS: Record<string, KeySpec> = {
  'core.autostage': { kind: 'boolean', default: true, describe: 'stage pointers and .gitignore with git add after track/remove' },
  'core.remote': { kind: 'string', describe: 'name of the default remote' },
  'cache.dir': { kind: 'path', describe: 'cache location (relative paths are relative to the repository root)' },
  'cache.type': { kind: 'linktypes', default: ['reflink', 'copy'], describe: 'ordered link types for checkout: reflink, hardlink, symlink, copy' },
  'hooks.autofetch': { kind: 'boolean', default: false, describe: 'hooks fetch missing objects from the default remote' },
  'hooks.require_push': { kind: 'boolean', default: false, describe: 'the pre-push hook stops git push when the data of the pushed commits cannot be sent to a dvs remote' },
  'diff.content': { kind: 'boolean', default: false, describe: 'dvs diff compares the contents of tabular files by default' },
  'audit.enabled': { kind: 'boolean', default: true, describe: 'append an event to the committed audit trail (.dvs/audit/) for every operation that changes data' },
  'transfer.jobs': { kind: 'integer', describe: 'parallel transfers (default: per backend)' },
  'transfer.retries': { kind: 'integer', default: 4, describe: 'retries of a failed transfer before giving up' },
  'transfer.timeout': { kind: 'integer', default: 30, describe: 'seconds before a stalled request to a remote is abandoned' },
};

/** Options a remote may carry (`remote.<name>.<option>`). */
export const REMOTE_OPTIONS: Record<string, KeySpec> = {
  url: { kind: 'string', describe: 'where the objects live: a path, file://, s3://bucket/prefix or gs://bucket/prefix' },
  endpoint: { kind: 'string', describe: 'custom S3 or GCS endpoint URL' },
  region: { kind: 'string', describe: 'S3 region' },
  profile: { kind: 'string', describe: 'AWS profile name' },
  path_style: { kind: 'boolean', describe: 'S3 path-style addressing (needed by most non-AWS servers)' },
  checksum: { kind: 'string', describe: 'S3 checksums: when_supported (AWS) or when_required (other servers)' },
  credentials_file: { kind: 'path', describe: 'AWS shared credentials file or GCS service-account key file' },
  access_key_id: { kind: 'string', secret: true, describe: 'S3 access key id (config.local only)' },
  secret_access_key: { kind: 'string', secret: true, describe: 'S3 secret access key (config.local only)' },
  session_token: { kind: 'string', secret: true, describe: 'S3 session token (config.local only)' },
  project: { kind: 'string', describe: 'GCS project id' },
  jobs: { kind: 'integer', describe: 'parallel transfers for this remote' },
};

export function keySpec(key: string): KeySpec | undefined {
  if (key in CONFIG_KEYS) return CONFIG_KEYS[key];
  const m = /^remote\.([A-Za-z0-9_.-]+)\.([a-z_]+)$/.exec(key);
  if (m && !m[1].includes('.')) return REMOTE_OPTIONS[m[2]];
  return undefined;
}

export function unknownKeyError(key: string): DvsError {
  const known = Object.keys(CONFIG_KEYS);
  const section = key.split('.')[0];
  const near = known.filter((k) => k.startsWith(section + '.'));
  return new DvsError('usage', 'UNKNOWN_CONFIG_KEY', `Unknown config key "${key}"`, {
    hint: `Known keys: ${(near.length ? near : known).join(', ')}${section === 'remote' ? `, remote.<name>.{${Object.keys(REMOTE_OPTIONS).join(',')}}` : ''}.`,
    data: { key },
  });
}

/** Check and normalise a value given as text on the command line. */
export function coerceValue(key: string, raw: string): unknown {
  const spec = keySpec(key);
  if (!spec) throw unknownKeyError(key);
  const invalid = (why: string) =>
    new DvsError('usage', 'INVALID_CONFIG_VALUE', `Invalid value "${raw}" for ${key}: ${why}`, { data: { key, value: raw } });
  switch (spec.kind) {
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(raw)) return true;
      if (/^(false|no|off|0)$/i.test(raw)) return false;
      throw invalid('expected true or false');
    case 'integer': {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw invalid('expected a non-negative integer');
      return n;
    }
    case 'linktypes': {
      const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((t) => !LINK_TYPES.includes(t as LinkType));
      if (list.length === 0 || bad.length) throw invalid(`expected a comma-separated list of ${LINK_TYPES.join(', ')}`);
      return list;
    }
    default:
      if (raw === '') throw invalid('empty');
      return raw;
  }
}

export interface ConfigFile {
  path: string;
  doc: Document;
}

export function loadConfigFile(path: string): ConfigFile {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new DvsError('input', 'CONFIG_INVALID', `${path}${line ? `:${line}` : ''}: ${e.message.split('\n')[0]}`, {
      hint: 'Fix the YAML by hand, or restore the file from Git.',
      data: { path, line },
    });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new DvsError('input', 'CONFIG_INVALID', `${path}: the top level must be a map of sections`, { data: { path } });
  }
  return { path, doc };
}

function flatten(doc: Document, where: string, out: Map<string, unknown>): void {
  const value = doc.toJS() as Record<string, unknown> | null;
  if (!value) return;
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, key);
      else {
        if (!keySpec(key)) {
          const err = unknownKeyError(key);
          throw new DvsError('input', 'UNKNOWN_CONFIG_KEY', `${where}: ${err.message}`, { hint: err.hint, data: err.data });
        }
        out.set(key, v);
      }
    }
  };
  walk(value, '');
}

/** The merged view of both files. */
export class Config {
  private readonly values = new Map<string, unknown>();

  constructor(readonly shared: ConfigFile, readonly local: ConfigFile) {
    flatten(shared.doc, shared.path, this.values);
    flatten(local.doc, local.path, this.values);
  }

  static load(configPath: string, localPath: string): Config {
    return new Config(loadConfigFile(configPath), loadConfigFile(localPath));
  }

  get<T = unknown>(key: string): T | undefined {
    if (this.values.has(key)) return this.values.get(key) as T;
    return keySpec(key)?.default as T | undefined;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  bool(key: string): boolean {
    return this.get(key) === true;
  }

  linkTypes(): LinkType[] {
    const v = this.get<unknown>('cache.type');
    const list = Array.isArray(v) ? v : String(v).split(',');
    return list.map((s) => String(s).trim()) as LinkType[];
  }

  /** Every key explicitly set, with where it came from. */
  entries(): Array<{ key: string; value: unknown }> {
    return [...this.values.entries()].map(([key, value]) => ({ key, value }));
  }

  /** Names of remotes defined in either file. */
  remoteNames(): string[] {
    const names = new Set<string>();
    for (const key of this.values.keys()) {
      const m = /^remote\.([^.]+)\.url$/.exec(key);
      if (m) names.add(m[1]);
    }
    return [...names].sort();
  }
}

/** Set (or, with value undefined, unset) a key in one config file, keeping its comments. */
export function writeConfigValue(file: ConfigFile, key: string, value: unknown): void {
  const spec = keySpec(key);
  if (!spec) throw unknownKeyError(key);
  const parts = key.split('.');
  if (value === undefined) {
    file.doc.deleteIn(parts);
    // Drop sections left empty, so `remote remove` leaves no trace.
    for (let n = parts.length - 1; n >= 1; n--) {
      const node = file.doc.getIn(parts.slice(0, n));
      if (isMap(node) && node.items.length === 0) file.doc.deleteIn(parts.slice(0, n));
    }
  } else {
    if (file.doc.contents === null || (isScalar(file.doc.contents) && file.doc.contents.value === null)) {
      file.doc.contents = file.doc.createNode({}) as never;
    }
    file.doc.setIn(parts, value);
  }
  writeFileAtomic(file.path, file.doc.toString());
}

export function configExists(path: string): boolean {
  return existsSync(path);
}
