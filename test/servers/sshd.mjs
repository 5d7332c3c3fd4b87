// A real SSH/SFTP server for tests and the benchmark: Debian's OpenSSH sshd (installed by
// test/servers/sshd/install.sh), started on 127.0.0.1 on a free port with its own sshd_config, a host
// key and a user key made for the run in a temp dir. Nothing of the system's sshd setup is used.
//
//   import { startSshd, sshdAvailable, SSHD_MISSING } from './sshd.mjs';
//   const server = await startSshd();   // { host, port, user, keyFile, knownHosts, fingerprint, url(path) }
//   await server.kill();   // SIGKILL the listener and every session it forked (a crash mid-transfer)
//   await server.start();  // again, same port and keys
//   server.pause(); server.resume();   // SIGSTOP / SIGCONT: a frozen server
//   await server.stop();
//
// - Logs in as the user running the tests (root on CI: PermitRootLogin prohibit-password), by key only;
//   the public key goes to <dir>/authorized_keys (AuthorizedKeysFile), StrictModes no (temp dirs).
// - `knownHosts` is a known_hosts file with the server's key under `[127.0.0.1]:PORT`; tests name it with
//   remote.<name>.known_hosts, so ~/.ssh is never read or written. `otherKeyFile` is a second user key
//   the server does not accept (wrong-credentials tests).
// - sshd forks a process per connection (it calls setsid, so a process-group kill misses them);
//   kill() walks /proc for the listener's descendants and kills them by pid.
// - With `parent` (default: this process) a small watchdog ends the listener when the parent is gone.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';
const KEYGEN = '/usr/bin/ssh-keygen';

export function sshdAvailable() {
  return existsSync(SSHD) && existsSync(KEYGEN);
}

export const SSHD_MISSING = 'OpenSSH server is not installed: run `bash test/servers/sshd/install.sh` (apt, as root)';

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

function keygen(file, comment) {
  execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Resolves once the server sends its SSH banner. */
async function waitForBanner(port, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const sock = connect({ host: '127.0.0.1', port });
      const done = (v) => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(2000, () => done(false));
      sock.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
      sock.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not answer on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every descendant of `pid`, from /proc (Linux). */
function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/**
 * Start sshd. @param {{ port?: number, parent?: number }} [options]
 */
export async function startSshd({ port, parent = process.pid } = {}) {
  if (!sshdAvailable()) throw new Error(SSHD_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'dvs-sshd-'));
  const user = userInfo().username;
  keygen(join(dir, 'host_ed25519'), 'dvs-test-host');
  keygen(join(dir, 'user_ed25519'), 'dvs-test-user');
  keygen(join(dir, 'other_ed25519'), 'dvs-test-other');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'user_ed25519.pub')));
  // Privilege separation wants this folder when sshd runs as root (Debian's service makes it at boot).
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  port ??= await freePort();
  const hostPub = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
  const fingerprint = execFileSync(KEYGEN, ['-l', '-E', 'sha256', '-f', join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(/\s+/)[1];
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'MaxStartups 100',
      'MaxSessions 32',
      'Subsystem sftp internal-sftp',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );

  let child;
  let watchdog;
  const start = async () => {
    child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`sshd exited (${code}): ${stderr}`))));
    exited.catch(() => undefined);
    await Promise.race([waitForBanner(port, 30_000), exited]);
    // The listener goes with the test process, even when stop() is never called.
    watchdog = spawn('/bin/sh', ['-c', `while kill -0 ${parent} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done; kill -9 ${child.pid} 2>/dev/null`], { stdio: 'ignore', detached: true });
    watchdog.unref();
  };
  const kill = async () => {
    if (!child || child.exitCode !== null) return;
    const pid = child.pid;
    const sessions = descendants(pid);
    const gone = new Promise((r) => child.once('exit', r));
    process.kill(pid, 'SIGKILL');
    for (const p of sessions) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // ended by itself
      }
    }
    await gone;
    try {
      process.kill(watchdog.pid, 'SIGKILL');
    } catch {
      // ended by itself
    }
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    user,
    dir,
    keyFile: join(dir, 'user_ed25519'),
    otherKeyFile: join(dir, 'other_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    fingerprint,
    /** `ssh://user@127.0.0.1:PORT/<path>` */
    url: (path) => `ssh://${user}@127.0.0.1:${port}${path.startsWith('/') ? '' : '/'}${path}`,
    kill,
    start,
    /** Freeze / thaw the listener and its sessions (SIGSTOP / SIGCONT): connections hang. */
    pause: () => [child.pid, ...descendants(child.pid)].forEach((p) => process.kill(p, 'SIGSTOP')),
    resume: () => [child.pid, ...descendants(child.pid)].forEach((p) => process.kill(p, 'SIGCONT')),
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
