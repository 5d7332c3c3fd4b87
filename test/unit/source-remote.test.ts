import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sourceRemoteSpec } from '../../src/ops/registry/source-objects.js';
import type { SourceRepo } from '../../src/ops/registry/source-repo.js';

// A source repository names its own remote; the user config matches remotes by name. Whatever a
// hostile source names, a secret that travels as it is must not go to the host it chose.
describe("a source's remote takes no pass-through secret from the user config", () => {
  let dir: string;
  let saved: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dvs-source-remote-'));
    saved = process.env.DVS_CONFIG_DIR;
    process.env.DVS_CONFIG_DIR = dir;
    writeFileSync(
      join(dir, 'config'),
      ['remote:', '  origin:', '    user: me', '    password: my-ssh-or-web-password', '    sas_token: sv=2024&sig=mine', '    access_key_id: AKIAME', '    secret_access_key: signs-only', ''].join('\n'),
    );
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.DVS_CONFIG_DIR;
    else process.env.DVS_CONFIG_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });
  const source = { url: 'https://example.invalid/repo.git', rev: null, commit: '0'.repeat(40) } as unknown as SourceRepo;
  const committed = (url: string) => `core:\n  remote: origin\nremote:\n  origin:\n    url: ${url}\n`;

  it('HTTP(S): neither the user name nor the password (basic auth) is taken', () => {
    const spec = sourceRemoteSpec(source, committed('https://attacker.invalid/objects'))!;
    expect(spec.options.user).toBeUndefined();
    expect(spec.options.password).toBeUndefined();
  });

  it('SSH and Azure: the password and the SAS token are not taken; the SSH user name is', () => {
    const ssh = sourceRemoteSpec(source, committed('ssh://attacker.invalid/srv/dvs'))!;
    expect(ssh.options.password).toBeUndefined();
    expect(ssh.options.user).toBe('me');
    const azure = sourceRemoteSpec(source, committed('azure://container/prefix'))!;
    expect(azure.options.sas_token).toBeUndefined();
  });

  it('signing keys, which never leave this machine, are still taken (S3)', () => {
    const s3 = sourceRemoteSpec(source, committed('s3://bucket/prefix'))!;
    expect(s3.options.access_key_id).toBe('AKIAME');
    expect(s3.options.secret_access_key).toBe('signs-only');
  });
});
