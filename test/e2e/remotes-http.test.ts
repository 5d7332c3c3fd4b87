// HTTP(S) remotes against Debian's nginx serving the directory a local-remote push filled: a dataset
// published on a static web server. Read-only (push, gc --remote and track --to-remote refused before
// any work), basic and bearer auth from this machine's config only, a private CA, redirects, and the
// faults the other backends are tested for: wrong credentials, an unreachable port failing in seconds,
// the server stopped mid-pull (re-running finishes) and altered bytes refused.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, DVS, dvs, git, GIT_ENV, gitRepo, json, PROJECT, read, setDvsConfig, tempDir, writeTree } from '../helpers.js';
import { scaled } from '../timing.js';
import { NGINX_MISSING, skipHttp, startNginx } from '../servers/nginx.mjs';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const BIG = randomBytes(3 << 20);

let server: Awaited<ReturnType<typeof startNginx>>;
let publisher: string;
let store: string;

async function ok(cwd: string, args: string[]) {
  const r = await dvs(cwd, args);
  if (r.code !== 0) throw new Error(`dvs ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

const oidOf = (repo: string, pointer: string) => read(repo, pointer).match(/sha256:([0-9a-f]{64})/)![1];

function cacheObjects(repo: string): string[] {
  const root = join(repo, '.dvs/cache');
  const out: string[] = [];
  if (!existsSync(root)) return out;
  for (const s of readdirSync(root).filter((d) => /^[0-9a-f]{2}$/.test(d))) for (const n of readdirSync(join(root, s))) out.push(s + n);
  return out;
}

/** A clone of the publisher whose only remote is `url` (in .dvs/config unless `file` says). */
function cloneWith(url: string, file = 'config'): string {
  const dir = tempDir();
  git(publisher, 'clone', '-q', publisher, dir);
  setDvsConfig(dir, { 'remote.store': undefined, 'core.remote': undefined });
  setDvsConfig(dir, { 'remote.web.url': url, 'core.remote': 'web' }, file);
  return dir;
}

function closedPort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

beforeAll(async () => {
  if (skipHttp) return;
  publisher = gitRepo();
  writeTree(publisher, { 'data/a.csv': 'id,x\n1,2\n', 'data/sub/b.csv': 'id,x\n3,4\n', 'model.bin': 'weights-v1' });
  writeFileSync(join(publisher, 'big.bin'), BIG);
  await ok(publisher, ['track', 'data', 'model.bin', 'big.bin']);
  store = tempDir('dvs-store-');
  await ok(publisher, ['remote', 'add', '--default', 'store', store]);
  git(publisher, 'add', '-A');
  git(publisher, 'commit', '-q', '-m', 'data');
  await ok(publisher, ['push']);
  server = await startNginx({ root: store, https: true });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  cleanupTempDirs();
});

describe.skipIf(skipHttp)(`HTTP(S) remote on nginx${skipHttp ? ` (skipped: ${NGINX_MISSING})` : ''}`, () => {
  it('a clone pulls identical bytes; fetch, status --remote and verify --remote --deep read it', async () => {
    const b = cloneWith(server.url('public'));
    const st = await dvs(b, ['status', '--remote', '--exit-code']);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('Everything is on web.');
    const fetched = await ok(b, ['fetch']);
    expect(fetched.stdout).toContain('Fetched 5 objects');
    await ok(b, ['checkout']);
    expect(read(b, 'data/sub/b.csv')).toBe('id,x\n3,4\n');
    expect(sha(readFileSync(join(b, 'big.bin')))).toBe(sha(BIG));
    const v = await dvs(b, ['verify', '--remote', '--deep']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('Checked 5 objects');
    // pull on a fresh clone, and over a redirect (/moved answers 301 to /public).
    const c = cloneWith(server.url('moved'));
    const pulled = await ok(c, ['pull']);
    expect(pulled.stdout).toContain('Fetched 5 objects');
    expect(readFileSync(join(c, 'model.bin'), 'utf8')).toBe('weights-v1');
  });

  it('status --remote names what the web server lacks', async () => {
    const b = cloneWith(server.url('public'));
    writeTree(b, { 'new.txt': 'not published' });
    await ok(b, ['track', 'new.txt']);
    const st = await dvs(b, ['status', '--remote', '--json']);
    const out = json(st);
    expect(JSON.stringify(out)).toContain('new.txt');
    expect((await dvs(b, ['status', '--remote', '--exit-code'])).code).not.toBe(0);
    // A server that refuses HEAD is asked for the first byte instead.
    const noHead = cloneWith(server.url('nohead'));
    const r = await dvs(noHead, ['verify', '--remote']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Checked 5 objects');
    expect(readFileSync(server.accessLog, 'utf8')).toMatch(/"HEAD \/nohead\/[0-9a-f]{2}\/[0-9a-f]+ HTTP\/1\.1" 405/);
  });

  it('push, gc --remote and track --to-remote are refused before any work (exit 2, REMOTE_READ_ONLY)', async () => {
    const b = cloneWith(server.url('public'));
    writeTree(b, { 'new.txt': 'local only' });
    await ok(b, ['track', 'new.txt']);
    const before = readdirSync(store).sort();
    const lines = readFileSync(server.accessLog, 'utf8').split('\n').length;
    for (const args of [['push'], ['gc', '--remote', '--force'], ['track', '--to-remote', 'new.txt']]) {
      const r = await dvs(b, [...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr + r.stdout).toContain('REMOTE_READ_ONLY');
    }
    const r = await dvs(b, ['push']);
    expect(r.stderr).toContain('dvs: error: Remote "web" (http://127.0.0.1:');
    expect(r.stderr).toContain('is read-only: dvs push cannot write to an HTTP(S) remote');
    expect(readdirSync(store).sort()).toEqual(before);
    // Refused from the configuration alone: not one request reached the server.
    expect(readFileSync(server.accessLog, 'utf8').split('\n').length).toBe(lines);
  });

  it('basic auth: none or a wrong password refused (exit 7) with a hint, the right one pulls', async () => {
    const b = cloneWith(server.url('basic'));
    const none = await dvs(b, ['pull']);
    expect(none.code).toBe(7);
    expect(none.stderr).toContain('refused access');
    expect(none.stderr).toContain('HTTP 401');
    expect(none.stderr).toContain('(no credentials were sent)');
    expect(none.stderr).toContain('hint: Give this clone credentials: dvs remote modify --local web user <name>');
    await ok(b, ['remote', 'modify', '--local', 'web', 'user', server.user]);
    await ok(b, ['remote', 'modify', '--local', 'web', 'password', 'wrong']);
    const wrong = await dvs(b, ['pull']);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toContain('(basic credentials were sent)');
    expect(cacheObjects(b).filter((o) => o === oidOf(b, 'model.bin.dvs'))).toEqual([]);
    await ok(b, ['remote', 'modify', '--local', 'web', 'password', server.password]);
    await ok(b, ['pull']);
    expect(sha(readFileSync(join(b, 'big.bin')))).toBe(sha(BIG));
    // The secrets are never shown.
    const list = await ok(b, ['remote', 'list']);
    expect(list.stdout).not.toContain(server.password);
  });

  it('bearer auth: a wrong token refused (exit 7), the right one pulls; the token from the environment too', async () => {
    const b = cloneWith(server.url('bearer'), 'config.local');
    setDvsConfig(b, { 'remote.web.token': 'not-it' }, 'config.local');
    const wrong = await dvs(b, ['fetch']);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toContain('(bearer credentials were sent)');
    setDvsConfig(b, { 'remote.web.token': undefined, 'remote.web.auth': 'bearer' }, 'config.local');
    const missing = await dvs(b, ['fetch']);
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain('uses bearer authentication but no token is set');
    const env = await dvs(b, ['fetch'], { env: { DVS_HTTP_TOKEN: server.token } });
    expect(env.code).toBe(0);
    expect(env.stdout).toContain('Fetched 5 objects');
  });

  it('secrets in the committed config are refused; a committed URL gets credentials only once confirmed here', async () => {
    const b = cloneWith(server.url('bearer'));
    setDvsConfig(b, { 'remote.web.token': server.token });
    const committed = await dvs(b, ['fetch']);
    expect(committed.code).toBe(2);
    expect(committed.stderr).toContain('remote.web.token is set in the committed .dvs/config');
    // `dvs remote modify` refuses to write a secret there at all.
    const modify = await dvs(b, ['remote', 'modify', 'web', 'token', 'x']);
    expect(modify.code).toBe(2);
    expect(modify.stderr).toContain('token is a secret and would be committed with .dvs/config');
    setDvsConfig(b, { 'remote.web.token': undefined });
    // A token in config.local (written by hand) and the URL from the committed config: not sent.
    setDvsConfig(b, { 'remote.web.token': server.token }, 'config.local');
    const unconfirmed = await dvs(b, ['fetch']);
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.stderr).toContain(`dvs would send this machine's credentials there`);
    expect(unconfirmed.stderr).toContain(`hint: If you trust this repository's choice, confirm it once: dvs config --local remote.web.url ${server.url('bearer')}`);
    // Setting the token with dvs confirms the URL it goes to.
    await ok(b, ['remote', 'modify', '--local', 'web', 'token', server.token]);
    expect((await dvs(b, ['fetch'])).code).toBe(0);
  });

  it('https: a self-signed server is refused with a hint, trusted with ca_file', async () => {
    const b = cloneWith(server.httpsUrl('public'));
    const r = await dvs(b, ['pull']);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("the server's certificate is not trusted");
    expect(r.stderr).toContain('hint: If the server uses a private CA, name its certificate: dvs remote modify --local web ca_file <ca.pem>');
    await ok(b, ['remote', 'modify', '--local', 'web', 'ca_file', server.caFile!]);
    await ok(b, ['pull']);
    expect(sha(readFileSync(join(b, 'big.bin')))).toBe(sha(BIG));
  });

  it('an unreachable port fails within seconds (exit 7) with a hint', async () => {
    const port = await closedPort();
    const b = cloneWith(`http://127.0.0.1:${port}/data`);
    for (const args of [['pull'], ['status', '--remote'], ['verify', '--remote']]) {
      const bound = scaled(10_000);
      const t0 = Date.now();
      const r = await dvs(b, args);
      expect(r.code, args.join(' ')).toBe(7);
      expect(r.stderr).toContain(`dvs: error: Cannot reach remote "web" at http://127.0.0.1:${port}: ECONNREFUSED`);
      expect(r.stderr).toContain(`hint: Check that the server at http://127.0.0.1:${port} is running`);
      expect(Date.now() - t0).toBeLessThan(bound);
    }
  });

  it('nginx stopped in the middle of a pull: nothing partial is kept; pulling again finishes', async () => {
    // /slow sends 256 KiB/s: the 3 MiB object takes seconds, and nginx is killed while it streams.
    const b = cloneWith(server.url('slow'));
    setDvsConfig(b, { 'transfer.retries': 1 });
    const child = spawn(process.execPath, [DVS, 'pull'], { cwd: b, env: { ...process.env, ...GIT_ENV, CI: 'true' } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((ok) => child.on('close', (code) => ok(code ?? -1)));
    const bigOid = oidOf(b, 'big.bin.dvs');
    const deadline = Date.now() + scaled(30_000);
    // nginx logs a request when it ends: once a small object's GET is there, the big one (sent in
    // parallel) is streaming.
    while (Date.now() < deadline && !/GET \/slow\/[0-9a-f]{2}\//.test(readFileSync(server.accessLog, 'utf8'))) {
      await new Promise((ok) => setTimeout(ok, 100));
    }
    await new Promise((ok) => setTimeout(ok, 1500));
    await server.kill();
    const code = await exited;
    try {
      expect(code).not.toBe(0);
      expect(stderr).toMatch(/dvs: error: /);
      expect(cacheObjects(b)).not.toContain(bigOid);
      expect(existsSync(join(b, 'big.bin'))).toBe(false);
    } finally {
      await server.start();
    }
    const again = await dvs(b, ['pull']);
    expect(again.code, again.stderr).toBe(0);
    expect(sha(readFileSync(join(b, 'big.bin')))).toBe(sha(BIG));
  }, 120_000);

  it('a library read whose server freezes fails after transfer.timeout instead of hanging; nothing partial is cached', async () => {
    const b = cloneWith(server.url('slow'));
    setDvsConfig(b, { 'transfer.timeout': 2 }, 'config.local');
    const api = (await import(join(PROJECT, 'dist', 'api', 'index.js'))) as typeof import('../../src/api/index.js');
    const stream = await api.open('big.bin', { cwd: b });
    let received = 0;
    const outcome = (async () => {
      for await (const chunk of stream) {
        if (received === 0) server.pause();
        received += (chunk as Buffer).length;
      }
      return 'ended';
    })().catch((err: { code?: string }) => err.code);
    try {
      expect(await outcome).toBe('REMOTE_TIMEOUT');
    } finally {
      server.resume();
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(BIG.length);
    expect(cacheObjects(b)).not.toContain(oidOf(b, 'big.bin.dvs'));
  }, 120_000);

  it('an object altered on the server is refused: not in the cache, not in the workspace; verify --deep names it', async () => {
    // A copy of the store, altered, served by its own nginx.
    const altered = tempDir('dvs-store-');
    cpSync(store, altered, { recursive: true });
    const oid = oidOf(publisher, 'model.bin.dvs');
    const object = join(altered, oid.slice(0, 2), oid.slice(2));
    chmodSync(object, 0o644);
    writeFileSync(object, 'weights-v2'); // same size, other bytes
    // And a file of the directory gone, while its manifest (which vouches for it) is still there.
    const aOid = sha('id,x\n1,2\n');
    rmSync(join(altered, aOid.slice(0, 2), aOid.slice(2)));
    const other = await startNginx({ root: altered });
    try {
      const b = cloneWith(other.url('public'));
      const r = await dvs(b, ['pull']);
      expect(r.code).toBe(8);
      expect(r.stderr).toContain(`error: model.bin: the copy of object ${oid.slice(0, 10)} on remote "web" is corrupted`);
      expect(existsSync(join(b, 'model.bin'))).toBe(false);
      expect(cacheObjects(b)).not.toContain(oid);
      expect(r.stderr).toContain(`error: data/a.csv: object ${aOid.slice(0, 10)} is not on remote "web"`);
      // The read-only remote is not written to (no epoch, no withdrawn manifest) and nothing warns about it.
      expect(r.stderr).not.toContain('could not record');
      expect(existsSync(join(altered, 'dvs-epoch'))).toBe(false);
      expect(read(b, 'data/sub/b.csv')).toBe('id,x\n3,4\n');
      const v = await dvs(b, ['verify', '--remote', '--deep']);
      expect(v.code).toBe(1);
      expect(v.stdout).toContain('corrupted');
      expect(v.stdout).toContain('model.bin');
      expect(v.stdout).toContain('data/a.csv');
      expect(v.stderr).toContain('dvs: warning: remote "web" is read-only: 1 bad copy and 1 manifest listing missing or bad files left there');
      expect(readFileSync(object, 'utf8')).toBe('weights-v2');
    } finally {
      await other.stop();
    }
  });
});
