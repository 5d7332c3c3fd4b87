import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, dvs, git, gitRepo, json, tempDir, writeTree } from '../helpers.js';

afterAll(cleanupTempDirs);

const AUDIT = '.dvs/audit';
const eventFiles = (repo: string) => (existsSync(join(repo, AUDIT)) ? readdirSync(join(repo, AUDIT)).sort() : []);
const readEvent = (repo: string, name: string) => JSON.parse(readFileSync(join(repo, AUDIT, name), 'utf8'));

/** What an attacker who knows the format would do: rewrite an event and give it a consistent hash and name. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}
function forge(repo: string, name: string, change: (e: any) => void): string {
  const e = readEvent(repo, name);
  delete e.hash;
  change(e);
  e.hash = createHash('sha256').update(canonical(e)).digest('hex');
  rmSync(join(repo, AUDIT, name));
  const newName = `${e.time.replace(/[-:.]/g, '')}-${e.hash.slice(0, 16)}.json`;
  writeFileSync(join(repo, AUDIT, newName), canonical(e) + '\n');
  return newName;
}

describe('the audit trail', () => {
  it('appends one hash-linked event per data-changing operation, staged with the change', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'data/a.csv': 'x\n1\n', 'data/b.csv': 'x\n2\n' });
    expect(eventFiles(repo)).toEqual([]);
    const t = json(await dvs(repo, ['track', 'data/a.csv', 'data/b.csv', '--json']));
    expect((await dvs(repo, ['track', 'data/a.csv'])).code).toBe(0); // unchanged: no event
    writeFileSync(join(repo, 'data/a.csv'), 'x\n1\n3\n');
    expect((await dvs(repo, ['track', 'data/a.csv'])).code).toBe(0);
    expect((await dvs(repo, ['remove', 'data/b.csv.dvs'])).code).toBe(0);
    expect((await dvs(repo, ['gc', '--dry-run'])).code).toBe(0); // changes nothing: no event
    expect((await dvs(repo, ['gc'])).code).toBe(0);

    const files = eventFiles(repo);
    expect(files).toHaveLength(4);
    for (const f of files) expect(f).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{16}\.json$/);
    const events = files.map((f) => readEvent(repo, f));
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'track'],
      [2, 'track'],
      [3, 'remove'],
      [4, 'gc'],
    ]);
    expect(events[0]).toMatchObject({
      v: 1,
      user: 'Test User <test@example.com>',
      commit: git(repo, 'rev-parse', 'HEAD').trim(),
      prev: [],
      paths: [
        { path: 'data/a.csv', oid: `sha256:${t.items[0].oid}`, kind: 'file', size: 4 },
        { path: 'data/b.csv', oid: `sha256:${t.items[1].oid}`, kind: 'file', size: 4 },
      ],
      data: {},
    });
    for (let i = 1; i < events.length; i++) expect(events[i].prev).toEqual([events[i - 1].hash]);
    expect(events[3].data).toMatchObject({ objects: 2, bytes: 8, oids: [expect.stringMatching(/^[0-9a-f]{64}$/), expect.any(String)] });
    // The files are canonical JSON: what is hashed is what is stored.
    const text = readFileSync(join(repo, AUDIT, files[0]), 'utf8');
    expect(text).toBe(canonical(JSON.parse(text)) + '\n');
    const staged = git(repo, 'diff', '--cached', '--name-only').split('\n');
    for (const f of files) expect(staged).toContain(`${AUDIT}/${f}`);

    const log = await dvs(repo, ['audit', 'log', 'data/b.csv']);
    expect(log.stdout).toMatch(/^\S+ \S+ {2}remove {9}Test User <test@example\.com> {2}data\/b\.csv [0-9a-f]{10}\n\S+ \S+ {2}track {10}Test User <test@example\.com> {2}data\/a\.csv [0-9a-f]{10}, data\/b\.csv [0-9a-f]{10}\n$/);
    const one = json(await dvs(repo, ['audit', 'log', '-n', '1', '--json']));
    expect(one).toMatchObject({ path: null, total: 4, unreadable: 0, events: [{ type: 'gc', seq: 4 }] });
    expect((await dvs(repo, ['audit', 'verify'])).stdout).toBe('Checked 4 events (1 head) against HEAD (0 events), 0 run records and 0 lineage records.\nThe audit trail verifies.\n');

    // Off: no events. Autostage off: the event is written but left for the user to stage.
    await dvs(repo, ['config', 'audit.enabled', 'false']);
    writeTree(repo, { 'c.bin': 'c' });
    await dvs(repo, ['track', 'c.bin']);
    expect(eventFiles(repo)).toHaveLength(4);
    await dvs(repo, ['config', 'audit.enabled', 'true']);
    await dvs(repo, ['config', 'core.autostage', 'false']);
    writeTree(repo, { 'd.bin': 'd' });
    await dvs(repo, ['track', 'd.bin']);
    const added = eventFiles(repo).filter((f) => !files.includes(f));
    expect(added).toHaveLength(1);
    expect(git(repo, 'status', '--porcelain')).toContain(`?? ${AUDIT}/${added[0]}`);
  });

  it('names the first bad event: edited, forged, renamed, deleted or unreadable; and a rewritten history', async () => {
    const repo = gitRepo();
    for (const name of ['a', 'b', 'c', 'd']) {
      writeTree(repo, { [`${name}.bin`]: name });
      expect((await dvs(repo, ['track', `${name}.bin`])).code).toBe(0);
    }
    git(repo, 'commit', '-q', '-m', 'four events');
    git(repo, 'tag', 'pushed');
    const [e1, e2, e3, e4] = eventFiles(repo);
    const verify = async () => {
      const r = await dvs(repo, ['audit', 'verify', '--json']);
      return { code: r.code, ...json(r) };
    };
    const restore = () => {
      rmSync(join(repo, AUDIT), { recursive: true });
      git(repo, 'checkout', '-q', 'HEAD', '--', AUDIT);
    };

    // Edited in place (the hash it carries no longer matches).
    const original = readFileSync(join(repo, AUDIT, e2), 'utf8');
    writeFileSync(join(repo, AUDIT, e2), original.replace('"path":"b.bin"', '"path":"evil.bin"'));
    let v = await verify();
    expect(v.code).toBe(1);
    expect(v.firstBad).toMatchObject({ code: 'HASH_MISMATCH', file: `${AUDIT}/${e2}`, event: { seq: 2, type: 'track' } });
    expect(v.problems).toHaveLength(1);
    const human = await dvs(repo, ['audit', 'verify']);
    expect(human.stdout).toContain(`First bad event: ${AUDIT}/${e2} (track by Test User <test@example.com> at `);
    restore();

    // Forged with a consistent hash and name: the next event no longer links to it, and HEAD had the original.
    forge(repo, e2, (e) => (e.paths[0].path = 'evil.bin'));
    v = await verify();
    expect(v.firstBad).toMatchObject({ code: 'DELETED', file: `${AUDIT}/${e2}` });
    expect(v.problems.map((p: any) => [p.code, p.file])).toEqual([
      ['DELETED', `${AUDIT}/${e2}`],
      ['MISSING_PREV', `${AUDIT}/${e3}`],
    ]);
    restore();

    // Reordered: the third event claims to come first. Its depth and links no longer follow.
    forge(repo, e3, (e) => {
      e.prev = [];
      e.seq = 1;
    });
    v = await verify();
    expect(v.problems.map((p: any) => p.code)).toEqual(['DELETED', 'MISSING_PREV']);
    expect(v.problems[1].file).toBe(`${AUDIT}/${e4}`);
    restore();

    // Renamed to another time, deleted, or not an event at all.
    renameSync(join(repo, AUDIT, e1), join(repo, AUDIT, `20000101T000000000Z-${e1.slice(20)}`));
    v = await verify();
    expect(v.problems.map((p: any) => p.code)).toEqual(['NAME_MISMATCH', 'DELETED']);
    restore();
    rmSync(join(repo, AUDIT, e4));
    v = await verify();
    expect(v.problems).toEqual([expect.objectContaining({ code: 'DELETED', file: `${AUDIT}/${e4}` })]);
    restore();
    writeFileSync(join(repo, AUDIT, e3), '{"v":1,');
    v = await verify();
    expect(v.firstBad).toMatchObject({ code: 'UNREADABLE', file: `${AUDIT}/${e3}` });
    expect(v.firstBad.message).toContain('not a valid audit event: not valid JSON');
    restore();
    expect((await verify()).code).toBe(0);

    // History rewritten to drop the newest event: HEAD agrees with itself, the pushed tag does not.
    git(repo, 'rm', '-q', `${AUDIT}/${e4}`);
    git(repo, 'commit', '-q', '--amend', '-m', 'four events minus one');
    expect((await verify()).code).toBe(0);
    const anchored = await dvs(repo, ['audit', 'verify', '--rev', 'pushed']);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toContain(`  DELETED           ${AUDIT}/${e4}: event track by Test User <test@example.com> at `);
    expect(anchored.stdout).toContain(', committed at pushed, was deleted\n');
    expect(anchored.stdout).toMatch(/^Checked 3 events \(1 head\) against HEAD \(3 events\), pushed \(4 events\), 0 run records and 0 lineage records\.\n/);
  });

  it('flags lineage records edited after their transform event', async () => {
    const repo = gitRepo();
    writeTree(repo, { 'in.csv': 'x\n1\n2\n' });
    await dvs(repo, ['track', 'in.csv']);
    const r = await dvs(repo, ['transform', '--name', 'copy', '-i', 'in.csv', '-o', 'out.csv', '-p', 'n=1', '--', process.execPath, '-e', "const fs=require('fs');fs.writeFileSync('out.csv',fs.readFileSync('in.csv','utf8')+'3\\n')"]);
    expect(r.code).toBe(0);
    expect((await dvs(repo, ['audit', 'verify'])).stdout).toContain('1 lineage record.\nThe audit trail verifies.\n');
    const pointer = readFileSync(join(repo, 'out.csv.dvs'), 'utf8');
    writeFileSync(join(repo, 'out.csv.dvs'), pointer.replace('    n: 1\n', '    n: 2\n'));
    const v = await dvs(repo, ['audit', 'verify']);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('  RECORD_MISMATCH   out.csv.dvs: its lineage record matches no transform event in the trail (edited after it was recorded, or recorded with audit.enabled off)\n');
    const report = await dvs(repo, ['audit', 'report', 'in.csv', '--md']);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^### Chain of custody of `in\.csv` [0-9a-f]{10}\n\n\| when \| who \| what \|\n\|---\|---\|---\|\n\| \S+ \S+ \| Test User &lt;test@example\.com> \| tracked as in\.csv \|\n\| \S+ \S+ \| Test User &lt;test@example\.com> \| input of copy \(n=1\), which made out\.csv \|\n\n✅ The audit trail verifies\.\n/);
  });

  it('push and pull leave git status clean: transfers are logged on this machine unless audit.commit_transfers', async () => {
    const repo = gitRepo();
    const store = join(tempDir(), 'store');
    writeTree(repo, { 'data/a.csv': 'x\n1\n' });
    for (const args of [['remote', 'add', '-d', 'origin', store], ['track', 'data']]) expect((await dvs(repo, args)).code).toBe(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'data');
    const committed = eventFiles(repo);
    expect((await dvs(repo, ['push'])).code).toBe(0);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(eventFiles(repo)).toEqual(committed);
    const clone = join(tempDir(), 'clone');
    git(repo, 'clone', '-q', repo, clone);
    expect((await dvs(clone, ['config', '--local', 'remote.origin.url', store])).code).toBe(0);
    expect((await dvs(clone, ['pull'])).code).toBe(0);
    expect(git(clone, 'status', '--porcelain')).toBe('');
    const log = await dvs(clone, ['audit', 'log']);
    expect(log.stdout).toMatch(/pull .*data .*remote origin.*\[this machine\]/);
    expect(log.stdout).toMatch(/track /);
    const report = json(await dvs(clone, ['audit', 'report', 'data', '--json']));
    expect(report.custody.map((c: { action: string }) => c.action)).toEqual(['tracked', 'pulled']);
    expect(report.verified).toBe(true);
    // A team that wants transfers committed.
    writeTree(repo, { 'data/b.csv': 'x\n2\n' });
    expect((await dvs(repo, ['track', 'data'])).code).toBe(0);
    expect((await dvs(repo, ['config', 'audit.commit_transfers', 'true'])).code).toBe(0);
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'more');
    expect((await dvs(repo, ['push'])).code).toBe(0);
    expect(git(repo, 'status', '--porcelain')).toMatch(/^A  \.dvs\/audit\/.*\.json$/m);
    expect(readEvent(repo, eventFiles(repo).at(-1)!).type).toBe('push');
  });
});
