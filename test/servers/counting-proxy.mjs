// A plain HTTP proxy in front of a test server that counts the requests going through it: request
// counts measured on the wire (what a bill would show), with no client-side instrumentation.
// Headers go through unchanged (Host too), so signed requests (SigV4) still verify at the server.
import { createServer, request } from 'node:http';

/**
 * @param {string} target the server's base URL (http://host:port)
 * @returns {Promise<{ url: string, count: number, log: string[], reset(): void, close(): Promise<void> }>}
 */
export async function startCountingProxy(target) {
  const to = new URL(target);
  const state = { count: 0, log: [] };
  const server = createServer((req, res) => {
    state.count++;
    const range = req.headers.range ?? req.headers['x-ms-range'];
    state.log.push(`${req.method} ${req.url}${range ? ` ${range}` : ''}`);
    const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    url: `http://127.0.0.1:${port}`,
    get count() {
      return state.count;
    },
    get log() {
      return state.log;
    },
    reset() {
      state.count = 0;
      state.log = [];
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The same proxy in a child process, for callers whose event loop blocks while dvs runs (the benchmark
 * harness runs dvs with spawnSync). The count is read and reset over HTTP, at /__count and /__reset.
 * @param {string} target
 */
export async function startCountingProxyProcess(target) {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`counting proxy exited (${code})`)));
  });
  // A fresh connection each time: while the caller blocked, the proxy may have closed an idle one.
  const ask = async (path) => (await fetch(`${url}${path}`, { headers: { connection: 'close' } })).text();
  return {
    url,
    count: async () => Number(await ask('/__count')),
    /** Bytes of request bodies sent through the proxy (what an upload costs on the wire) since the last reset. */
    bytesUp: async () => Number(await ask('/__bytes')),
    reset: async () => void (await ask('/__reset')),
    close: async () => {
      child.kill();
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

// Standalone: node test/servers/counting-proxy.mjs <target>; prints its URL. /__count, /__bytes and
// /__reset are answered here; every other request goes through to the target and is counted.
if (process.argv[1] && import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href) {
  const to = new URL(process.argv[2]);
  let count = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    if (req.url === '/__count') return res.end(String(count));
    if (req.url === '/__bytes') return res.end(String(bytes));
    if (req.url === '/__reset') {
      count = 0;
      bytes = 0;
      return res.end('ok');
    }
    count++;
    req.on('data', (chunk) => (bytes += chunk.length));
    const out = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
}
