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
    state.log.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
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
