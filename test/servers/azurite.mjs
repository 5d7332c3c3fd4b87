// Azurite, the Azure Storage emulator (the `azurite` npm dev dependency), for tests and the benchmark:
// its blob service only, on 127.0.0.1, on a free port, with its data in a temp directory.
//
//   import { startAzurite, makeBlobServiceClient } from './azurite.mjs';
//   const server = await startAzurite();           // { endpoint, port, dir, connectionString, … }
//   const service = await makeBlobServiceClient(server);
//   await server.kill();                           // SIGKILL: a crash, for fault tests
//   const again = await startAzurite({ port: server.port, dir: server.dir });   // same data back
//   await server.stop();                           // and removes the temp dir it made
//
// Azurite runs in a child process started through this file (`node azurite.mjs --serve …`), which
// exits when the process that started it is gone, so a killed test run leaves no server behind.
// Flags: --silent (no access log), --disableTelemetry (no request leaves loopback),
// --skipApiVersionCheck (the SDK may be newer than the emulator), --loose (ignore headers the
// emulator does not know rather than fail). Accounts: the well-known development account
// devstoreaccount1 with its published key; URLs are path-style, http://127.0.0.1:PORT/devstoreaccount1.
//
// What @azure/storage-blob 12.x throws against it (RestError; branch on statusCode and code):
// - a wrong account key: 403, code AuthorizationFailure; a missing container: 404 ContainerNotFound;
//   a missing blob: 404 BlobNotFound (HEAD: code undefined, statusCode 404).
// - a block whose transactionalContentMD5 does not match its bytes: 400 Md5Mismatch.
// - nothing listening: RestError code ECONNREFUSED, statusCode undefined.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
// Azurite's published development key (the same in every copy of the emulator; not a secret).
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const require = createRequire(import.meta.url);
const HERE = fileURLToPath(import.meta.url);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start Azurite's blob service. `port` and `dir` given: the same server again after a kill. `accounts`
 * ([{ name, key }]) replaces the development account; connectionString then names the first.
 * Resolves once it listens (a few seconds on a busy machine).
 */
export async function startAzurite({ port, dir, accounts } = {}) {
  const made = !dir;
  const location = dir ?? mkdtempSync(join(tmpdir(), 'dvs-azurite-'));
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [HERE, '--serve', '--port', String(listenPort), '--dir', location, '--parent', String(process.pid)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Other accounts than the development one: `name:key;name:key` (they replace it).
    env: accounts ? { ...process.env, AZURITE_ACCOUNTS: accounts.map((a) => `${a.name}:${a.key}`).join(';') } : process.env,
  });
  let output = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within 60 s:\n${output}`)), 60_000);
    const fail = (err) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (d) => {
      output += d;
      if (/successfully listens on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => fail(new Error(`Azurite exited (${code}) before listening:\n${output}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  const account = accounts?.[0]?.name ?? AZURITE_ACCOUNT;
  const key = accounts?.[0]?.key ?? AZURITE_KEY;
  const endpoint = `http://127.0.0.1:${listenPort}/${account}`;
  const exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  let removed = false;
  return {
    endpoint,
    port: listenPort,
    dir: location,
    pid: child.pid,
    accountName: account,
    accountKey: key,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${endpoint};`,
    /** The connection string of another of its accounts. */
    connectionStringOf: (name, secret) => `DefaultEndpointsProtocol=http;AccountName=${name};AccountKey=${secret};BlobEndpoint=http://127.0.0.1:${listenPort}/${name};`,
    /** A crash: SIGKILL, connections reset, the data directory stays. */
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    /** Stop it, and remove the data directory if this call made it. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      if (made && !removed) {
        removed = true;
        rmSync(location, { recursive: true, force: true });
      }
    },
  };
}

/** A BlobServiceClient for `server` (from startAzurite), with the account key. */
export async function makeBlobServiceClient(server) {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  return BlobServiceClient.fromConnectionString(server.connectionString);
}

/** Child mode: run Azurite's blob service in this process, and exit when the parent is gone. */
async function serve(argv) {
  const arg = (name) => argv[argv.indexOf(name) + 1];
  const parent = Number(arg('--parent'));
  const main = require.resolve('azurite/dist/src/blob/main.js');
  process.argv = [
    process.argv[0],
    main,
    '--blobHost', '127.0.0.1',
    '--blobPort', arg('--port'),
    '--location', arg('--dir'),
    '--silent',
    '--disableTelemetry',
    '--skipApiVersionCheck',
    '--loose',
  ];
  if (parent) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        process.exit(0);
      }
    }, 1000).unref();
  }
  require(main);
}

if (process.argv[1] === HERE && process.argv.includes('--serve')) await serve(process.argv.slice(2));
