// Azure Blob remotes against Azurite (the Azure Storage emulator), beyond the conformance suite that every
// backend runs (remotes.test.ts, remote-repair.test.ts): the faults S3 and GCS are tested for (a server
// stopped in the middle of a push, a frozen server, wrong or missing credentials, an unreachable
// endpoint), every way of giving credentials, and the options of `dvs remote`. Every request goes to a
// real server on loopback.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, DVS, dvs, git, GIT_ENV, gitRepo, json, read, setDvsConfig as setDvsConfig, tempDir, writeTree } from '../helpers.js';
import { scaled } from '../timing.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, makeBlobServiceClient, startAzurite } from '../servers/azurite.mjs';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const CONTAINER = 'dvs-faults';
const FAULT_TEST_MS = 300_000;
/** Just over the block size (16 MiB): an upload in two staged blocks. */
const TWO_BLOCKS = (16 << 20) + (1 << 20);
/** The AZURE_STORAGE_* variables emptied, so that only what a test sets is used. */
const NO_AZURE_ENV = { AZURE_STORAGE_CONNECTION_STRING: '', AZURE_STORAGE_ACCOUNT: '', AZURE_STORAGE_KEY: '', AZURE_STORAGE_SAS_TOKEN: '' };

let server: any;
let service: any;

beforeAll(async () => {
  server = await startAzurite();
  service = await makeBlobServiceClient(server);
  await service.getContainerClient(CONTAINER).create();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  cleanupTempDirs();
});

let n = 0;
const prefix = () => `f${process.pid}-${n++}`;

function azureRemote(repo: string, pfx: string, connectionString = server.connectionString): void {
  setDvsConfig(repo, { 'remote.origin.url': `azure://${CONTAINER}/${pfx}`, 'core.remote': 'origin' });
  setDvsConfig(repo, { 'remote.origin.connection_string': connectionString }, 'config.local');
}

async function ok(cwd: string, args: string[], env?: Record<string, string>) {
  const r = await dvs(cwd, args, { env });
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A repository with one small tracked file. */
async function smallRepo(content = 'x'): Promise<string> {
  const repo = gitRepo();
  writeTree(repo, { 'x.bin': content });
  await ok(repo, ['track', 'x.bin']);
  return repo;
}

function background(cwd: string, args: string[]) {
  const child = spawn(process.execPath, [DVS, ...args], { cwd, env: { ...process.env, ...GIT_ENV, CI: 'true' } });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 120_000, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}

function allIntact(root: string): { count: number; bad: string[] } {
  const bad: string[] = [];
  let count = 0;
  if (!existsSync(root)) return { count, bad };
  for (const shard of readdirSync(root).filter((s) => /^[0-9a-f]{2}$/.test(s))) {
    for (const rest of readdirSync(join(root, shard))) {
      count++;
      if (sha(readFileSync(join(root, shard, rest))) !== shard + rest) bad.push(shard + rest);
    }
  }
  return { count, bad };
}

async function blobNames(svc: any, pfx: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of svc.getContainerClient(CONTAINER).listBlobsFlat({ prefix: `${pfx}/` })) names.push(b.name);
  return names;
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('Azure faults', () => {
  it('the server stops in the middle of a push: no partial blob, no early manifest; re-running completes; a killed pull too', async () => {
    const dir = tempDir();
    let own = await startAzurite({ dir });
    const port = own.port;
    let svc = await makeBlobServiceClient(own);
    await svc.getContainerClient(CONTAINER).create();
    const repo = gitRepo();
    const tree: Record<string, Buffer> = {};
    for (let i = 0; i < 30; i++) tree[`data/set/small-${String(i).padStart(3, '0')}.bin`] = randomBytes(2000 + i);
    tree['data/set/big-0.bin'] = randomBytes(TWO_BLOCKS); // staged in two blocks beside the small files
    writeTree(repo, tree);
    await ok(repo, ['track', 'data/set']);
    azureRemote(repo, 'p', own.connectionString);
    setDvsConfig(repo, { 'transfer.retries': 1 });
    const manifest = read(repo, 'data/set.dvs').match(/sha256:([0-9a-f]{64})/)![1];
    try {
      const bound = scaled(20_000);
      const push = background(repo, ['push', '-j', '2']);
      const caught = await until(async () => (await blobNames(svc, 'p').catch(() => [])).length >= 3, 120_000, 100);
      // Stopped, not killed: the emulator saves its index on the way down (a real service never loses
      // a committed blob; Azurite killed with SIGKILL forgets the last seconds of them).
      const t0 = Date.now();
      await own.kill('SIGTERM');
      const r = await push.done;
      expect(caught).toBe(true);
      if (r.code !== 0) {
        expect(r.code).toBe(7);
        expect(r.stderr).toContain(`Cannot reach remote "origin" at ${own.endpoint}`);
        expect(Date.now() - t0).toBeLessThan(bound);
      }
      own = await startAzurite({ port, dir });
      svc = await makeBlobServiceClient(own);
      const names = await blobNames(svc, 'p');
      if (r.code !== 0) expect(names).not.toContain(`p/${manifest.slice(0, 2)}/${manifest.slice(2)}`);
      for (const name of names) {
        const bytes = await svc.getContainerClient(CONTAINER).getBlockBlobClient(name).downloadToBuffer();
        expect(sha(bytes)).toBe(name.slice(2).replace('/', ''));
      }
      await ok(repo, ['push']);
      expect(await blobNames(svc, 'p')).toHaveLength(32);

      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'data');
      const clone = join(tempDir(), 'clone');
      git(repo, 'clone', '-q', repo, clone);
      setDvsConfig(clone, { 'remote.origin.connection_string': own.connectionString }, 'config.local');
      const pull = background(clone, ['pull', '-j', '2']);
      await until(() => allIntact(join(clone, '.dvs/cache')).count >= 2, 120_000, 10);
      pull.child.kill('SIGKILL');
      await pull.done;
      expect(allIntact(join(clone, '.dvs/cache')).bad).toEqual([]);
      await ok(clone, ['pull']);
      expect(allIntact(join(clone, '.dvs/cache'))).toEqual({ count: 32, bad: [] });
      expect(readFileSync(join(clone, 'data/set/big-0.bin')).equals(tree['data/set/big-0.bin'])).toBe(true);
    } finally {
      await own.stop();
    }
  }, FAULT_TEST_MS);

  it('wrong credentials: the message names the remote, the endpoint and where the credentials came from', async () => {
    const repo = await smallRepo();
    const pfx = prefix();
    const wrongKey = Buffer.from('not the key').toString('base64');
    azureRemote(repo, pfx, `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${wrongKey};BlobEndpoint=${server.endpoint};`);
    const r = await dvs(repo, ['push'], { env: NO_AZURE_ENV });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(`dvs: error: Remote "origin" (azure://${CONTAINER}/${pfx} at ${server.endpoint}) refused the credentials`);
    expect(r.stderr).toContain('(HTTP 403)');
    expect(r.stderr).toContain(`Credentials used: the connection string in .dvs/config.local (remote.origin.connection_string) (account key of "${AZURITE_ACCOUNT}")`);
    expect(r.stderr).toContain(`hint: Check the account key, SAS token or connection string for ${server.endpoint}`);

    // No credentials anywhere: said so, with what to set.
    setDvsConfig(repo, { 'remote.origin.connection_string': undefined }, 'config.local');
    const none = await dvs(repo, ['push'], { env: NO_AZURE_ENV });
    expect(none.code).toBe(7);
    expect(none.stderr).toContain('dvs: error: No Azure credentials for remote "origin"');
    expect(none.stderr).toContain('hint: Set one in the ignored local file');

    // A container that does not exist is fatal, and named.
    azureRemote(repo, pfx);
    setDvsConfig(repo, { 'remote.origin.url': 'azure://no-such-container/p' });
    const missing = await dvs(repo, ['push'], { env: NO_AZURE_ENV });
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain('dvs: error: The container "no-such-container" of remote "origin"');
  });

  it('takes credentials from the environment, an account key, or a SAS token (sent only to an endpoint this machine named)', async () => {
    const repo = await smallRepo('credentials');
    const pfx = prefix();
    setDvsConfig(repo, { 'remote.origin.url': `azure://${CONTAINER}/${pfx}`, 'core.remote': 'origin' });
    // AZURE_STORAGE_CONNECTION_STRING.
    const viaEnv = await ok(repo, ['push'], { ...NO_AZURE_ENV, AZURE_STORAGE_CONNECTION_STRING: server.connectionString });
    expect(viaEnv.stdout).toContain('Pushed 1 object');
    // account_name + endpoint committed, AZURE_STORAGE_KEY from the environment.
    setDvsConfig(repo, { 'remote.origin.account_name': AZURITE_ACCOUNT, 'remote.origin.endpoint': server.endpoint });
    rmSync(join(repo, '.git/dvs/tmp/remotes'), { recursive: true, force: true });
    const st = await dvs(repo, ['status', '--remote'], { env: { ...NO_AZURE_ENV, AZURE_STORAGE_KEY: AZURITE_KEY } });
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('Everything is on origin.');
    // account_key in config.local.
    await ok(repo, ['remote', 'modify', '--local', 'origin', 'account_key', AZURITE_KEY]);
    expect(json(await dvs(repo, ['verify', '--remote', '--json'], { env: NO_AZURE_ENV }))).toMatchObject({ checked: 1, problems: [] });
    await ok(repo, ['remote', 'modify', '--local', '--unset', 'origin', 'account_key']);

    // A SAS token: a bearer credential, so not sent to an endpoint only the committed config names.
    const { generateAccountSASQueryParameters, AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, StorageSharedKeyCredential } = await import('@azure/storage-blob');
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse('rwdlc'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
      },
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
    ).toString();
    await ok(repo, ['remote', 'modify', '--local', 'origin', 'sas_token', sas]);
    const refused = await dvs(repo, ['push'], { env: NO_AZURE_ENV });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`the committed .dvs/config sets its endpoint to ${server.endpoint}, and dvs sends a SAS token only to an endpoint this machine's config names`);
    expect(refused.stderr).toContain(`hint: If you trust it, confirm it for this clone: dvs remote modify --local origin endpoint ${server.endpoint}`);
    await ok(repo, ['remote', 'modify', '--local', 'origin', 'endpoint', server.endpoint]);
    writeTree(repo, { 'y.bin': 'with a sas' });
    await ok(repo, ['track', 'y.bin']);
    expect((await ok(repo, ['push'], NO_AZURE_ENV)).stdout).toContain('Pushed 1 object');
    expect(await blobNames(service, pfx)).toHaveLength(2);
    // The committed config holds no secret.
    expect(read(repo, '.dvs/config')).not.toMatch(/sig=|sas_token|account_key/);
  });

  it('a frozen server: requests stall, the command gives up in seconds', async () => {
    const own = await startAzurite();
    const svc = await makeBlobServiceClient(own);
    await svc.getContainerClient(CONTAINER).create();
    const repo = await smallRepo('frozen');
    azureRemote(repo, prefix(), own.connectionString);
    setDvsConfig(repo, { 'transfer.timeout': 1, 'transfer.retries': 1 });
    const bound = scaled(15_000);
    process.kill(own.pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      const r = await dvs(repo, ['push'], { env: NO_AZURE_ENV });
      expect(r.code).toBe(7);
      expect(r.stderr).toContain('did not answer');
      expect(Date.now() - t0).toBeLessThan(bound);
    } finally {
      process.kill(own.pid, 'SIGCONT');
      await own.stop();
    }
  });

  it('an unreachable endpoint fails within seconds, with a hint', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    const repo = await smallRepo();
    azureRemote(repo, 'p', `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`);
    const oid = read(repo, 'x.bin.dvs').match(/sha256:([0-9a-f]{64})/)![1];
    rmSync(join(repo, '.dvs/cache', oid.slice(0, 2), oid.slice(2)));
    for (const args of [['push'], ['status', '--remote'], ['pull', '--force']]) {
      const bound = scaled(10_000);
      const t0 = Date.now();
      const r = await dvs(repo, args, { env: NO_AZURE_ENV });
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(`dvs: error: Cannot reach remote "origin" at ${endpoint}: ECONNREFUSED`);
      expect(r.stderr).toContain(`hint: Check that the server at ${endpoint} is running`);
      expect(Date.now() - t0).toBeLessThan(bound);
    }
  });
});

describe('two storage accounts with a container of the same name', () => {
  it('are two remotes: what one holds says nothing about the other', async () => {
    const accounts = [
      { name: 'teamone', key: Buffer.from('key of team one').toString('base64') },
      { name: 'teamtwo', key: Buffer.from('key of team two').toString('base64') },
    ];
    const own = await startAzurite({ accounts });
    try {
      const { BlobServiceClient } = await import('@azure/storage-blob');
      const strings = accounts.map((a) => own.connectionStringOf(a.name, a.key));
      for (const cs of strings) await BlobServiceClient.fromConnectionString(cs).getContainerClient('data').create();
      const repo = await smallRepo('in two accounts');
      setDvsConfig(repo, { 'remote.origin.url': 'azure://data/p', 'core.remote': 'origin' });
      setDvsConfig(repo, { 'remote.origin.connection_string': strings[0] }, 'config.local');
      expect((await ok(repo, ['push'], NO_AZURE_ENV)).stdout).toContain('Pushed 1 object');
      // The same URL in the other account: this clone's record of the first must not answer for it.
      setDvsConfig(repo, { 'remote.origin.connection_string': strings[1] }, 'config.local');
      expect((await ok(repo, ['push'], NO_AZURE_ENV)).stdout).toContain('Pushed 1 object');
      const names = [];
      for await (const b of BlobServiceClient.fromConnectionString(strings[1]).getContainerClient('data').listBlobsFlat({ prefix: 'p/' })) names.push(b.name);
      expect(names).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });
});

describe('the Azure SDK loads only when an Azure remote is used', () => {
  it('dvs status does not load it; status --remote does', async () => {
    const repo = await smallRepo('lazy');
    azureRemote(repo, prefix());
    // A module hook that notes every @azure/* module Node loads into a file.
    const dir = tempDir();
    const log = join(dir, 'loaded.txt');
    writeFileSync(join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function resolve(specifier, context, next) {\n  if (specifier.startsWith('@azure/')) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');\n  return next(specifier, context);\n}\n`);
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
    // The test helpers drop NODE_OPTIONS, so the hook is given on the command line.
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, DVS, ...args], { cwd: repo, env: { ...process.env, ...GIT_ENV, CI: 'true', ...NO_AZURE_ENV }, encoding: 'utf8' });
    expect(run(['status']).status).toBe(0);
    expect(existsSync(log)).toBe(false);
    expect(run(['status', '--remote']).status).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('@azure/storage-blob');
  });
});

describe('dvs remote with an Azure remote', () => {
  it('takes azure:// URLs and the Azure options; keys, connection strings and SAS tokens only in config.local', async () => {
    const repo = gitRepo();
    await ok(repo, ['remote', 'add', 'blob', 'azure://datasets/team/v1']);
    expect((await dvs(repo, ['remote', 'add', 'bad', 'azure://Bad_Name/x'])).stderr).toContain('"Bad_Name" is not a valid container name');
    await ok(repo, ['remote', 'modify', 'blob', 'account_name', 'mystorage']);
    for (const secret of ['account_key', 'connection_string', 'sas_token']) {
      const r = await dvs(repo, ['remote', 'modify', 'blob', secret, 'shh']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`hint: Store it in the ignored local file: dvs remote modify --local blob ${secret} <value>`);
    }
    await ok(repo, ['remote', 'modify', '--local', 'blob', 'sas_token', 'sv=2024&sig=shh']);
    expect(read(repo, '.dvs/config')).not.toContain('shh');
    expect(read(repo, '.dvs/config.local')).toContain('sas_token: sv=2024&sig=shh');
    const list = await dvs(repo, ['remote', 'list']);
    expect(list.stdout).toBe('  blob  azure://datasets/team/v1  (account_name=mystorage sas_token=(secret) format=packed)\n');
  });
});
