// Debian's nginx serving a directory, for the HTTP(S) remote tests and the benchmark. Each call starts
// its own nginx (its own config, pid, logs and temp paths in a temp dir, 127.0.0.1 on a free port),
// never the system one.
//
//   import { nginxAvailable, startNginx } from './nginx.mjs';
//   const server = await startNginx({ root: '/path/the/remote/push/filled', https: true });
//   server.url('public')   -> http://127.0.0.1:PORT/public       (no auth)
//   server.url('basic')    -> …/basic   basic auth, server.user / server.password
//   server.url('bearer')   -> …/bearer  bearer auth, server.token
//   server.url('moved')    -> …/moved   301 to …/public
//   server.url('slow')     -> …/slow    256 KiB/s per request (to stop the server mid-download)
//   server.url('nohead')   -> …/nohead  HEAD answered 405 (as some CDNs and presigned URLs do)
//   server.url('listed')   -> …/listed  directory index pages (autoindex: a packed remote's packs/ is listed)
//   server.url('norange')  -> …/norange listed, and Range ignored (200 with the whole file, as some servers do)
//   server.httpsUrl('public') (with https: true) and server.caFile (its self-signed certificate)
//   await server.kill();   // SIGKILL: connections reset, as a crash
//   await server.start();  // again, on the same ports
//   await server.stop();   // and the temp dir goes
//
// The nginx processes go away with the process that started them (a watcher), even if stop() is
// never called. Install with `bash test/servers/nginx/install.sh` (apt, as root).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

/** Is nginx installed (test/servers/nginx/install.sh)? */
export function nginxAvailable() {
  return NGINX !== undefined && ['/usr/bin/openssl'].every((p) => existsSync(p));
}

/** Why HTTP tests are skipped, for describe.skipIf messages. */
export const NGINX_MISSING = 'nginx is not installed: run `bash test/servers/nginx/install.sh` (apt, as root)';

/** Skip where nginx is missing, except under CI, where a missing nginx must fail the tests. */
export const skipHttp = !nginxAvailable() && process.env.CI !== 'true';

export const NGINX_USER = 'reader';
export const NGINX_PASSWORD = 'open sesame';
export const NGINX_TOKEN = 'tok-3f9a1c';

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function canConnect(port) {
  return new Promise((ok) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

function childrenOf(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function config({ dir, root, port, httpsPort }) {
  const locations = `
    location /public/ { alias ${root}/; }
    location /basic/ { alias ${root}/; auth_basic "dvs test"; auth_basic_user_file ${dir}/htpasswd; }
    location /bearer/ {
      alias ${root}/;
      if ($http_authorization != "Bearer ${NGINX_TOKEN}") { return 401; }
    }
    location /slow/ { alias ${root}/; limit_rate 256k; }
    location /nohead/ {
      alias ${root}/;
      if ($request_method = HEAD) { return 405; }
    }
    location /listed/ { alias ${root}/; autoindex on; }
    location /norange/ { alias ${root}/; autoindex on; max_ranges 0; }
    location /moved/ { rewrite ^/moved/(.*)$ /public/$1 permanent; }
    location = /moved { return 301 /public; }`;
  return `
${process.getuid?.() === 0 ? 'user root root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 100000;
  server_tokens off;
  server {
    listen 127.0.0.1:${port};
    ${locations}
  }
  ${httpsPort ? `server {
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    ${locations}
  }` : ''}
}
`;
}

/**
 * Start nginx serving `root` (a directory remote's folder) under /public, /basic, /bearer, /moved, /listed, /norange, /slow and /nohead.
 * @param {{ root: string, https?: boolean }} options
 */
export async function startNginx({ root, https = false }) {
  if (!nginxAvailable()) throw new Error(NGINX_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'dvs-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const hash = execFileSync('openssl', ['passwd', '-apr1', NGINX_PASSWORD], { encoding: 'utf8' }).trim();
  writeFileSync(join(dir, 'htpasswd'), `${NGINX_USER}:${hash}\n`);
  if (https) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  }
  const port = await freePort();
  const httpsPort = https ? await freePort() : undefined;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config({ dir, root, port, httpsPort }));
  let child;
  let watcher;

  async function start() {
    child = spawn(NGINX, ['-c', conf, '-p', dir, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((ok) => child.once('exit', (code) => ok(code)));
    // Killed with the test process: a watcher that outlives it kills nginx.
    watcher = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; w=$(pgrep -P ${child.pid}); kill -9 ${child.pid} 2>/dev/null; kill -9 $w 2>/dev/null; true`], { stdio: 'ignore', detached: true });
    watcher.unref();
    for (let i = 0; i < 200; i++) {
      const done = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok('waiting'), 50))]);
      if (done !== 'waiting') throw new Error(`nginx exited (${done}): ${stderr}`);
      if ((await canConnect(port)) && (!httpsPort || (await canConnect(httpsPort)))) return;
    }
    throw new Error(`nginx did not listen on ${port} within 10 s: ${stderr}`);
  }

  async function halt(signal) {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((ok) => child.once('exit', ok));
    // A master killed alone would leave its worker serving, and a worker killed first is replaced by
    // the master: note the workers, kill the master, then them.
    const workers = signal === 'SIGKILL' ? childrenOf(child.pid) : [];
    child.kill(signal);
    await gone;
    for (const pid of workers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    while (await canConnect(port)) await new Promise((ok) => setTimeout(ok, 50));
  }

  await start();
  const base = (p) => `http://127.0.0.1:${port}/${p}`;
  return {
    port,
    dir,
    user: NGINX_USER,
    password: NGINX_PASSWORD,
    token: NGINX_TOKEN,
    caFile: https ? join(dir, 'cert.pem') : undefined,
    url: base,
    httpsUrl: (p) => `https://127.0.0.1:${httpsPort}/${p}`,
    accessLog: join(dir, 'access.log'),
    start,
    /** A crash: SIGKILL, open connections are reset. */
    kill: () => halt('SIGKILL'),
    /** Freeze / thaw the master and its workers (SIGSTOP / SIGCONT): open connections hang. */
    pause: () => [child.pid, ...childrenOf(child.pid)].forEach((pid) => process.kill(pid, 'SIGSTOP')),
    resume: () => [child.pid, ...childrenOf(child.pid)].forEach((pid) => process.kill(pid, 'SIGCONT')),
    async stop() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
