import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Document } from 'yaml';
import { DvsError, errnoCode, fromSystemError } from '../errors.js';
import { writeFileAtomic } from '../base/atomic.js';
import { LINK_TYPES, type LinkType } from '../objects/link.js';
import { checkTextSize, parseYamlSafely, quote, readTextFile, refusal, type TextSource } from '../base/safe-yaml.js';
import { yaml } from '../base/yaml-lib.js';
import { parsePlainConfig } from './config-text.js';

/**
 * Configuration: `.dvs/config` (committed) overlaid by `.dvs/config.local` (ignored by Git; secrets and
 * machine-specific paths go there). Both are YAML maps of sections (`cache: {type: …}`); keys are
 * addressed as `section.key`, remotes as `remote.<name>.<option>`. Only known keys are accepted.
 */


type ValueKind = 'boolean' | 'string' | 'path' | 'linktypes' | 'integer';

interface KeySpec {
  kind: ValueKind;
  default?: unknown;
  describe: string;
  /** Secrets may only be written to config.local. */
  secret?: boolean;
  /** Only this machine's config (config.local, the user config) may set it: a clone must not choose it. */
  machine?: boolean;
}

export const CONFIG_KEYS: Record<string, KeySpec> = {
  'core.autostage': { kind: 'boolean', default: true, describe: 'stage pointers and .gitignore with git add after track/remove' },
  'core.remote': { kind: 'string', describe: 'name of the default remote' },
  'cache.dir': { kind: 'path', describe: 'cache location (relative paths are relative to the repository root)' },
  'cache.type': { kind: 'linktypes', default: ['reflink', 'copy'], describe: 'ordered link types for checkout: reflink, hardlink, symlink, copy' },
  'hooks.autofetch': { kind: 'boolean', default: false, describe: 'hooks fetch missing objects from the default remote' },
  'hooks.require_push': { kind: 'boolean', default: false, describe: 'the pre-push hook stops git push when the data of the pushed commits cannot be sent to a dvs remote' },
  'hooks.require_tracked': { kind: 'boolean', default: false, describe: 'the pre-commit hook (dvs install --pre-commit) stops git commit when tracked data differs from its staged pointer' },
  'diff.content': { kind: 'boolean', default: false, describe: 'dvs diff compares the contents of tabular files by default' },
  'audit.enabled': { kind: 'boolean', default: true, describe: 'append an event to the committed audit trail (.dvs/audit/) for every operation that changes data' },
  'audit.commit_transfers': { kind: 'boolean', default: false, describe: 'push and pull events go to the committed trail too (default: a local log in .dvs/tmp/, so transfers leave git status clean)' },
  'transfer.jobs': { kind: 'integer', describe: 'parallel transfers (default: per backend)' },
  'transfer.retries': { kind: 'integer', default: 4, describe: 'retries of a failed transfer before giving up' },
  'transfer.timeout': { kind: 'integer', default: 30, describe: 'seconds before a stalled request to a remote is abandoned' },
};

/** Options a remote may carry (`remote.<name>.<option>`). */
export const REMOTE_OPTIONS: Record<string, KeySpec> = {
  url: { kind: 'string', describe: 'where the objects live: a path, file://, s3://bucket/prefix, gs://bucket/prefix, azure://container/prefix, ssh://[user@]host[:port]/path or http(s)://host/path (read-only)' },
  endpoint: { kind: 'string', describe: 'custom S3 or GCS endpoint URL, or the Azure Blob service URL' },
  region: { kind: 'string', describe: 'S3 region' },
  profile: { kind: 'string', describe: 'AWS profile name' },
  path_style: { kind: 'boolean', describe: 'S3 path-style addressing (needed by most non-AWS servers)' },
  checksum: { kind: 'string', describe: 'S3 checksums: when_supported (AWS) or when_required (other servers)' },
  credentials_file: { kind: 'path', describe: 'AWS shared credentials file or GCS service-account key file' },
  access_key_id: { kind: 'string', secret: true, describe: 'S3 access key id (config.local only)' },
  secret_access_key: { kind: 'string', secret: true, describe: 'S3 secret access key (config.local only)' },
  session_token: { kind: 'string', secret: true, describe: 'S3 session token (config.local only)' },
  project: { kind: 'string', describe: 'GCS project id' },
  account_name: { kind: 'string', describe: 'Azure storage account name' },
  account_key: { kind: 'string', secret: true, describe: 'Azure storage account key (config.local only)' },
  connection_string: { kind: 'string', secret: true, describe: 'Azure storage connection string (config.local only)' },
  sas_token: { kind: 'string', secret: true, describe: 'Azure shared access signature (config.local only)' },
  jobs: { kind: 'integer', describe: 'parallel transfers for this remote' },
  user: { kind: 'string', describe: 'SSH user name (default: the one in the URL, else the local user); HTTP(S) basic-auth user name (config.local only)' },
  port: { kind: 'integer', describe: 'SSH port (default: the one in the URL, else 22)' },
  key_file: { kind: 'path', machine: true, describe: 'SSH private key file (config.local or the user config only)' },
  known_hosts: { kind: 'path', machine: true, describe: 'SSH known_hosts file (default ~/.ssh/known_hosts; config.local or the user config only)' },
  password: { kind: 'string', secret: true, describe: 'SSH or HTTP(S) basic-auth password (config.local only; for SSH a key or the agent is better)' },
  auth: { kind: 'string', describe: 'HTTP(S) authentication: basic, bearer or none (default: from the credentials set)' },
  token: { kind: 'string', secret: true, describe: 'HTTP(S) bearer token (config.local only)' },
  ca_file: { kind: 'path', describe: 'HTTP(S): PEM file of a private certificate authority to trust' },
  format: { kind: 'string', describe: 'how push stores small objects: packed (in packs with an index, few requests) or loose (one object per key); see docs/remote-format.md' },
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
  return new DvsError('UNKNOWN_CONFIG_KEY', `Unknown config key "${key}"`, {
    hint: `Known keys: ${(near.length ? near : known).join(', ')}${section === 'remote' ? `, remote.<name>.{${Object.keys(REMOTE_OPTIONS).join(',')}}` : ''}.`,
    data: { key },
  });
}

/** Check and normalise a value given as text on the command line. */
export function coerceValue(key: string, raw: string): unknown {
  const spec = keySpec(key);
  if (!spec) throw unknownKeyError(key);
  const invalid = (why: string) =>
    new DvsError('INVALID_CONFIG_VALUE', `Invalid value "${raw}" for ${key}: ${why}`, { data: { key, value: raw } });
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
      if (/^remote\.[^.]+\.format$/.test(key) && raw !== 'packed' && raw !== 'loose') throw invalid('expected packed or loose');
      return raw;
  }
}

export interface ConfigFile {
  path: string;
  /** The file's values as plain data (null: an empty file), as the YAML document holds them. */
  data: unknown;
  /** The parsed YAML document, for rewriting with comments kept: parsed when first asked for. */
  readonly doc: Document;
  /** Why this file must not be written (it came from Git: repo/trust.ts). */
  refusal?: DvsError;
}

function configSource(path: string): TextSource {
  return { where: path, code: 'CONFIG', what: 'a config file', hint: 'Fix the YAML by hand, or restore the file from Git.' };
}

/**
 * Read one config file (a missing file is empty). The committed config comes with a clone, so it is
 * read like a pointer: at most 1 MiB, no anchors or aliases, nesting at most 32 deep.
 */
export function loadConfigFile(path: string): ConfigFile {
  let text = '';
  try {
    text = readTextFile(path, configSource(path));
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw fromSystemError(err, path, 'reading');
  }
  return parseConfigText(text, path);
}

/**
 * Parse a config file's text; `path` names it in messages. The plain YAML dvs writes is read without the
 * YAML library (repo/config-text.ts); anything else, and the document for a rewrite, by the full parser.
 */
export function parseConfigText(text: string, path: string): ConfigFile {
  const source = configSource(path);
  checkTextSize(text, source);
  const plain = parsePlainConfig(text);
  if (plain !== undefined) return lazyDocument(path, plain, () => fullParse(text, source));
  const doc = fullParse(text, source);
  return { path, data: doc.toJS() as unknown, doc };
}

function fullParse(text: string, source: TextSource): Document {
  const { doc } = parseYamlSafely(text, source);
  if (doc.contents !== null && !yaml().isMap(doc.contents)) {
    throw refusal(source, 'INVALID', 'shape', 'the top level must be a map of sections');
  }
  return doc;
}

/** A config file whose document is parsed on first use (the same document every time: writes edit it). */
function lazyDocument(path: string, data: unknown, parse: () => Document, refused?: DvsError): ConfigFile {
  let doc: Document | undefined;
  return {
    path,
    data,
    get doc() {
      return (doc ??= parse());
    },
    ...(refused ? { refusal: refused } : {}),
  };
}

/** What a value of each kind must look like in a file; undefined when `value` is fine. */
function expected(kind: ValueKind, value: unknown): string | undefined {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'integer':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'a non-negative integer';
    case 'string':
    case 'path':
      return typeof value === 'string' ? undefined : 'text';
    case 'linktypes': {
      const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((t) => t.trim()) : undefined;
      const ok = list !== undefined && list.length > 0 && list.every((t) => LINK_TYPES.includes(t as LinkType));
      return ok ? undefined : `a list of ${LINK_TYPES.join(', ')}`;
    }
    default:
      return undefined;
  }
}

function flatten(data: unknown, where: string, out: Map<string, unknown>): void {
  const value = data as Record<string, unknown> | null;
  if (!value) return;
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, key);
      else {
        const spec = keySpec(key);
        if (!spec) {
          const err = unknownKeyError(key);
          throw new DvsError('CONFIG_UNKNOWN_KEY', `${where}: ${err.message}`, { hint: err.hint, data: err.data });
        }
        if (v === null) continue; // `key:` with no value leaves the default
        const want = expected(spec.kind, v);
        if (want) {
          throw new DvsError('CONFIG_INVALID', `${where}: ${key} must be ${want}, not ${quote(v)}`, {
            hint: `Set it with \`dvs config ${key} <value>\`, or edit the file.`,
            data: { path: where, key, reason: 'shape' },
          });
        }
        out.set(key, v);
      }
    }
  };
  walk(value, '');
}

/** Where a setting comes from: this user's config, the committed config, or this clone's config.local. */
export type ConfigSource = 'user' | 'shared' | 'local';

/**
 * This user's config file, below the repository's in precedence: `$DVS_CONFIG_DIR/config`, else
 * `$XDG_CONFIG_HOME/dvs/config`, else `~/.config/dvs/config`.
 */
export function userConfigPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DVS_CONFIG_DIR) return join(env.DVS_CONFIG_DIR, 'config');
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'dvs', 'config');
  const home = env.HOME ?? env.USERPROFILE;
  return home ? join(home, '.config', 'dvs', 'config') : undefined;
}

/** The merged view of the user's config, the committed config and config.local (later ones win). */
export class Config {
  private readonly values = new Map<string, unknown>();
  private readonly sources = new Map<string, ConfigSource>();
  private readonly layers: Array<[ConfigSource, Map<string, unknown>]> = [];

  /** `local` undefined: config.local is not used (it came from Git, see repo/trust.ts). */
  constructor(readonly shared: ConfigFile, readonly local: ConfigFile, readonly user?: ConfigFile) {
    const files: Array<[ConfigSource, ConfigFile | undefined]> = [['user', user], ['shared', shared], ['local', local]];
    for (const [source, file] of files) {
      if (!file) continue;
      const layer = new Map<string, unknown>();
      flatten(file.data, file.path, layer);
      this.layers.push([source, layer]);
      for (const [k, v] of layer) {
        this.values.set(k, v);
        this.sources.set(k, source);
      }
    }
  }

  static load(configPath: string, localPath: string | undefined, userPath = userConfigPath()): Config {
    const local = localPath ? loadConfigFile(localPath) : refusedLocalFile(configPath.replace(/config$/, 'config.local'));
    return new Config(loadConfigFile(configPath), local, userPath ? loadConfigFile(userPath) : undefined);
  }

  get<T = unknown>(key: string): T | undefined {
    if (this.values.has(key)) return this.values.get(key) as T;
    return keySpec(key)?.default as T | undefined;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  /** Which file the effective value of `key` comes from (undefined: the default). */
  sourceOf(key: string): ConfigSource | undefined {
    return this.sources.get(key);
  }

  /** Values this machine's files (the user config and config.local) set for `key`. */
  machineValues(key: string): unknown[] {
    return this.layers.filter(([source, layer]) => source !== 'shared' && layer.has(key)).map(([, layer]) => layer.get(key));
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
  entries(): Array<{ key: string; value: unknown; source: ConfigSource }> {
    return [...this.values.entries()].map(([key, value]) => ({ key, value, source: this.sources.get(key)! }));
  }

  /** Names of remotes defined in any file. */
  remoteNames(): string[] {
    const names = new Set<string>();
    for (const key of this.values.keys()) {
      const m = /^remote\.([^.]+)\.url$/.exec(key);
      if (m) names.add(m[1]);
    }
    return [...names].sort();
  }
}

/** config.local when Git tracks it: read as empty, never written (this machine's settings stay off Git). */
function refusedLocalFile(path: string): ConfigFile {
  return lazyDocument(path, null, () => yaml().parseDocument(''), new DvsError('CONFIG_LOCAL_FROM_GIT', `${path} is committed to Git; dvs will not write this machine's settings (or secrets) into a file Git shares`, {
      hint: "Stop tracking it first: git rm --cached -- .dvs/config.local (and delete it if you did not write it), then run the command again.",
      data: { path },
    }));
}

/** Set (or, with value undefined, unset) a key in one config file, keeping its comments. */
export function writeConfigValue(file: ConfigFile, key: string, value: unknown): void {
  if (file.refusal) throw file.refusal;
  const { isMap, isScalar } = yaml();
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

/**
 * Rename one key of a section in place (`remote.<from>` to `remote.<to>`), keeping the entry's position,
 * its options and their comments. False (and nothing written) when the file has no such key.
 */
export function renameConfigKey(file: ConfigFile, section: string, from: string, to: string): boolean {
  const { isMap, isScalar } = yaml();
  const node = file.doc.get(section, true);
  if (!isMap(node)) return false;
  const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === from);
  if (!pair) return false;
  if (file.refusal) throw file.refusal;
  if (isScalar(pair.key)) pair.key.value = to;
  else pair.key = to;
  writeFileAtomic(file.path, file.doc.toString());
  return true;
}

export function configExists(path: string): boolean {
  return existsSync(path);
}
