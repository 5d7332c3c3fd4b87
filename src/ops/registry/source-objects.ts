import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DvsError, isDvsError, type ErrorCode } from '../../errors.js';
import type { ProgressListener, Warning } from '../../events.js';
import type { ObjectCache } from '../../objects/cache.js';
import type { Oid } from '../../objects/oid.js';
import { loadManifest, type Manifest } from '../../objects/manifest.js';
import type { Pointer } from '../../pointer/format.js';
import { Config, loadConfigFile, parseConfigText, userConfigPath } from '../../repo/config.js';
import type { RemoteBackend, RemoteOptions, RemoteSpec } from '../../remotes/types.js';
import { canonicalUrl, parseRemoteUrl } from '../../remotes/url.js';
import { downloadToCache } from '../../transfer/download.js';
import { PackCatalogue } from '../../transfer/packs.js';
import { openObject } from '../../transfer/chunks.js';
import { processQueue, type QueueSettings } from '../../transfer/queue.js';
import type { SourceRepo } from './source-repo.js';

/**
 * Where the objects of another repository's pointers come from: the cache of a source given as a local
 * path (when it has one), then the source's default remote as its committed `.dvs/config` names it.
 * Both are only read from, and every object is hashed before it enters a cache, so neither is trusted
 * with more than availability.
 *
 * The committed config of the source decides where dvs *reads*: a directory remote outside the source
 * is used without the confirmation `dvs pull` asks for (docs/security.md, rule 3), because nothing is
 * written or deleted there and no byte is used unverified. A committed `credentials_file` would decide
 * which secrets dvs sends where, so it is used only when the user config names the same file.
 * Credentials come from the user config (`remote.<name>.…`, by the source's remote name) or the
 * environment, never from the source.
 */
const OPTION_NAMES: Array<keyof RemoteOptions> = ['endpoint', 'region', 'profile', 'path_style', 'checksum', 'credentials_file', 'access_key_id', 'secret_access_key', 'session_token', 'project', 'account_name', 'account_key', 'connection_string', 'sas_token', 'jobs', 'user', 'port', 'key_file', 'known_hosts', 'password'];
/** An SSH key and the trusted host keys are this machine's choice: from the user config only. */
const MACHINE_ONLY: ReadonlySet<string> = new Set(['key_file', 'known_hosts']);
/**
 * Secrets that go to the server as they are (an SSH or basic-auth password, a SAS token). The user config
 * matches a source's remote by its *name* only, and the source chooses where that remote is: such a value
 * would go to a host the source picked. Signing keys (S3, an Azure account key) never leave this machine.
 */
const SENT_AS_IS: ReadonlySet<string> = new Set(['password', 'sas_token']);

export interface WantedObject {
  oid: Oid;
  /** What it is, for messages: "data/train/a.csv". */
  path: string;
  size: number;
}

export interface SupplyFailure {
  path: string;
  oid: Oid;
  code: ErrorCode;
  message: string;
}

export interface SupplyResult {
  fetched: number;
  bytes: number;
  failures: SupplyFailure[];
  /** Where objects came from: "cache of /src", "remote \"origin\" (s3://…)". */
  from: string[];
}

interface Store {
  label: string;
  open(): Promise<RemoteBackend>;
  jobs?: number;
  stallMs: number;
}

export class ObjectSupply {
  private readonly opened = new Map<Store, RemoteBackend>();
  /** Each store's pack indexes (a packed remote), kept in a temp dir for this process only. */
  private readonly packs = new Map<Store, PackCatalogue>();
  private packDir: string | undefined;
  readonly warnings: Warning[] = [];

  private constructor(private readonly stores: Store[], private readonly onProgress?: ProgressListener) {}

  static async of(source: SourceRepo, onProgress?: ProgressListener): Promise<ObjectSupply> {
    const stores: Store[] = [];
    const sharedCache = source.localRoot ? join(source.localRoot, '.dvs', 'cache') : undefined;
    if (sharedCache && existsSync(sharedCache)) {
      stores.push(localStore(`the cache of ${source.localRoot}`, sharedCache));
    }
    const spec = sourceRemoteSpec(source, await source.readText('.dvs/config'));
    if (spec) {
      stores.push({
        label: `remote "${spec.name}" of the source (${canonicalUrl(spec.location, spec.options.endpoint)})`,
        jobs: spec.options.jobs,
        stallMs: spec.location.scheme === 'local' ? 0 : spec.timeoutSeconds * 1000,
        open: async () => (await import('../../remotes/index.js')).openBackend(spec),
      });
    }
    return new ObjectSupply(stores, onProgress);
  }

  /** Bring into `cache` the objects it lacks, store by store; what no store had is returned as failures. */
  async fetch(cache: ObjectCache, wanted: WantedObject[]): Promise<SupplyResult> {
    const result: SupplyResult = { fetched: 0, bytes: 0, failures: [], from: [] };
    let missing = dedupe(wanted).filter((w) => !cache.has(w.oid));
    if (missing.length === 0) return result;
    if (this.stores.length === 0) {
      throw new DvsError('SOURCE_NO_REMOTE', 'The source repository names no dvs remote in its committed .dvs/config, and has no cache here to read from', {
        hint: 'Ask its owners to set a default remote (dvs remote add --default …), or give the path of a local clone that has the data in its cache.',
      });
    }
    for (const [i, store] of this.stores.entries()) {
      const last = i === this.stores.length - 1;
      let failed: SupplyFailure[];
      try {
        failed = await this.fetchFrom(store, cache, missing, result);
      } catch (err) {
        // A store that cannot be used at all (bad credentials, unreachable): the next one may do.
        if (last || !isDvsError(err)) throw err;
        this.warnings.push({ code: 'SOURCE_STORE_UNUSABLE', message: `${store.label}: ${err.message}`, hint: err.hint });
        continue;
      }
      if (failed.length === 0) return result;
      if (last) {
        result.failures = failed;
        return result;
      }
      const left = new Set(failed.map((f) => f.oid));
      missing = missing.filter((w) => left.has(w.oid));
    }
    return result;
  }

  private async fetchFrom(store: Store, cache: ObjectCache, wanted: WantedObject[], result: SupplyResult): Promise<SupplyFailure[]> {
    let backend = this.opened.get(store);
    if (!backend) {
      backend = await store.open();
      this.opened.set(store, backend);
    }
    const settings: QueueSettings = { jobs: store.jobs ?? backend.defaultJobs, retries: 4, stallMs: store.stallMs, onProgress: this.onProgress, label: store.label };
    const items = wanted.map((w) => ({ key: w.oid, size: w.size, value: w }));
    const before = result.fetched;
    let packs = this.packs.get(store);
    if (!packs) {
      this.packDir ??= mkdtempSync(join(tmpdir(), 'dvs-packs-'));
      packs = new PackCatalogue({ backend, settings }, join(this.packDir, String(this.packs.size)));
      this.packs.set(store, packs);
    }
    const catalogue = packs;
    const r = await processQueue('download', items, (w, call) => downloadToCache(backend!, cache, w.oid, call, store.label, (o, c) => openObject(backend!, catalogue, o, c, store.label)), settings, (_item, got) => {
      result.fetched++;
      result.bytes += got.size;
    });
    if (result.fetched > before) result.from.push(store.label);
    return r.failed.map((f) => ({ path: f.item.value.path, oid: f.item.key, code: f.error.code, message: f.error.message }));
  }

  async close(): Promise<void> {
    for (const backend of this.opened.values()) await backend.close();
    this.opened.clear();
    if (this.packDir) rmSync(this.packDir, { recursive: true, force: true });
    const { closeCopyPool } = await import('../../remotes/local-copy.js');
    await closeCopyPool();
  }
}

function dedupe(wanted: WantedObject[]): WantedObject[] {
  const seen = new Map<Oid, WantedObject>();
  for (const w of wanted) if (!seen.has(w.oid)) seen.set(w.oid, w);
  return [...seen.values()];
}

/** A directory with the cache's layout (a source's cache), read like a directory remote. */
function localStore(label: string, dir: string): Store {
  const spec: RemoteSpec = { name: label, url: dir, location: { scheme: 'local', path: dir }, options: {}, sources: {}, root: dir, timeoutSeconds: 30 };
  return { label, stallMs: 0, open: async () => (await import('../../remotes/index.js')).openBackend(spec) };
}

/** The source's default remote, from its committed config overlaid by nothing but the user config. */
export function sourceRemoteSpec(source: SourceRepo, configText: string | undefined): RemoteSpec | undefined {
  if (configText === undefined) return undefined;
  const where = `${source.url}:.dvs/config`;
  const userPath = userConfigPath();
  const config = new Config(parseConfigText(configText, where), parseConfigText('', 'none'), userPath ? loadConfigFile(userPath) : undefined);
  const names = config.remoteNames().filter((n) => config.sourceOf(`remote.${n}.url`) === 'shared');
  const wanted = config.sourceOf('core.remote') === 'shared' ? config.get<string>('core.remote') : undefined;
  const name = wanted !== undefined && names.includes(wanted) ? wanted : names.length === 1 ? names[0] : undefined;
  if (name === undefined) return undefined;
  const url = config.get<string>(`remote.${name}.url`)!;
  const options: Record<string, unknown> = {};
  const sources: RemoteSpec['sources'] = { url: where };
  // An HTTP(S) remote takes `user` as basic auth: a credential too.
  const sentAsIs = /^https?:\/\//i.test(url) ? new Set([...SENT_AS_IS, 'user']) : SENT_AS_IS;
  for (const opt of OPTION_NAMES) {
    const key = `remote.${name}.${opt}`;
    if (!config.has(key) || (MACHINE_ONLY.has(opt) && config.sourceOf(key) === 'shared')) continue;
    if (sentAsIs.has(opt) && config.sourceOf(key) !== 'shared') continue;
    options[opt] = config.get(key);
    sources[opt] = config.sourceOf(key) === 'shared' ? where : 'user config';
  }
  const relativeLocal = !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) && !url.startsWith('/');
  if (relativeLocal && !source.localRoot) {
    throw new DvsError('SOURCE_REMOTE_UNUSABLE', `${where}: remote "${name}" is the relative path ${url}, which means nothing outside a clone of the source`, {
      hint: 'Clone the source repository and give its path instead of the URL, or ask its owners for a shared remote (s3://, gs:// or an absolute path).',
      data: { url: source.url, remote: name },
    });
  }
  const location = parseRemoteUrl(url, source.localRoot ?? '/', `remote.${name}.url in ${where}`);
  if (typeof options.credentials_file === 'string' && config.sourceOf(`remote.${name}.credentials_file`) === 'shared') {
    const abs = resolve(source.localRoot ?? '/', options.credentials_file);
    const confirmed = config.machineValues(`remote.${name}.credentials_file`).some((v) => typeof v === 'string' && resolve(v) === abs);
    if (!confirmed) {
      throw new DvsError('UNCONFIRMED_PATH', `${where} sets remote.${name}.credentials_file to ${options.credentials_file}; dvs reads secrets from a file a repository names only after you confirm it`, {
        hint: `If you trust it, name the same file in your user config (${userPath ?? '~/.config/dvs/config'}): remote: {${name}: {credentials_file: ${abs}}}`,
        data: { key: `remote.${name}.credentials_file`, value: options.credentials_file, path: abs },
      });
    }
  }
  return {
    name,
    url,
    location,
    options: options as RemoteOptions,
    sources,
    root: source.localRoot ?? '/',
    timeoutSeconds: config.get<number>('transfer.timeout') ?? 30,
  };
}

/**
 * Bring the data of one source pointer into `cache`: a directory's manifest first (it says which files
 * the directory needs; its lines are judged as it is parsed), then the files. Anything no store had is
 * an error naming the first missing object: imported data is all or nothing.
 */
export async function fetchPointerData(supply: ObjectSupply, cache: ObjectCache, pointer: Pointer, dataPath: string): Promise<{ fetched: SupplyResult; manifest?: Manifest }> {
  const total: SupplyResult = { fetched: 0, bytes: 0, failures: [], from: [] };
  const add = (r: SupplyResult) => {
    total.fetched += r.fetched;
    total.bytes += r.bytes;
    total.failures.push(...r.failures);
    for (const f of r.from) if (!total.from.includes(f)) total.from.push(f);
  };
  let manifest: Manifest | undefined;
  if (pointer.kind === 'dir') {
    const got = await fetchManifest(supply, cache, pointer.oid, dataPath);
    add(got.fetched);
    manifest = got.manifest;
    add(await supply.fetch(cache, manifest.entries.map((e) => ({ oid: e.oid, path: `${dataPath}/${e.path}`, size: e.size }))));
  } else {
    add(await supply.fetch(cache, [{ oid: pointer.oid, path: dataPath, size: pointer.size }]));
  }
  failIfMissing(total, dataPath);
  return { fetched: total, manifest };
}

/** A directory's manifest, fetched into `cache` when it lacks it, and parsed (its lines judged). */
export async function fetchManifest(supply: ObjectSupply, cache: ObjectCache, oid: Oid, dataPath: string): Promise<{ fetched: SupplyResult; manifest: Manifest }> {
  const fetched = await supply.fetch(cache, [{ oid, path: `${dataPath} (manifest)`, size: 0 }]);
  failIfMissing(fetched, dataPath);
  return { fetched, manifest: loadManifest(cache, oid, dataPath) };
}

function failIfMissing(r: SupplyResult, dataPath: string): void {
  if (r.failures.length === 0) return;
  const first = r.failures[0];
  throw new DvsError('SOURCE_OBJECTS_MISSING', `${dataPath}: ${r.failures.length === 1 ? 'an object' : `${r.failures.length} objects`} could not be fetched from the source (${first.path}: ${first.message})`, {
    hint: "The source's owners may not have pushed this version: ask them to run `dvs push`, or use another --rev.",
    data: { path: dataPath, failures: r.failures },
  });
}
