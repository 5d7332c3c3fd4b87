// Builds repositories the way an attacker would: pointers whose names make their data path `.git`,
// `..`, the root or `.dvs`, symbolic links committed in `.dvs/`, this machine's files committed from
// someone else's. Everything lives in one "world" folder, so a test can hash the whole world before and
// after and prove that nothing outside the tracked data changed.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { dvs, git, gitRepo, tempDir, writeTree } from '../helpers.js';

export interface World {
  /** The folder holding everything below. */
  dir: string;
  /** Files the attack would like to reach: must never change. */
  outside: string;
  /** A local dvs remote holding the payload's objects. */
  remote: string;
  /** The attacker's repository and its bare copy to clone from. */
  hostile: string;
  bare: string;
  /** The victim's clone (made by `cloneVictim`). */
  victim: string;
}

const pointerText = (kind: 'file' | 'dir', oid: string, size: number, files?: number) =>
  `version: 1\nkind: ${kind}\noid: sha256:${oid}\nsize: ${size}\n${kind === 'dir' ? `files: ${files}\n` : ''}`;

/**
 * A payload on the remote: a directory whose files would land in `.git/hooks` (a post-checkout hook
 * that leaves a mark in the world) and overwrite a file of the same name as the world's sentinel.
 */
async function pushPayload(world: World): Promise<{ dir: string; file: string }> {
  const scratch = gitRepo();
  writeTree(scratch, {
    'payload/hooks/post-checkout': `#!/bin/sh\ntouch '${join(world.dir, 'PWNED')}'\n`,
    'payload/keep.txt': 'overwritten by a hostile checkout\n',
    'evil.sh': `#!/bin/sh\ntouch '${join(world.dir, 'PWNED')}'\n`,
  });
  for (const args of [['remote', 'add', '--default', 'origin', world.remote], ['track', 'payload', 'evil.sh'], ['push']]) {
    const r = await dvs(scratch, args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  return { dir: readFileSync(join(scratch, 'payload.dvs'), 'utf8'), file: readFileSync(join(scratch, 'evil.sh.dvs'), 'utf8') };
}

/** Bad pointer names, each standing for a data path dvs must never touch. */
export const BAD_POINTERS = [
  '.git.dvs', // data path .git: the payload would land in .git/hooks
  '.Git.dvs', // the same on a case-insensitive file system
  '.git .dvs', // Windows drops trailing spaces
  '...dvs', // data path "..": the folder around the repository
  'sub/...dvs', // data path "sub/..": the repository root itself
  '.dvs.dvs', // data path .dvs: the cache
  'sub/.git.dvs', // a nested .git
  'sub/.dvs.dvs',
  'new\nline.dvs', // a newline would inject a line into .gitignore
];

/**
 * The world and the attacker's repository: every bad pointer names the payload directory (or file), a
 * committed symbolic link leads out of the repository, `.dvs/config.local` and `.dvs/tmp/` files come
 * from Git, and one honest pointer and directory sit among them.
 */
export async function buildHostileWorld(): Promise<World> {
  const dir = tempDir('dvs-world-');
  const world: World = {
    dir,
    outside: join(dir, 'outside'),
    remote: join(dir, 'remote'),
    hostile: '',
    bare: join(dir, 'bare.git'),
    victim: join(dir, 'victim'),
  };
  writeTree(world.outside, { 'keep.txt': 'the victim\'s own file\n', 'sub/notes.md': 'more of it\n' });
  mkdirSync(world.remote);
  const payload = await pushPayload(world);

  const hostile = gitRepo();
  writeTree(hostile, { 'honest/a.csv': 'id\n1\n', 'honest.bin': 'honest bytes\n' });
  world.hostile = hostile;
  for (const args of [['remote', 'add', '--default', 'origin', world.remote], ['track', 'honest', 'honest.bin'], ['push']]) {
    const r = await dvs(hostile, args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  git(hostile, 'add', '-A');
  git(hostile, 'commit', '-q', '-m', 'honest data');
  for (const p of BAD_POINTERS) writeTree(hostile, { [p]: p.startsWith('new') ? payload.file : payload.dir });
  // A link committed in place of tracked data, leading outside.
  symlinkSync('../outside', join(hostile, 'linked'));
  writeTree(hostile, { 'linked.dvs': payload.dir });
  // This machine's files, committed by someone else: a cache location and a stat cache.
  writeTree(hostile, {
    '.dvs/config.local': `cache:\n  dir: ${join(dir, 'outside', 'cache-from-config-local')}\n`,
    '.dvs/tmp/state.sqlite': 'not a database\n',
  });
  git(hostile, 'add', '-A');
  git(hostile, 'add', '-f', '--', '.dvs/config.local', '.dvs/tmp/state.sqlite');
  git(hostile, 'commit', '-q', '-m', 'hostile pointers');
  git(dir, 'clone', '-q', '--bare', hostile, world.bare);
  return world;
}

/**
 * Clone the hostile repository as a victim would, hooks installed. The victim trusts one thing, the
 * remote, and says so in their user config (`DVS_CONFIG_DIR`, set for this test file's processes and
 * the hooks Git runs), which no clone can write.
 */
export async function cloneVictim(world: World): Promise<void> {
  const userConfig = join(world.dir, 'user-config');
  writeTree(userConfig, { config: `remote:\n  origin:\n    url: ${world.remote}\nhooks:\n  autofetch: true\n` });
  process.env.DVS_CONFIG_DIR = userConfig;
  git(world.dir, 'clone', '-q', world.bare, world.victim);
  const install = await dvs(world.victim, ['install']);
  expect(install.code, install.stderr).toBe(0);
  expect(install.stderr).toContain('.dvs/config.local is committed to Git; ignored');
  // dvs will not write this machine's settings into a file Git shares.
  const refused = await dvs(world.victim, ['config', '--local', 'core.autostage', 'false']);
  expect(refused.code).toBe(3);
  expect(refused.stderr).toContain('.dvs/config.local is committed to Git; dvs will not write');
}

/**
 * Every file, folder and link under `dir` with its type, mode and content hash, except the paths
 * `skip` says may change (Git's own bookkeeping, dvs's cache and state, the honest data).
 */
export function digestTree(dir: string, skip: (rel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const abs = join(dir, r);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.set(r, `link ${readlinkSync(abs)}`);
      else if (st.isDirectory()) {
        out.set(r, 'dir');
        walk(r);
      } else out.set(r, `file ${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
    }
  };
  walk('');
  return out;
}

/** What may change in the world while the victim works: Git's bookkeeping, dvs's local state, honest data. */
export function victimMayChange(rel: string): boolean {
  if (!rel.startsWith('victim/')) return false;
  const inVictim = rel.slice('victim/'.length);
  const gitOwn = inVictim.startsWith('.git/') && !inVictim.startsWith('.git/hooks');
  const dvsLocal = /^\.dvs\/(cache|tmp)(\/|$)/.test(inVictim);
  const honest = /^honest(\.bin|\/|$)/.test(inVictim);
  return gitOwn || dvsLocal || honest;
}
