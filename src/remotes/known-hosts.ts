import { createHash, createHmac } from 'node:crypto';

/**
 * OpenSSH's known_hosts files, read the way `ssh` reads them: plain host patterns (`host`,
 * `[host]:port`, `*` and `?` wildcards, `!` negations, comma lists) and hashed entries (`|1|salt|hmac`,
 * HMAC-SHA1 of the host name with the salt). `@revoked` keys are refused; `@cert-authority` lines are
 * skipped (dvs does not do host certificates). The host is matched as ssh names it: `host` on port 22,
 * `[host]:port` elsewhere.
 */
export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown' }
  /** The file has keys of the same type for this host, none of them this one: possibly an attack. */
  | { status: 'changed'; file: string; line: number }
  | { status: 'revoked'; file: string; line: number };

interface Entry {
  marker?: string;
  patterns: string;
  type: string;
  key: Buffer;
  file: string;
  line: number;
}

export function parseKnownHosts(text: string, file: string): Entry[] {
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    if (fields.length < 3) return;
    const key = Buffer.from(fields[2], 'base64');
    if (key.length === 0) return;
    entries.push({ marker, patterns: fields[0], type: fields[1], key, file, line: i + 1 });
  });
  return entries;
}

/** `host` on port 22, `[host]:port` elsewhere: the name known_hosts files key entries by. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:…`, as `ssh-keygen -l` and ssh's own prompts show a key. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, …). */
export function keyType(key: Buffer): string {
  if (key.length < 4) return '';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

export function checkHostKey(entries: readonly Entry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = hostKeyName(host, port);
  const type = keyType(key);
  let changed: Entry | undefined;
  let known = false;
  for (const e of entries) {
    if (e.marker === '@cert-authority' || !matches(e.patterns, name)) continue;
    const same = e.key.equals(key);
    if (e.marker === '@revoked') {
      if (same) return { status: 'revoked', file: e.file, line: e.line };
      continue;
    }
    if (same) known = true;
    else if (e.type === type) changed ??= e;
  }
  if (known) return { status: 'known' };
  if (changed) return { status: 'changed', file: changed.file, line: changed.line };
  return { status: 'unknown' };
}

function matches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (!glob(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    hit = true;
  }
  return hit;
}

/** ssh's match_pattern: `*` and `?`, case-insensitive like host names. */
function glob(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}
