import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkHostKey, fingerprint, hostKeyName, parseKnownHosts } from '../../src/remotes/known-hosts.js';
import { parseRemoteUrl } from '../../src/remotes/url.js';
import { canonicalUrl } from '../../src/remotes/url.js';
import { dvs, gitRepo } from '../helpers.js';

/** An SSH public key blob of `type` (string type, then random key bytes), as a server sends it. */
function blob(type: string): Buffer {
  const name = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(name.length);
  return Buffer.concat([len, name, randomBytes(32)]);
}
const line = (hosts: string, key: Buffer, marker = '') => `${marker ? marker + ' ' : ''}${hosts} ${key.subarray(4, 4 + key.readUInt32BE(0)).toString()} ${key.toString('base64')} comment`;
const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};

describe('known_hosts', () => {
  const ed = blob('ssh-ed25519');
  const other = blob('ssh-ed25519');
  const rsa = blob('ssh-rsa');

  it('names hosts as ssh does: bare on port 22, [host]:port elsewhere', () => {
    expect(hostKeyName('nas', 22)).toBe('nas');
    expect(hostKeyName('nas', 2222)).toBe('[nas]:2222');
  });

  it('matches plain, listed, wildcard and hashed entries; a negation excludes', () => {
    const check = (text: string, host: string, port = 22) => checkHostKey(parseKnownHosts(text, 'kh'), host, port, ed).status;
    expect(check(line('nas', ed), 'nas')).toBe('known');
    expect(check(line('nas', ed), 'nas', 2222)).toBe('unknown');
    expect(check(line('[nas]:2222', ed), 'nas', 2222)).toBe('known');
    expect(check(line('gpu,nas,10.0.0.5', ed), 'NAS')).toBe('known');
    expect(check(line('*.lab', ed), 'nas.lab')).toBe('known');
    expect(check(line('*.lab,!nas.lab', ed), 'nas.lab')).toBe('unknown');
    expect(check(line(hashed('[nas]:2222'), ed), 'nas', 2222)).toBe('known');
    expect(check(line(hashed('nas'), ed), 'nas', 2222)).toBe('unknown');
    expect(check(`# comment\n\n${line('nas', rsa)}\n`, 'nas')).toBe('unknown'); // only another type on record
  });

  it('another key of the same type is a change (with file and line); a revoked key is refused', () => {
    const text = `${line('gpu', ed)}\n${line(hashed('nas'), other)}\n`;
    expect(checkHostKey(parseKnownHosts(text, '/k'), 'nas', 22, ed)).toEqual({ status: 'changed', file: '/k', line: 2 });
    const revoked = `${line('*', ed, '@revoked')}\n${line('nas', ed)}\n`;
    expect(checkHostKey(parseKnownHosts(revoked, '/k'), 'nas', 22, ed)).toEqual({ status: 'revoked', file: '/k', line: 1 });
    expect(checkHostKey(parseKnownHosts(line('nas', ed, '@cert-authority'), '/k'), 'nas', 22, ed).status).toBe('unknown');
  });

  it('fingerprints as ssh-keygen -l does (SHA256, base64 without padding)', () => {
    // ssh-keygen -l of this ed25519 key prints SHA256:b6Rs9ed3PkiFNmcenS5MGnUXqWCf68ZyxG/dMblt1t4
    const key = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAILAnBjjiuzGstOR2QOFQ4+nw/i8w568rerH1lrqHsFNj', 'base64');
    expect(fingerprint(key)).toBe('SHA256:b6Rs9ed3PkiFNmcenS5MGnUXqWCf68ZyxG/dMblt1t4');
  });
});

describe('ssh:// URLs', () => {
  it('parse user, host, port and an absolute path; refuse a password and an empty path', () => {
    expect(parseRemoteUrl('ssh://ana@nas.lab:2222/srv/dvs/', '/repo')).toEqual({ scheme: 'ssh', host: 'nas.lab', port: 2222, user: 'ana', path: '/srv/dvs' });
    expect(parseRemoteUrl('sftp://[::1]/data%20sets', '/repo')).toEqual({ scheme: 'ssh', host: '::1', port: undefined, user: undefined, path: '/data sets' });
    expect(canonicalUrl(parseRemoteUrl('ssh://ana@nas:2222/srv', '/'))).toBe('ssh://ana@nas:2222/srv');
    expect(() => parseRemoteUrl('ssh://ana:secret@nas/srv', '/')).toThrow(/password does not belong in the URL/);
    expect(() => parseRemoteUrl('ssh://nas', '/')).toThrow(/name a directory on the server/);
    expect(() => parseRemoteUrl('ssh://nas/srv/../etc', '/')).toThrow(/"\.\."/);
  });

  it('dvs status does not load ssh2; status --remote does', async () => {
    const repo = gitRepo();
    expect((await dvs(repo, ['remote', 'add', '-d', 'nas', 'ssh://u@127.0.0.1:1/srv/dvs'])).code).toBe(0);
    const plain = await dvs(repo, ['status'], { env: { NODE_DEBUG: 'module' } });
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/node_modules\/ssh2\//);
    const remote = await dvs(repo, ['status', '--remote'], { env: { NODE_DEBUG: 'module' } });
    expect(remote.stderr).toMatch(/node_modules\/ssh2\//);
    expect(remote.code).toBe(7); // nothing listens on port 1
  });
});
