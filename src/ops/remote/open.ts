import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DvsError } from '../../errors.js';
import type { Repo } from '../../repo/repo.js';
import { isReadOnlyLocation, type RemoteBackend, type RemoteFormat, type RemoteOptions, type RemoteSpec } from '../../remotes/types.js';
import { canonicalUrl, parseRemoteUrl } from '../../remotes/url.js';
import { KnownObjects } from '../../transfer/known.js';
import { catalogueDir, PackCatalogue } from '../../transfer/packs.js';
import { processQueue, type QueueSettings } from '../../transfer/queue.js';
import type { OpContext } from '../context.js';

/** Option names a remote may carry, in the order `remote list` shows them. */
const OPTION_NAMES: Array<keyof RemoteOptions> = [
  'endpoint', 'region', 'profile', 'path_style', 'checksum', 'credentials_file', 'access_key_id', 'secret_access_key', 'session_token', 'project', 'account_name', 'account_key', 'connection_string', 'sas_token', 'jobs',
  'user', 'port', 'key_file', 'known_hosts', 'password', 'auth', 'token', 'ca_file', 'format',
];

const CONFIG_FILE_NAMES = { user: 'user config', shared: '.dvs/config', local: '.dvs/config.local' } as const;

/** The name of the remote to use: the one asked for, else core.remote, else the only one configured. */
export function remoteName(repo: Repo, name?: string): string {
  const names = repo.config.remoteNames();
  if (name !== undefined) {
    if (!names.includes(name)) {
      throw new DvsError('REMOTE_NOT_FOUND', `No remote named "${name}"${names.length ? ` (configured: ${names.join(', ')})` : ''}`, {
        hint: names.length ? 'List remotes with `dvs remote list`.' : `Add one: dvs remote add ${name} s3://bucket/prefix (or a directory, or gs://bucket/prefix)`,
        data: { remote: name, remotes: names },
      });
    }
    return name;
  }
  const configured = repo.config.get<string>('core.remote');
  if (configured !== undefined) {
    if (!names.includes(configured)) {
      throw new DvsError('REMOTE_NOT_FOUND', `The default remote "${configured}" (core.remote) is not configured`, {
        hint: `Add it (dvs remote add ${configured} <url>) or pick another: dvs remote default <name>`,
        data: { remote: configured, remotes: names },
      });
    }
    return configured;
  }
  if (names.length === 1) return names[0];
  throw new DvsError('NO_REMOTE', names.length ? `Several remotes are configured (${names.join(', ')}) and none is the default` : 'No remote is configured', {
    hint: names.length ? 'Name one with -r <name>, or set the default: dvs remote default <name>' : 'Add one: dvs remote add --default <name> <url>  (a directory, s3://bucket/prefix or gs://bucket/prefix)',
    data: { remotes: names },
  });
}

/** A remote's configuration, from both config files, with where each option came from. */
export function remoteSpec(repo: Repo, name?: string): RemoteSpec {
  const n = remoteName(repo, name);
  const url = repo.config.get<string>(`remote.${n}.url`)!;
  const options: Record<string, unknown> = {};
  const sources: RemoteSpec['sources'] = {};
  const fileOf = (key: string) => CONFIG_FILE_NAMES[repo.config.sourceOf(key) ?? 'shared'];
  sources.url = fileOf(`remote.${n}.url`);
  for (const opt of OPTION_NAMES) {
    const key = `remote.${n}.${opt}`;
    if (!repo.config.has(key)) continue;
    options[opt] = repo.config.get(key);
    sources[opt] = fileOf(key);
  }
  const location = parseRemoteUrl(url, repo.root, `remote.${n}.url`);
  // A cloned repository must not choose a directory on this machine for dvs to write to and delete from.
  if (location.scheme === 'local') {
    repo.confirmOutsidePath(`remote.${n}.url`, url, location.path, (v) => {
      const l = parseRemoteUrl(v, repo.root);
      return l.scheme === 'local' ? l.path : undefined;
    });
  }
  for (const key of ['credentials_file', 'ca_file'] as const) {
    const value = options[key];
    if (typeof value === 'string') repo.confirmOutsidePath(`remote.${n}.${key}`, value, resolve(repo.root, value), (v) => resolve(repo.root, v));
  }
  if (location.scheme === 'http') {
    refuseCommittedSecrets(n, sources);
    confirmCredentialTarget(repo, n, url, location.url, options as RemoteOptions);
  }
  // Which key signs in and which host keys are trusted is this machine's choice, never a clone's.
  for (const opt of ['key_file', 'known_hosts'] as const) {
    if (options[opt] === undefined || repo.config.sourceOf(`remote.${n}.${opt}`) !== 'shared') continue;
    throw new DvsError('UNCONFIRMED_PATH', `.dvs/config (committed) sets remote.${n}.${opt}; dvs takes an SSH ${opt === 'key_file' ? 'key file' : 'known_hosts file'} only from this machine's config`, {
      hint: `If you trust it, set it for this clone: dvs remote modify --local ${n} ${opt} ${String(options[opt])} (or in your user config)`,
      data: { key: `remote.${n}.${opt}`, value: options[opt] },
    });
  }
  return {
    name: n,
    url,
    location,
    options: options as RemoteOptions,
    sources,
    root: repo.root,
    timeoutSeconds: repo.config.get<number>('transfer.timeout') ?? 30,
  };
}

/** The committed config may name a remote, never its secrets: they would go wherever it points. */
function refuseCommittedSecrets(name: string, sources: RemoteSpec['sources']): void {
  for (const key of ['user', 'password', 'token'] as const) {
    if (sources[key] !== CONFIG_FILE_NAMES.shared) continue;
    throw new DvsError('SECRET_IN_SHARED_CONFIG', `remote.${name}.${key} is set in the committed .dvs/config; dvs does not use secrets a repository supplies`, {
      hint: `Remove it from .dvs/config and set it for this clone only: dvs remote modify --local ${name} ${key} <value>`,
      data: { key: `remote.${name}.${key}` },
    });
  }
}

/**
 * HTTP(S) credentials are sent to the remote's URL as they are (no signature binds them to a host), so a
 * committed URL gets them only once this machine's config names the same origin (as for paths, see
 * docs/security.md rule 3). `dvs remote modify --local <name> token …` confirms the URL as it stores one.
 */
function confirmCredentialTarget(repo: Repo, name: string, url: string, base: string, options: RemoteOptions): void {
  const key = `remote.${name}.url`;
  const sendsCredentials = options.auth !== undefined ? options.auth !== 'none' : options.user !== undefined || options.token !== undefined;
  if (!sendsCredentials || repo.config.sourceOf(key) !== 'shared') return;
  const origin = new URL(base).origin;
  const confirmed = repo.config.machineValues(key).some((v) => {
    try {
      const l = parseRemoteUrl(String(v), repo.root);
      return l.scheme === 'http' && new URL(l.url).origin === origin;
    } catch {
      return false;
    }
  });
  if (confirmed) return;
  throw new DvsError('UNCONFIRMED_URL', `.dvs/config (committed) sets ${key} to ${url}, and dvs would send this machine's credentials there; it does so only after you confirm the URL on this machine`, {
    hint: `If you trust this repository's choice, confirm it once: dvs config --local ${key} ${url}`,
    data: { key, value: url },
  });
}

/** Commands that write to a remote call this first: a read-only remote (HTTP(S)) is refused before any work. */
export function requireWritable(repo: Repo, remote: string | undefined, command: string): void {
  const spec = remoteSpec(repo, remote);
  if (!isReadOnlyLocation(spec.location)) return;
  throw new DvsError('REMOTE_READ_ONLY', `Remote "${spec.name}" (${spec.url}) is read-only: ${command} cannot write to an HTTP(S) remote`, {
    hint: 'Publish through the directory or bucket the web server serves (a remote of that kind), or name another remote with -r <name>.',
    data: { remote: spec.name, url: spec.url },
  });
}

/** An open remote with what every transfer needs: its backend, queue settings and known objects. */
export interface OpenRemote {
  spec: RemoteSpec;
  backend: RemoteBackend;
  settings: QueueSettings;
  known: KnownObjects;
  /** The canonical URL (keys the known-objects record). */
  url: string;
  /** How push writes small objects (docs/remote-format.md); reading always understands both. */
  format: RemoteFormat;
  /** What the remote holds in packs, as far as this clone knows (created on first use). */
  packs(): PackCatalogue;
  /** Check the remote's epoch before trusting `known` (one small request); a stale record is dropped. */
  syncKnown(): Promise<void>;
  /** Before deleting from the remote: a new epoch, so that every other clone drops its record. */
  newEpoch(): Promise<void>;
  close(): Promise<void>;
}

export async function openRemote(ctx: OpContext, options: { remote?: string; jobs?: number }): Promise<OpenRemote> {
  const { repo } = ctx;
  const spec = remoteSpec(repo, options.remote);
  const { openBackend } = await import('../../remotes/index.js');
  const backend = await openBackend(spec);
  const jobs = options.jobs ?? spec.options.jobs ?? repo.config.get<number>('transfer.jobs') ?? backend.defaultJobs;
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new DvsError('INVALID_JOBS', `-j/--jobs must be a positive integer (got ${jobs})`);
  }
  const url = canonicalUrl(spec.location, spec.options.endpoint ?? backend.serviceUrl);
  const known = KnownObjects.load(repo.paths.tmp, url);
  const settings: QueueSettings = {
    jobs,
    retries: repo.config.get<number>('transfer.retries') ?? 4,
    stallMs: backend.network ? spec.timeoutSeconds * 1000 : 0,
    onProgress: ctx.onProgress,
    label: `remote "${spec.name}" (${backend.display})`,
  };
  let catalogue: PackCatalogue | undefined;
  return {
    spec,
    backend,
    url,
    known,
    settings,
    format: backend.putPackFile && spec.options.format === 'packed' ? 'packed' : 'loose',
    packs: () => (catalogue ??= new PackCatalogue({ backend, settings }, catalogueDir(repo.paths.tmp, url))),
    async syncKnown() {
      const r = await processQueue('query', [{ key: 'epoch', size: 0, count: 0, value: undefined }], (_v, call) => backend.readMarker(call), settings);
      if (r.failed.length) throw r.failed[0].error;
      known.adoptEpoch(r.done[0].result);
    },
    async newEpoch() {
      const epoch = `${new Date().toISOString()} ${randomBytes(8).toString('hex')}`;
      const r = await processQueue('query', [{ key: 'epoch', size: 0, count: 0, value: epoch }], (v, call) => backend.writeMarker(v, call), settings);
      if (r.failed.length) throw r.failed[0].error;
      // What this clone knew stays true: only what it deletes next is removed from the record.
      known.adoptEpoch(epoch, true);
    },
    async close() {
      known.flush();
      await backend.close();
      const { closeCopyPool } = await import('../../remotes/local-copy.js');
      await closeCopyPool();
    },
  };
}
