import { isAbsolute, relative, resolve } from 'node:path';
import { DvsError } from '../../errors.js';
import { coerceValue, REMOTE_OPTIONS, renameConfigKey, writeConfigValue, type ConfigFile } from '../../repo/config.js';
import type { Repo } from '../../repo/repo.js';
import type { RemoteFormat, RemoteScheme } from '../../remotes/types.js';
import { parseRemoteUrl } from '../../remotes/url.js';
import { stage } from '../../scm/git.js';
import { writeSetting } from '../setup/config.js';

/**
 * `dvs remote …`: the remotes in the config. `remote.<name>.url` and options live in `.dvs/config`
 * (shared through Git) or, with --local, in `.dvs/config.local` (this clone only); secrets may only go
 * to the local file. `core.remote` names the default.
 */
export type RemoteAction = 'add' | 'list' | 'remove' | 'rename' | 'default' | 'modify';

export interface RemoteOpOptions {
  action: RemoteAction;
  name?: string;
  url?: string;
  /** rename: the new name. */
  newName?: string;
  option?: string;
  value?: string;
  /** add: also make it the default. */
  makeDefault?: boolean;
  /** Write to .dvs/config.local. */
  local?: boolean;
  /** add: replace an existing remote's URL. */
  force?: boolean;
  /** add: how push stores small objects (remote.<name>.format); default: defaultFormat(). */
  format?: string;
  /** modify/default: remove the option (or the default). */
  unset?: boolean;
  /** For relative paths given on the command line. */
  cwd: string;
}

export interface RemoteListEntry {
  name: string;
  url: string;
  isDefault: boolean;
  /** Options set, secrets shown as "(secret)". */
  options: Record<string, unknown>;
}

/** What a change to the committed .dvs/config left for Git: staged (core.autostage), or to stage by hand. */
export interface ConfigStaging {
  staged: string[];
  toStage: string[];
}

export type RemoteResult =
  | ({ action: 'add'; name: string; url: string; file: string; isDefault: boolean; replaced: boolean } & ConfigStaging)
  | { action: 'list'; remotes: RemoteListEntry[]; default?: string }
  | ({ action: 'remove'; name: string; files: string[]; wasDefault: boolean } & ConfigStaging)
  | ({ action: 'rename'; name: string; newName: string; files: string[]; isDefault: boolean } & ConfigStaging)
  | ({ action: 'default'; name?: string; changed: boolean; file?: string } & ConfigStaging)
  | ({ action: 'modify'; name: string; option: string; value?: unknown; file: string; unset: boolean } & ConfigStaging);

type Unstaged<R> = R extends ConfigStaging ? Omit<R, keyof ConfigStaging> : R;

const NAME = /^[A-Za-z0-9_-]+$/;
const SHARED = '.dvs/config';
const LOCAL = '.dvs/config.local';

/**
 * Run one `dvs remote` action. A change to the committed .dvs/config is staged like a pointer after
 * `dvs track` (core.autostage): a remote the team shares is part of the commit. config.local never is.
 */
export async function remote(repo: Repo, options: RemoteOpOptions): Promise<RemoteResult> {
  const before = repo.config.shared.doc.toString();
  const result = apply(repo, options);
  if (result.action === 'list') return result;
  const changed = repo.config.shared.doc.toString() !== before;
  const autostage = repo.config.bool('core.autostage');
  if (changed && autostage) await stage(repo.root, [SHARED]);
  return { ...result, staged: changed && autostage ? [SHARED] : [], toStage: changed && !autostage ? [SHARED] : [] } as RemoteResult;
}

function apply(repo: Repo, options: RemoteOpOptions): Unstaged<RemoteResult> {
  switch (options.action) {
    case 'add':
      return add(repo, options);
    case 'list':
      return list(repo);
    case 'remove':
      return removeRemote(repo, required(options.name, 'remove', 'name'));
    case 'rename':
      return renameRemote(repo, required(options.name, 'rename', 'old'), required(options.newName, 'rename', 'new'));
    case 'default':
      return setDefault(repo, options);
    case 'modify':
      return modify(repo, options);
  }
}

/**
 * Giving an HTTP(S) remote credentials on this machine confirms the committed URL they go to (see
 * confirmCredentialTarget in open.ts): the user who typed them chose that remote.
 */
function confirmCredentialUrl(repo: Repo, name: string): void {
  const key = `remote.${name}.url`;
  const url = repo.config.get<string>(key);
  if (url === undefined || repo.config.sourceOf(key) !== 'shared' || !/^https?:\/\//i.test(url)) return;
  writeConfigValue(repo.config.local, key, url);
}

function required(v: string | undefined, action: string, what: string): string {
  if (v === undefined || v === '') {
    throw new DvsError('USAGE', `dvs remote ${action}: missing <${what}>`, { hint: `dvs remote --help shows the forms of dvs remote ${action}.` });
  }
  return v;
}

function files(repo: Repo, local: boolean | undefined): { file: ConfigFile; name: string } {
  return local ? { file: repo.config.local, name: LOCAL } : { file: repo.config.shared, name: SHARED };
}

function add(repo: Repo, o: RemoteOpOptions): Unstaged<RemoteResult> {
  const name = required(o.name, 'add', 'name');
  let url = required(o.url, 'add', 'url');
  if (!NAME.test(name)) {
    throw new DvsError('INVALID_REMOTE_NAME', `Invalid remote name "${name}": use letters, digits, "_" and "-"`, { data: { name } });
  }
  const location = parseRemoteUrl(url, repo.root, `remote ${name}`);
  if (location.scheme === 'local' && !/^file:/i.test(url) && !isAbsolute(url)) {
    // Given relative to where the command runs; stored relative to the repository root.
    url = relative(repo.root, resolve(o.cwd, url)) || '.';
  }
  const exists = repo.config.remoteNames().includes(name);
  if (exists && !o.force) {
    throw new DvsError('REMOTE_EXISTS', `A remote named "${name}" already exists (${repo.config.get<string>(`remote.${name}.url`)})`, {
      hint: `Replace its URL with: dvs remote add --force ${name} ${o.url}`,
      data: { name },
    });
  }
  const target = files(repo, o.local);
  if (exists) {
    // The URL may live in the other file; a remote has one URL.
    for (const f of [repo.config.shared, repo.config.local]) if (f !== target.file && f.doc.hasIn(['remote', name, 'url'])) writeConfigValue(f, `remote.${name}.url`, undefined);
  }
  writeSetting(repo, `remote.${name}.url`, url, o.local === true);
  const format = o.format ?? defaultFormat(location.scheme);
  if (format !== undefined) writeSetting(repo, `remote.${name}.format`, coerceValue(`remote.${name}.format`, format) as string, o.local === true);
  if (o.makeDefault) writeConfigValue(target.file, 'core.remote', name);
  return { action: 'add', name, url, file: target.name, isDefault: o.makeDefault === true || repo.config.get('core.remote') === name, replaced: exists };
}

/**
 * The format a new remote gets when `--format` is not given (docs/remotes.md, "Packed remotes"): packed
 * where each request costs (object stores, and SFTP, whose per-file opens, writes and renames cost more
 * than the bytes of a small file), loose for a local directory (no per-request cost) and HTTP(S)
 * (read-only). A remote with no format set (added before packs existed) stays loose.
 */
export function defaultFormat(scheme: RemoteScheme): RemoteFormat | undefined {
  return PACKED_BY_DEFAULT.has(scheme) ? 'packed' : undefined;
}

const PACKED_BY_DEFAULT = new Set<RemoteScheme>(['s3', 'gcs', 'azure', 'ssh']);

function list(repo: Repo): Unstaged<RemoteResult> {
  const def = repo.config.get<string>('core.remote');
  const remotes = repo.config.remoteNames().map((name): RemoteListEntry => {
    const options: Record<string, unknown> = {};
    for (const [opt, spec] of Object.entries(REMOTE_OPTIONS)) {
      if (opt === 'url') continue;
      const key = `remote.${name}.${opt}`;
      if (repo.config.has(key)) options[opt] = spec.secret ? '(secret)' : repo.config.get(key);
    }
    return { name, url: repo.config.get<string>(`remote.${name}.url`)!, isDefault: name === def, options };
  });
  return { action: 'list', remotes, default: def };
}

function removeRemote(repo: Repo, name: string): Unstaged<RemoteResult> {
  if (!repo.config.remoteNames().includes(name)) {
    throw new DvsError('REMOTE_NOT_FOUND', `No remote named "${name}"`, { hint: 'List remotes with `dvs remote list`.', data: { remote: name } });
  }
  const touched: string[] = [];
  for (const [f, fname] of [[repo.config.shared, SHARED], [repo.config.local, LOCAL]] as const) {
    let changed = false;
    for (const opt of Object.keys(REMOTE_OPTIONS)) {
      if (!f.doc.hasIn(['remote', name, opt])) continue;
      writeConfigValue(f, `remote.${name}.${opt}`, undefined);
      changed = true;
    }
    const wasDefaultHere = f.doc.getIn(['core', 'remote']) === name;
    if (wasDefaultHere) {
      writeConfigValue(f, 'core.remote', undefined);
      changed = true;
    }
    if (changed) touched.push(fname);
  }
  return { action: 'remove', name, files: touched, wasDefault: repo.config.get('core.remote') === name };
}

/**
 * Rename a remote in every file that defines it, and `core.remote` where it named it. What this clone
 * knows about the remote's objects (.dvs/tmp/remotes/, transfer/known.ts) is keyed by its URL, not its
 * name, so it stays valid: a rename costs no re-scan. The user config serves every repository, so its
 * entry is renamed only when the remote is defined nowhere else (it is then the user's own remote).
 */
function renameRemote(repo: Repo, name: string, newName: string): Unstaged<RemoteResult> {
  if (!NAME.test(newName)) {
    throw new DvsError('INVALID_REMOTE_NAME', `Invalid remote name "${newName}": use letters, digits, "_" and "-"`, { data: { name: newName } });
  }
  if (!repo.config.remoteNames().includes(name)) {
    throw new DvsError('REMOTE_NOT_FOUND', `No remote named "${name}"`, { hint: 'List remotes with `dvs remote list`.', data: { remote: name } });
  }
  const repoFiles: Array<[ConfigFile, string]> = [[repo.config.shared, SHARED], [repo.config.local, LOCAL]];
  const user = repo.config.user;
  const definedInRepo = repoFiles.some(([f]) => f.doc.hasIn(['remote', name]));
  const files = user && !definedInRepo ? [...repoFiles, [user, user.path] as [ConfigFile, string]] : repoFiles;
  // Options left under the new name (without a URL) would be merged into the renamed remote: refused too.
  const everyFile = user ? [repo.config.shared, repo.config.local, user] : [repo.config.shared, repo.config.local];
  const taken = newName === name || repo.config.remoteNames().includes(newName) || everyFile.some((f) => f.doc.hasIn(['remote', newName]));
  if (taken) {
    throw new DvsError('REMOTE_EXISTS', `A remote named "${newName}" already exists`, {
      hint: `Pick another name, or remove that remote first: dvs remote remove ${newName}`,
      data: { name: newName },
    });
  }
  const wasDefault = repo.config.get('core.remote') === name;
  const touched: string[] = [];
  let defaultRenamed = false;
  for (const [file, label] of files) {
    let changed = renameConfigKey(file, 'remote', name, newName);
    if (file.doc.getIn(['core', 'remote']) === name) {
      writeConfigValue(file, 'core.remote', newName);
      changed = defaultRenamed = true;
    }
    if (changed) touched.push(label);
  }
  // The default came from the user config, which names the old remote for every repository: keep this
  // clone's default on the renamed remote without changing the others'.
  if (wasDefault && !defaultRenamed && !repo.config.local.refusal) {
    writeConfigValue(repo.config.local, 'core.remote', newName);
    if (!touched.includes(LOCAL)) touched.push(LOCAL);
  }
  return { action: 'rename', name, newName, files: touched, isDefault: wasDefault };
}

function setDefault(repo: Repo, o: RemoteOpOptions): Unstaged<RemoteResult> {
  const target = files(repo, o.local);
  if (o.unset) {
    const had = target.file.doc.hasIn(['core', 'remote']);
    if (had) writeConfigValue(target.file, 'core.remote', undefined);
    return { action: 'default', changed: had, file: target.name };
  }
  if (o.name === undefined) return { action: 'default', name: repo.config.get<string>('core.remote'), changed: false };
  if (!repo.config.remoteNames().includes(o.name)) {
    throw new DvsError('REMOTE_NOT_FOUND', `No remote named "${o.name}"`, { hint: 'List remotes with `dvs remote list`.', data: { remote: o.name } });
  }
  const changed = repo.config.get('core.remote') !== o.name;
  writeConfigValue(target.file, 'core.remote', o.name);
  return { action: 'default', name: o.name, changed, file: target.name };
}

function modify(repo: Repo, o: RemoteOpOptions): Unstaged<RemoteResult> {
  const name = required(o.name, 'modify', 'name');
  const option = required(o.option, 'modify', 'option');
  if (!repo.config.remoteNames().includes(name)) {
    throw new DvsError('REMOTE_NOT_FOUND', `No remote named "${name}"`, { hint: 'List remotes with `dvs remote list`.', data: { remote: name } });
  }
  const spec = REMOTE_OPTIONS[option];
  if (!spec) {
    throw new DvsError('UNKNOWN_REMOTE_OPTION', `Unknown remote option "${option}"`, {
      hint: `Remote options: ${Object.keys(REMOTE_OPTIONS).join(', ')}.`,
      data: { option },
    });
  }
  const key = `remote.${name}.${option}`;
  const target = files(repo, o.local);
  if (o.unset) {
    for (const f of [repo.config.shared, repo.config.local]) if (f.doc.hasIn(['remote', name, option])) writeConfigValue(f, key, undefined);
    return { action: 'modify', name, option, file: target.name, unset: true };
  }
  const raw = required(o.value, 'modify', 'value');
  if (spec.secret && !o.local) {
    throw new DvsError('SECRET_IN_SHARED_CONFIG', `${option} is a secret and would be committed with .dvs/config`, {
      hint: `Store it in the ignored local file: dvs remote modify --local ${name} ${option} <value>`,
      data: { key },
    });
  }
  if (spec.machine && !o.local) {
    throw new DvsError('MACHINE_ONLY_SETTING', `${option} is chosen by each machine, not by the repository; it would be committed with .dvs/config`, {
      hint: `Store it in the ignored local file: dvs remote modify --local ${name} ${option} <value> (or in your user config)`,
      data: { key },
    });
  }
  const value = coerceValue(key, raw);
  if (option === 'url') parseRemoteUrl(String(value), repo.root, key);
  writeSetting(repo, key, value, o.local === true);
  if (spec.secret) confirmCredentialUrl(repo, name);
  return { action: 'modify', name, option, value: spec.secret ? '(secret)' : value, file: target.name, unset: false };
}
