import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { open as openLocal } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, posix, resolve } from 'node:path';
import { Readable } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientErrorExtensions, ConnectConfig, FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { errnoCode } from '../errors.js';
import { isOid, shortOid, type Oid } from '../objects/oid.js';
import { isOrphanedTemp, ownedTempPrefix } from '../base/temp-names.js';
import { abortedError, RemoteError } from './errors.js';
import { cap, checkSource, CONNECT_TIMEOUT_MS, notOnRemote, packGone, sourceUnreadable, translateFailure, unreachable } from './common.js';
import { checkHostKey, fingerprint, hostKeyName, keyType, parseKnownHosts } from './known-hosts.js';
import { isPackFileName, MARKER_NAME, type ByteRange, type CallOptions, type DownloadSource, type ListedObject, type PackFileInfo, type RemoteBackend, type RemoteSpec, type UploadSource } from './types.js';

/**
 * A directory on an SSH server, through SFTP, in the layout of a directory remote (`<path>/ab/cdef…`,
 * uploads in `<path>/tmp/`), so the same directory also works as a local remote on the server itself.
 *
 * An upload is written to a temp name in `tmp/` while its source is hashed, and renamed into place
 * (posix-rename@openssh.com) only when the bytes hashed to the oid. Reads and writes are pipelined
 * (several requests in flight per file) and spread over a few connections, each with one SFTP channel.
 * Host keys are checked against known_hosts, never accepted silently. A dropped connection is
 * re-opened by the next request; the queue retries the one that failed. Packs and indexes
 * (docs/remote-format.md) are files in `<path>/packs/`, put like objects; a ranged read is reads at
 * those offsets.
 */
const { Client, utils } = ssh2;

/** Connections kept open; requests go round-robin. Measured on 10,000 × 10 KiB (README benchmarks). */
const CONNECTIONS = 2;
/** Bytes per SFTP read or write request, and how many of them one file keeps in flight. */
const CHUNK = 64 << 10;
const WINDOW = 16;
/** Files read whole and sent in one go (the queue's small objects). */
const SMALL = 1 << 20;
/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;

interface Session {
  client: InstanceType<typeof Client>;
  sftp: SFTPWrapper;
  dead: boolean;
  posixRename: boolean;
}

export class SshBackend implements RemoteBackend {
  readonly scheme = 'ssh' as const;
  readonly display: string;
  readonly defaultJobs = 16;
  readonly statBatchSize = 64;
  readonly listPageSize = 100_000;
  readonly network = true;
  private readonly root: string;
  private readonly tmpDir: string;
  private readonly host: string;
  private readonly port: number;
  private readonly user: string;
  private readonly endpoint: string;
  private readonly sessions: Array<Promise<Session> | undefined> = new Array(CONNECTIONS).fill(undefined);
  private next = 0;
  private readonly madeDirs = new Set<string>();
  private tmpReady: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly spec: RemoteSpec,
    private readonly auth: Auth,
    private readonly knownHosts: KnownHosts,
  ) {
    if (spec.location.scheme !== 'ssh') throw new Error('SshBackend needs an ssh location');
    const l = spec.location;
    this.root = l.path;
    this.tmpDir = posix.join(this.root, 'tmp');
    this.host = l.host;
    this.port = spec.options.port ?? l.port ?? 22;
    this.user = spec.options.user ?? l.user ?? localUser();
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.endpoint = `ssh://${this.user}@${host}:${this.port}`;
    this.display = `ssh://${this.user}@${host}${this.port === 22 ? '' : `:${this.port}`}${this.root}`;
  }

  static async open(spec: RemoteSpec): Promise<SshBackend> {
    const backend = new SshBackend(spec, loadAuth(spec), loadKnownHosts(spec));
    // Connect now: an unreachable host, an unknown host key or refused credentials fail before any
    // transfer starts, once, with their own message.
    await backend.session(0);
    return backend;
  }

  private pathOf(oid: Oid): string {
    return posix.join(this.root, oid.slice(0, 2), oid.slice(2));
  }

  // ---- connections ----------------------------------------------------------------------------

  private session(index = this.next++ % CONNECTIONS): Promise<Session> {
    const current = this.sessions[index];
    if (current) {
      return current.then((s) => {
        if (!s.dead) return s;
        if (this.sessions[index] !== current) return this.session(index);
        s.client.end();
        return this.reopen(index);
      });
    }
    return this.reopen(index);
  }

  private reopen(index: number): Promise<Session> {
    if (this.closed) return Promise.reject(abortedError());
    const opening = this.connect();
    this.sessions[index] = opening;
    // A failed connection is not kept: the next request tries again (the queue decides how often).
    opening.catch(() => {
      if (this.sessions[index] === opening) this.sessions[index] = undefined;
    });
    return opening;
  }

  private async connect(): Promise<Session> {
    const sock = await this.tcp();
    return new Promise<Session>((ok, fail) => {
      const client = new Client();
      let hostProblem: RemoteError | undefined;
      let settled = false;
      const failOnce = (err: RemoteError) => {
        if (settled) return;
        settled = true;
        client.end();
        sock.destroy();
        fail(err);
      };
      const config: ConnectConfig = {
        sock,
        username: this.user,
        readyTimeout: this.spec.timeoutSeconds * 1000,
        keepaliveInterval: 10_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          hostProblem = this.knownHosts.problem(this.host, this.port, key);
          return hostProblem === undefined;
        },
        authHandler: this.auth.methods.map((m) => ({ ...m, username: this.user })) as ConnectConfig['authHandler'],
      };
      client.on('error', (err: Error & ClientErrorExtensions) => {
        if (hostProblem) return failOnce(hostProblem);
        failOnce(this.connectError(err));
      });
      client.on('close', () => failOnce(this.connectError(new Error('the server closed the connection during the handshake'))));
      client.on('ready', () => {
        client.sftp((err, sftp) => {
          if (err) return failOnce(this.connectError(err));
          if (settled) return;
          settled = true;
          const session: Session = { client, sftp, dead: false, posixRename: hasExtension(sftp, 'posix-rename@openssh.com') };
          const lost = () => {
            session.dead = true;
          };
          client.on('close', lost);
          client.on('error', lost);
          sftp.on('close', lost);
          ok(session);
        });
      });
      client.connect(config);
    });
  }

  /** The TCP connection, made here so that an unreachable host fails within CONNECT_TIMEOUT_MS. */
  private tcp(): Promise<Socket> {
    return new Promise((ok, fail) => {
      const socket = tcpConnect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        socket.destroy();
        fail(unreachable(this.spec.name, this.endpoint, `no connection within ${CONNECT_TIMEOUT_MS / 1000} s`, 'connect-timeout', undefined));
      }, CONNECT_TIMEOUT_MS);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        ok(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        fail(unreachable(this.spec.name, this.endpoint, errnoCode(err) ?? err.message, 'unreachable', err));
      });
    });
  }

  private connectError(err: Error & Partial<ClientErrorExtensions>): RemoteError {
    if (err instanceof RemoteError) return err;
    if (err.level === 'client-authentication') {
      return new RemoteError('REMOTE_AUTH', `${cap(this.where())} refused the credentials of user "${this.user}": ${err.message}. Tried: ${this.auth.tried.join('; ') || 'nothing (no key, agent or password found)'}`, {
        reason: 'auth',
        fatal: true,
        hint: `Add your public key to ~${this.user}/.ssh/authorized_keys on ${this.host} (ssh-copy-id${this.port === 22 ? '' : ` -p ${this.port}`} ${this.user}@${this.host}), start an agent with the key (ssh-add), or name a key: dvs remote modify --local ${this.spec.name} key_file ~/.ssh/id_ed25519`,
        data: { remote: this.spec.name, endpoint: this.endpoint, tried: this.auth.tried },
        cause: err,
      });
    }
    if (err.level === 'client-timeout') {
      return unreachable(this.spec.name, this.endpoint, `no SSH handshake within ${this.spec.timeoutSeconds} s`, 'connect-timeout', err);
    }
    return translateFailure({ ...this.facts('connecting', err), network: true });
  }

  // ---- requests ---------------------------------------------------------------------------------

  /** One SFTP request on the next connection; a connection that died meanwhile is replaced next time. */
  private async request<T>(call: CallOptions, doing: string, oid: Oid | undefined, fn: (sftp: SFTPWrapper, s: Session) => Promise<T>): Promise<T> {
    if (call.signal.aborted) throw abortedError();
    const session = await this.session();
    try {
      return await abortable(call.signal, fn(session.sftp, session));
    } catch (err) {
      // A stalled request (the queue aborted it) leaves its connection suspect: the next one gets a new one.
      if (session.dead || isChannelGone(err) || call.signal.aborted) session.dead = true;
      throw this.translate(err, doing, oid, session.dead);
    }
  }

  async stat(oids: readonly Oid[], call: CallOptions): Promise<Array<number | undefined>> {
    return this.request(call, 'checking', undefined, (sftp) =>
      Promise.all(
        oids.map(async (oid) => {
          try {
            return (await sftpCall<Stats>((cb) => sftp.stat(this.pathOf(oid), cb))).size;
          } catch (err) {
            if (sftpCode(err) === NO_SUCH_FILE) return undefined;
            throw err;
          }
        }),
      ),
    );
  }

  async *list(shard: string | undefined, call: CallOptions): AsyncIterable<ListedObject[]> {
    let shards: string[];
    if (shard !== undefined) shards = [shard];
    else {
      const top = await this.readdir(this.root, call);
      shards = top.map((e) => e.filename).filter((s) => /^[0-9a-f]{2}$/.test(s)).sort();
    }
    for (const s of shards) {
      const page: ListedObject[] = [];
      for (const e of await this.readdir(posix.join(this.root, s), call)) {
        const oid = s + e.filename;
        if (isOid(oid)) page.push({ oid, size: e.attrs.size, modified: new Date(e.attrs.mtime * 1000) });
      }
      page.sort((a, b) => (a.oid < b.oid ? -1 : 1));
      if (page.length) yield page;
    }
  }

  /** A directory's entries; none when it does not exist. */
  private readdir(dir: string, call: CallOptions): Promise<FileEntryWithStats[]> {
    return this.request(call, 'listing', undefined, async (sftp) => {
      try {
        return await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb));
      } catch (err) {
        if (sftpCode(err) === NO_SUCH_FILE) return [];
        throw err;
      }
    });
  }

  async upload(source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.pathOf(source.oid), call);
  }

  /** In `packs/`, as a directory remote keeps them: the same temp file, hash check and rename as an object. */
  async putPackFile(name: string, source: UploadSource, call: CallOptions): Promise<void> {
    return this.put(source, this.packPath(name), call);
  }

  private packPath(name: string): string {
    return posix.join(this.root, 'packs', name);
  }

  private async put(source: UploadSource, to: string, call: CallOptions): Promise<void> {
    await this.prepareTmp(call);
    const tmp = posix.join(this.tmpDir, ownedTempPrefix());
    await this.request(call, 'uploading', source.oid, async (sftp, session) => {
      try {
        const handle = await this.writeVerified(sftp, tmp, source, call);
        // The server handles one channel's requests in order: the rename goes out with the close, not
        // a round trip later, and finds the file complete.
        const closed = sftpCall<void>((cb) => sftp.close(handle, cb));
        const moved = this.moveIntoPlace(sftp, session, tmp, to);
        await Promise.all([closed, moved]);
      } catch (err) {
        // Best effort: a temp file left by a dropped connection is removed by the next run's cleanup.
        if (!session.dead) sftp.unlink(tmp, () => undefined);
        throw err;
      }
    });
  }

  /**
   * Write the source to `tmp`, hashing as it goes, and return the open handle; throws (the handle
   * closed) if the bytes do not hash to the oid, so the caller never renames them into place.
   */
  private async writeVerified(sftp: SFTPWrapper, tmp: string, source: UploadSource, call: CallOptions): Promise<Buffer> {
    let local;
    try {
      local = await openLocal(source.path, 'r');
    } catch (err) {
      throw sourceUnreadable(source, err);
    }
    try {
      const handle = await sftpCall<Buffer>((cb) => sftp.open(tmp, 'w', cb));
      try {
        const sha = createHash('sha256');
        let position = 0;
        const inFlight = new Set<Promise<void>>();
        const blockSize = source.size <= SMALL ? Math.max(source.size, 1) : CHUNK;
        for (;;) {
          const buf = Buffer.allocUnsafe(blockSize);
          const { bytesRead } = await local.read(buf, 0, blockSize, position);
          if (bytesRead === 0) break;
          const chunk = buf.subarray(0, bytesRead);
          sha.update(chunk);
          const at = position;
          position += bytesRead;
          const write = sftpCall<void>((cb) => sftp.write(handle, chunk, 0, chunk.length, at, cb as never)).then(() => call.onBytes?.(chunk.length));
          inFlight.add(write);
          write.then(() => inFlight.delete(write), () => undefined);
          if (inFlight.size >= WINDOW) await Promise.race(inFlight);
          if (bytesRead < blockSize && position >= source.size) break;
        }
        await Promise.all(inFlight);
        if (position !== source.size) throw new RemoteError('SOURCE_CORRUPTED', `the cache object ${shortOid(source.oid)} has ${position} bytes, not ${source.size}; not uploaded`, { reason: 'source-corrupt' });
        checkSource(source, sha.digest('hex'));
        return handle;
      } catch (err) {
        sftp.close(handle, () => undefined);
        throw err;
      }
    } finally {
      await local.close();
    }
  }

  /** Rename over whatever is there (the same bytes: names are hashes); make the shard dir on first use. */
  private async moveIntoPlace(sftp: SFTPWrapper, session: Session, from: string, to: string): Promise<void> {
    const rename = () => sftpCall<void>((cb) => (session.posixRename ? sftp.ext_openssh_rename(from, to, cb) : sftp.rename(from, to, cb)));
    try {
      await rename();
    } catch (err) {
      const dir = posix.dirname(to);
      if (sftpCode(err) === NO_SUCH_FILE) {
        // The folder was missing, or another upload of this run made it just after this rename failed:
        // once it is there, one more try (a second "no such file" is then about the temp file, thrown).
        if (!this.madeDirs.has(dir)) {
          await mkdirp(sftp, dir);
          this.madeDirs.add(dir);
        }
        await rename();
        return;
      }
      // Plain SFTP rename refuses to replace: an object already there is the same object.
      if (!session.posixRename && (await exists(sftp, to))) {
        sftp.unlink(from, () => undefined);
        return;
      }
      throw err;
    }
  }

  /** Make `tmp/` once per run, and remove what killed uploads of this host left in it. */
  private prepareTmp(call: CallOptions): Promise<void> {
    this.tmpReady ??= this.request(call, 'creating', undefined, async (sftp) => {
      await mkdirp(sftp, this.tmpDir);
      const names = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(this.tmpDir, cb));
      await Promise.all(names.filter((e) => isOrphanedTemp(e.filename)).map((e) => sftpCall<void>((cb) => sftp.unlink(posix.join(this.tmpDir, e.filename), cb)).catch(() => undefined)));
    });
    this.tmpReady.catch(() => (this.tmpReady = undefined));
    return this.tmpReady;
  }

  async download(oid: Oid, call: CallOptions): Promise<DownloadSource> {
    return this.read(this.pathOf(oid), undefined, call, 'downloading', oid, () => notOnRemote(this.spec.name, oid));
  }

  async readPackFile(name: string, range: ByteRange | undefined, call: CallOptions): Promise<DownloadSource> {
    return this.read(this.packPath(name), range, call, `downloading pack file ${name.slice(0, 12)}…`, undefined, () => packGone(this.spec.name, name));
  }

  /**
   * A file's bytes, or `range` of them (reads at those offsets: SFTP has no other way); `gone` is the
   * error for a file that is not there, or shorter than the range.
   */
  private read(path: string, range: ByteRange | undefined, call: CallOptions, doing: string, oid: Oid | undefined, gone: () => RemoteError): Promise<DownloadSource> {
    return this.request(call, doing, oid, async (sftp, session) => {
      // Open and stat together: one round trip, not two.
      const opened = sftpCall<Buffer>((cb) => sftp.open(path, 'r', cb));
      const stat = sftpCall<Stats>((cb) => sftp.stat(path, cb));
      const [handle, stats] = await Promise.allSettled([opened, stat]);
      if (handle.status === 'rejected') throw sftpCode(handle.reason) === NO_SUCH_FILE ? gone() : handle.reason;
      const { start, end } = range ?? { start: 0, end: stats.status === 'fulfilled' ? stats.value.size : 0 };
      if (stats.status === 'rejected' || end > stats.value.size) {
        sftp.close(handle.value, () => undefined);
        throw stats.status === 'rejected' ? stats.reason : gone();
      }
      const translate = (err: unknown) => this.translate(err, doing, oid, session.dead || isChannelGone(err));
      return { type: 'stream', size: end - start, stream: pipelinedReader(sftp, handle.value, start, end, translate) };
    });
  }

  async delete(oids: readonly Oid[], call: CallOptions): Promise<void> {
    return this.unlinkAll(oids.map((oid) => this.pathOf(oid)), call, 'deleting');
  }

  async deletePackFiles(names: readonly string[], call: CallOptions): Promise<void> {
    return this.unlinkAll(names.map((name) => this.packPath(name)), call, 'deleting pack files');
  }

  /** Remove files (one request each, pipelined on one channel); missing ones are not an error. */
  private async unlinkAll(paths: readonly string[], call: CallOptions, doing: string): Promise<void> {
    await this.request(call, doing, undefined, (sftp) =>
      Promise.all(
        paths.map(async (path) => {
          try {
            await sftpCall<void>((cb) => sftp.unlink(path, cb));
          } catch (err) {
            if (sftpCode(err) !== NO_SUCH_FILE) throw err;
          }
        }),
      ),
    );
  }

  /** `packs/` in one readdir (the server sends its entries a few hundred per reply). */
  async *listPackFiles(call: CallOptions): AsyncIterable<PackFileInfo[]> {
    const page: PackFileInfo[] = [];
    for (const e of await this.readdir(posix.join(this.root, 'packs'), call)) {
      if (isPackFileName(e.filename)) page.push({ name: e.filename, size: e.attrs.size, modified: new Date(e.attrs.mtime * 1000) });
    }
    yield page;
  }

  async readMarker(call: CallOptions): Promise<string | undefined> {
    return this.request(call, 'reading the epoch marker', undefined, async (sftp) => {
      try {
        const data = await sftpCall<Buffer>((cb) => sftp.readFile(posix.join(this.root, MARKER_NAME), cb as never));
        return data.toString('utf8').trim();
      } catch (err) {
        if (sftpCode(err) === NO_SUCH_FILE) return undefined;
        throw err;
      }
    });
  }

  async writeMarker(value: string, call: CallOptions): Promise<void> {
    await this.prepareTmp(call);
    const tmp = posix.join(this.tmpDir, ownedTempPrefix());
    await this.request(call, 'writing the epoch marker', undefined, async (sftp, session) => {
      await sftpCall<void>((cb) => sftp.writeFile(tmp, value + '\n', cb));
      await this.moveIntoPlace(sftp, session, tmp, posix.join(this.root, MARKER_NAME));
    });
  }

  async cleanup(olderThanMs: number, call: CallOptions): Promise<number> {
    const cutoff = (Date.now() - olderThanMs) / 1000;
    const stale = (await this.readdir(this.tmpDir, call)).filter((e) => e.attrs.mtime < cutoff);
    await this.request(call, 'removing temp files', undefined, (sftp) =>
      Promise.all(stale.map((e) => sftpCall<void>((cb) => sftp.unlink(posix.join(this.tmpDir, e.filename), cb)).catch(() => undefined))),
    );
    return stale.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    const open = this.sessions.splice(0);
    await Promise.all(open.map((p) => p?.then((s) => s.client.end(), () => undefined)));
  }

  // ---- errors -----------------------------------------------------------------------------------

  private where(): string {
    return `remote "${this.spec.name}" (${this.display})`;
  }

  private facts(doing: string, err: unknown, oid?: Oid) {
    return {
      remote: this.spec.name,
      endpoint: this.endpoint,
      where: this.where(),
      doing,
      oid,
      detail: (err as Error)?.message ?? String(err),
      notFound: false,
      connectTimeout: false,
      network: false,
      throttled: false,
      serverError: false,
      cause: err,
    };
  }

  private translate(err: unknown, doing: string, oid: Oid | undefined, connectionLost: boolean): RemoteError {
    if (err instanceof RemoteError) return err;
    const code = sftpCode(err);
    if (code === PERMISSION_DENIED) {
      return new RemoteError('REMOTE_REFUSED', `${cap(this.where())}: ${doing}${oid ? ` ${shortOid(oid)}` : ''} failed: permission denied`, {
        reason: 'refused',
        fatal: true,
        hint: `User "${this.user}" needs to read and write ${this.root} on ${this.host} (its shard folders and tmp/ too).`,
        data: { remote: this.spec.name, path: this.root },
        cause: err,
      });
    }
    return translateFailure({ ...this.facts(doing, err, oid), network: connectionLost || code === undefined });
  }
}

// ---- credentials and host keys ------------------------------------------------------------------

interface Auth {
  methods: Array<Record<string, unknown>>;
  /** What will be offered, for the message when the server refuses all of it. */
  tried: string[];
}

function expandHome(path: string, root: string): string {
  if (path === '~' || path.startsWith('~/')) return posix.join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(root, path);
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/**
 * What to sign in with, in ssh's order: the key file the remote names (alone, as `IdentitiesOnly`
 * would), else the agent and the default keys in ~/.ssh; then the password from config.local.
 */
function loadAuth(spec: RemoteSpec): Auth {
  const methods: Auth['methods'] = [];
  const tried: string[] = [];
  const o = spec.options;
  if (o.key_file !== undefined) {
    const file = expandHome(o.key_file, spec.root);
    methods.push({ type: 'publickey', key: readKey(spec, file, true) });
    tried.push(`the key ${file} (remote.${spec.name}.key_file, ${spec.sources.key_file})`);
  } else {
    const agent = process.env.SSH_AUTH_SOCK;
    if (agent) {
      methods.push({ type: 'agent', agent });
      tried.push(`the SSH agent (SSH_AUTH_SOCK=${agent})`);
    }
    for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
      const file = posix.join(homedir(), '.ssh', name);
      const key = existsSync(file) ? readKey(spec, file, false) : undefined;
      if (key === undefined) continue;
      methods.push({ type: 'publickey', key });
      tried.push(`the key ${file}`);
    }
  }
  if (o.password !== undefined) {
    methods.push({ type: 'password', password: o.password });
    tried.push(`the password (remote.${spec.name}.password, ${spec.sources.password})`);
  }
  return { methods, tried };
}

/** A private key; a named one that cannot be used is an error, a default one is skipped as ssh does. */
function readKey(spec: RemoteSpec, file: string, named: boolean): Buffer | undefined {
  const fail = (why: string, hint: string) => {
    if (!named) return undefined;
    throw new RemoteError('REMOTE_AUTH', `Remote "${spec.name}": cannot use the SSH key ${file} (remote.${spec.name}.key_file): ${why}`, { reason: 'auth', fatal: true, hint, data: { remote: spec.name, path: file } });
  };
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    return fail(errnoCode(err) === 'ENOENT' ? 'no such file' : (err as Error).message, `Fix the path: dvs remote modify --local ${spec.name} key_file <private key file>`);
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    return fail(encrypted ? 'it is protected by a passphrase' : parsed.message, encrypted ? `Load it into the agent instead (ssh-add ${file}) and unset key_file: dvs remote modify --local --unset ${spec.name} key_file` : 'Name an OpenSSH or PEM private key file (not the .pub).');
  }
  return data;
}

interface KnownHosts {
  problem(host: string, port: number, key: Buffer): RemoteError | undefined;
}

/** The known_hosts file the remote names, else ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts. */
function loadKnownHosts(spec: RemoteSpec): KnownHosts {
  const files = spec.options.known_hosts !== undefined ? [expandHome(spec.options.known_hosts, spec.root)] : [posix.join(homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const entries = files.flatMap((file) => {
    try {
      return parseKnownHosts(readFileSync(file, 'utf8'), file);
    } catch {
      return [];
    }
  });
  const userFile = files[0];
  return {
    problem(host, port, key) {
      const verdict = checkHostKey(entries, host, port, key);
      if (verdict.status === 'known') return undefined;
      const print = fingerprint(key);
      const name = hostKeyName(host, port);
      const data = { remote: spec.name, host: name, fingerprint: print, keyType: keyType(key), knownHosts: files };
      if (verdict.status === 'unknown') {
        return new RemoteError('REMOTE_HOST_UNKNOWN', `Remote "${spec.name}": the host key of ${name} is not known (${keyType(key)} ${print}); not connecting to a server dvs cannot identify`, {
          reason: 'auth',
          fatal: true,
          hint: `Compare ${print} with the server's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub, run on the server), then accept it: ssh-keyscan${port === 22 ? '' : ` -p ${port}`} ${host} >> ${userFile}`,
          data,
        });
      }
      return new RemoteError('REMOTE_HOST_KEY_CHANGED', `Remote "${spec.name}": the host key of ${name} (${keyType(key)} ${print}) ${verdict.status === 'revoked' ? 'is revoked' : 'differs from the one recorded'} in ${verdict.file} line ${verdict.line}; someone may be intercepting the connection`, {
        reason: 'auth',
        fatal: true,
        hint: `If the server's key was changed on purpose, remove the old one (ssh-keygen -R '${name}' -f ${verdict.file}) and accept the new one after checking its fingerprint.`,
        data,
      });
    },
  };
}

// ---- SFTP helpers -------------------------------------------------------------------------------

function sftpCall<T>(start: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((ok, fail) => {
    try {
      start((err, value) => (err ? fail(err) : ok(value as T)));
    } catch (err) {
      fail(err);
    }
  });
}

function abortable<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(abortedError());
  return new Promise((ok, fail) => {
    const onAbort = () => fail(Object.assign(new Error('the request was abandoned (stalled or cancelled)'), { name: 'AbortError' }));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(ok, fail).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sftpCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** ssh2's words for a channel or connection that went away (no SFTP status code). */
function isChannelGone(err: unknown): boolean {
  return sftpCode(err) === undefined && /No response from server|not connected|channel|closed|ECONNRESET|EPIPE|write after end/i.test((err as Error)?.message ?? '');
}

function hasExtension(sftp: SFTPWrapper, name: string): boolean {
  return (sftp as unknown as { _extensions?: Record<string, string> })._extensions?.[name] === '1';
}

async function exists(sftp: SFTPWrapper, path: string): Promise<boolean> {
  try {
    await sftpCall<Stats>((cb) => sftp.stat(path, cb));
    return true;
  } catch {
    return false;
  }
}

/** mkdir -p: from the deepest missing folder down; a folder made meanwhile by another upload is fine. */
async function mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
  if (await exists(sftp, dir)) return;
  const parent = posix.dirname(dir);
  if (parent !== dir) await mkdirp(sftp, parent);
  try {
    await sftpCall<void>((cb) => sftp.mkdir(dir, cb));
  } catch (err) {
    if (!(await exists(sftp, dir))) throw err;
  }
}

/** Bytes `[start, end)` of a file as a stream, with WINDOW reads in flight: one request at a time would be latency-bound. */
function pipelinedReader(sftp: SFTPWrapper, handle: Buffer, start: number, end: number, translate: (err: unknown) => Error): Readable {
  let requested = start;
  const pending: Array<Promise<Buffer>> = [];
  const fill = () => {
    while (pending.length < WINDOW && requested < end) {
      const at = requested;
      const len = Math.min(CHUNK, end - at);
      requested += len;
      const p = new Promise<Buffer>((ok, fail) => {
        const buf = Buffer.allocUnsafe(len);
        sftp.read(handle, buf, 0, len, at, (err, n) => (err ? fail(err) : n === len ? ok(buf) : fail(Object.assign(new Error(`short read at ${at}`), { code: undefined }))));
      });
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  const release = () => sftp.close(handle, () => undefined);
  return new Readable({
    async read() {
      fill();
      const next = pending.shift();
      if (!next) {
        this.push(null);
        return;
      }
      try {
        this.push(await next);
      } catch (err) {
        this.destroy(translate(err));
      }
    },
    destroy(err, cb) {
      release();
      cb(err);
    },
  });
}
