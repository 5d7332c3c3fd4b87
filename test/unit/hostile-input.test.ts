import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../../src/audit/event.js';
import { DvsError } from '../../src/errors.js';
import { lineageOf, parseLineage } from '../../src/lineage/record.js';
import { parseManifest } from '../../src/objects/manifest.js';
import { parsePointer } from '../../src/pointer/format.js';
import { readPointer } from '../../src/pointer/io.js';
import { Config, loadConfigFile, parseConfigText } from '../../src/repo/config.js';
import { parseRun } from '../../src/runs/record.js';

/** Targeted cases for each refusal of repository-supplied text; the fuzzing is in fuzz-parsers.test.ts. */

const OID = 'a'.repeat(64);
const POINTER = `version: 1\nkind: file\noid: sha256:${OID}\nsize: 5\n`;

function refusal(fn: () => unknown): DvsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DvsError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** Refused fast: generous for a busy machine, far below what expanding or recursing would cost. */
function quickRefusal(fn: () => unknown): DvsError {
  const started = performance.now();
  const err = refusal(fn);
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(err.kind).toBe('input');
  return err;
}

const dir = mkdtempSync(join(tmpdir(), 'dvs-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A billion-laughs document: nine levels of nine aliases to the level below, 9^9 strings when expanded. */
function aliasBomb(): string {
  let text = `${POINTER}a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
  for (let i = 1; i < 10; i++) text += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
  return text;
}

describe('pointers from an untrusted repository', () => {
  it('refuses a billion-laughs alias bomb, and any anchor or alias', () => {
    const bomb = quickRefusal(() => parsePointer(aliasBomb(), 'data/bomb.dvs'));
    expect(bomb.code).toBe('POINTER_ALIAS');
    expect(bomb.message).toBe('data/bomb.dvs:5: YAML anchors are not allowed ("&a0")');
    expect(bomb.hint).toContain('git checkout -- data/bomb.dvs');
    expect(bomb.data).toMatchObject({ path: 'data/bomb.dvs', line: 5, reason: 'anchor' });
    expect(refusal(() => parsePointer(`${POINTER}note: *x\n`, 'p.dvs'))).toMatchObject({ code: 'POINTER_ALIAS', data: { reason: 'alias', line: 5 } });
    expect(refusal(() => parsePointer(`${POINTER}x: &only 1\n`, 'p.dvs')).code).toBe('POINTER_ALIAS');
    // Not anchors: the characters inside quoted, plain and block scalars.
    expect(parsePointer(`${POINTER}a: "&x *y"\nb: x&y*z\nc: |\n  &z\n  *w\n`, 'p.dvs').size).toBe(5);
  });

  it('refuses a pointer over 1 MiB, from text and from a file without reading it', () => {
    const big = POINTER + `note: ${'x'.repeat(2 << 20)}\n`;
    const e = quickRefusal(() => parsePointer(big, 'big.dvs'));
    expect(e.code).toBe('POINTER_TOO_LARGE');
    expect(e.message).toBe('big.dvs: a pointer may be at most 1 MiB; this one is 2.0 MiB');
    // Multi-byte characters count as the bytes they take: 400,000 of "é" are 800,000 bytes (fine).
    expect(parsePointer(POINTER + `note: ${'é'.repeat(400_000)}\n`, 'ok.dvs').size).toBe(5);
    expect(refusal(() => parsePointer(POINTER + `note: ${'é'.repeat(600_000)}\n`, 'wide.dvs')).code).toBe('POINTER_TOO_LARGE');

    // 3 GiB, sparse: reading it would take minutes (or fail past Node's 2 GiB limit); it is refused by its size.
    writeFileSync(join(dir, 'huge.dvs'), POINTER);
    truncateSync(join(dir, 'huge.dvs'), 3 * 2 ** 30);
    const huge = quickRefusal(() => readPointer(dir, 'huge.dvs'));
    expect(huge.code).toBe('POINTER_TOO_LARGE');
    expect(huge.message).toBe('huge.dvs: a pointer may be at most 1 MiB; this one is 3072 MiB');
  });

  it('refuses a pointer that is not a regular file (a link to /dev/zero would never end)', () => {
    symlinkSync('/dev/zero', join(dir, 'zero.dvs'));
    expect(quickRefusal(() => readPointer(dir, 'zero.dvs'))).toMatchObject({ code: 'POINTER_INVALID', data: { reason: 'not-a-file' } });
    mkdirSync(join(dir, 'folder.dvs'));
    expect(refusal(() => readPointer(dir, 'folder.dvs')).code).toBe('POINTER_INVALID');
  });

  it('refuses nesting deeper than 32, however it is written, before the YAML library recurses', () => {
    const deep = {
      'flow lists': '['.repeat(10_000) + ']'.repeat(10_000),
      'flow maps': '{a: '.repeat(10_000) + '}'.repeat(10_000),
      'unclosed lists (1 MiB)': '['.repeat((1 << 20) - 200),
      'compact sequences': '- '.repeat(10_000) + 'x\n',
      'explicit keys': '? '.repeat(10_000) + 'x\n',
      'indented maps': Array.from({ length: 1_000 }, (_, i) => `${' '.repeat(i)}a:\n`).join(''),
      'a list in a value': `${POINTER}note: ${'['.repeat(10_000)}\n`,
      'JSON style': '{"a":['.repeat(5_000),
    };
    for (const [name, text] of Object.entries(deep)) {
      const e = quickRefusal(() => parsePointer(text, 'deep.dvs'));
      expect(e.code, name).toBe('POINTER_TOO_DEEP');
      expect(e.message, name).toMatch(/^deep\.dvs:\d+: maps and lists nested more than 32 deep$/);
    }
  });

  it('accepts 32 levels and refuses 33, in every form', () => {
    const forms: Array<(n: number) => string> = [
      (n) => `note: ${'['.repeat(n - 1)}x${']'.repeat(n - 1)}\n`,
      (n) => `note: ${'{a: '.repeat(n - 1)}x${'}'.repeat(n - 1)}\n`,
      (n) => `note:\n${Array.from({ length: n - 1 }, (_, i) => `${'  '.repeat(i + 1)}a:\n`).join('')}${'  '.repeat(n)}x\n`,
      (n) => `note:\n  ${'- '.repeat(n - 1)}x\n`,
    ];
    for (const form of forms) {
      expect(parsePointer(POINTER + form(32), 'ok.dvs').size).toBe(5);
      expect(refusal(() => parsePointer(POINTER + form(33), 'no.dvs')).code).toBe('POINTER_TOO_DEEP');
    }
  });

  it('carries lineage records with room to spare', () => {
    const lineage = `lineage:\n  transform: dedup\n  params:\n    key: text\n  command: [ node, dedup.mjs ]\n  inputs:\n    - path: d/in.csv\n      oid: sha256:${OID}\n      kind: file\n      size: 3\n      rows: 2\n  outputs: []\n`;
    expect(lineageOf(parsePointer(POINTER + lineage, 'x.dvs')).record?.transform).toBe('dedup');
  });

  it('reads only the YAML 1.2 core schema: tags, YAML 1.1 and merge keys change nothing', () => {
    for (const tagged of ['note: !!binary aGVsbG8=', 'note: !custom x', 'note: !!set {a, b}', 'note: !!timestamp 2001-12-14', 'note: !!int abc']) {
      expect(refusal(() => parsePointer(`${POINTER}${tagged}\n`, 't.dvs')), tagged).toMatchObject({ code: 'POINTER_INVALID', data: { reason: 'tag', line: 5 } });
    }
    expect(parsePointer(`${POINTER}note: !!str 007\n`, 'ok.dvs').size).toBe(5);
    // YAML 1.1 would read `yes` as true; the pointer's exec must be a real boolean.
    expect(refusal(() => parsePointer(`%YAML 1.1\n---\n${POINTER}exec: yes\n`, 'y.dvs')).message).toBe('y.dvs:7: exec must be true or false, not "yes"');
    // `<<` is a plain key, not a merge: the size it would merge in does not count.
    expect(refusal(() => parsePointer(`version: 1\nkind: file\noid: sha256:${OID}\n<<: {size: 5}\n`, 'm.dvs')).message).toMatch(/missing key "size"/);
  });

  it('refuses duplicate keys, keys over 1024 characters, several documents; keeps NUL and CR as data', () => {
    expect(refusal(() => parsePointer(`${POINTER}size: 6\n`, 'd.dvs')).message).toBe('d.dvs:5: not valid YAML: Map keys must be unique ("size" repeats)');
    expect(refusal(() => parsePointer(`${POINTER}note: {a: 1, b: 2, a: 3}\n`, 'd.dvs')).data).toMatchObject({ line: 5, reason: 'syntax' });
    expect(refusal(() => parsePointer(`${POINTER}${'k'.repeat(1100)}: 1\n`, 'k.dvs')).code).toBe('POINTER_INVALID');
    expect(refusal(() => parsePointer(`${POINTER}---\n${POINTER}`, 'two.dvs'))).toMatchObject({ code: 'POINTER_INVALID', data: { reason: 'multiple-documents' } });
    expect(parsePointer(`${POINTER}note: "a\\0b"\n`.replace(/\n/g, '\r\n'), 'crlf.dvs').size).toBe(5);
  });

  it('reads a 1 MiB pointer of 100,000 keys in time proportional to its size', () => {
    // The yaml library's own duplicate-key check compares each key with every earlier one: minutes here.
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}: 1\n`).join('');
    // CPU time, not wall time: the suite shares a busy machine. Quadratic key checks take minutes of CPU.
    const started = process.cpuUsage();
    expect(parsePointer(POINTER + keys, 'many.dvs').size).toBe(5);
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1000).toBeLessThan(20_000);
    expect(refusal(() => parsePointer(`${POINTER}${keys}k99999: 2\n`, 'many.dvs')).message).toMatch(/^many\.dvs:100005: not valid YAML: Map keys must be unique \("k99999" repeats\)$/);
  });

  it('quotes hostile values briefly in messages', () => {
    const e = refusal(() => parsePointer(`version: 1\nkind: file\noid: sha256:${'f'.repeat(500_000)}\nsize: 1\n`, 'o.dvs'));
    expect(e.code).toBe('INVALID_OID');
    expect(e.message.length).toBeLessThan(200);
    expect(refusal(() => parsePointer(`version: 1\nkind: ${'x'.repeat(100_000)}\n`, 'k.dvs')).message.length).toBeLessThan(200);
  });
});

describe('directory manifests', () => {
  const line = (path: string, size = '1') => `${OID} ${size} - ${path}\n`;
  const manifest = (...lines: string[]) => `dvs-manifest 1\n${lines.join('')}`;

  it('refuses a path that is both a file and a directory, even with siblings sorted between them', () => {
    const e = refusal(() => parseManifest(manifest(line('a'), line('a-b'), line('a.txt'), line('a/b')), 'manifest of data'));
    expect(e.code).toBe('MANIFEST_INVALID');
    expect(e.message).toBe('manifest of data: line 5: "a/b" lies inside "a", which line 2 lists as a file');
    expect(e.data).toMatchObject({ line: 5, path: 'a/b', file: 'a', fileLine: 2 });
    expect(refusal(() => parseManifest(manifest(line('x/a'), line('x/a/b/c')), 'm')).message).toContain('"x/a/b/c" lies inside "x/a"');
    // Names that only share a prefix are fine.
    expect(parseManifest(manifest(line('a-b'), line('a.txt'), line('a/b'), line('ab/c')), 'm').entries).toHaveLength(4);
  });

  it('accepts only the one valid encoding of sizes and paths', () => {
    for (const size of ['', '01', '+1', '1e3', '0x10', '1.0', ' 1', '99999999999999999']) {
      expect(refusal(() => parseManifest(manifest(line('a', size)), 'm')).code, `size "${size}"`).toBe('MANIFEST_INVALID');
    }
    for (const path of ['a%41', 'a%', 'a%0a', 'a\rb']) {
      expect(refusal(() => parseManifest(manifest(line(path)), 'm')).code, path).toBe('MANIFEST_INVALID');
    }
    expect(parseManifest(manifest(line('100%25 %0Ax', '0')), 'm').entries[0]).toMatchObject({ path: '100% \nx', size: 0 });
  });
});

describe('config files', () => {
  const load = (text: string) => new Config(parseConfigText(text, '.dvs/config'), parseConfigText('', '.dvs/config.local'));

  it('refuses values of the wrong type, naming the key', () => {
    const cases: Array<[string, string]> = [
      ['core:\n  autostage: "yes"\n', 'core.autostage must be true or false, not "yes"'],
      ['transfer:\n  jobs: -1\n', 'transfer.jobs must be a non-negative integer, not -1'],
      ['transfer: {retries: 2.5}\n', 'transfer.retries must be a non-negative integer, not 2.5'],
      ['cache: {type: [reflink, floppy]}\n', 'cache.type must be a list of reflink, hardlink, symlink, copy, not ["reflink","floppy"]'],
      ['remote: {origin: {url: 5}}\n', 'remote.origin.url must be text, not 5'],
      ['core: {remote: [a]}\n', 'core.remote must be text, not ["a"]'],
    ];
    for (const [text, message] of cases) {
      const e = refusal(() => load(text));
      expect(e).toMatchObject({ kind: 'input', code: 'CONFIG_INVALID' });
      expect(e.message).toBe(`.dvs/config: ${message}`);
    }
    expect(refusal(() => load('core: 5\n')).code).toBe('CONFIG_UNKNOWN_KEY');
    expect(refusal(() => load('- a\n- b\n')).message).toBe('.dvs/config: the top level must be a map of sections');
    expect(refusal(() => load('core: &c {autostage: true}\ncache: *c\n')).code).toBe('CONFIG_ALIAS');
    expect(refusal(() => load('[[[['.repeat(20))).code).toBe('CONFIG_TOO_DEEP');
  });

  it('reads an empty value as the default, and a comma list of link types', () => {
    const config = load('core:\n  autostage:\ncache:\n  type: hardlink, copy\n');
    expect(config.bool('core.autostage')).toBe(true);
    expect(config.linkTypes()).toEqual(['hardlink', 'copy']);
  });

  it('refuses an oversized config file or one that is not a file, before reading it', () => {
    const big = join(dir, 'config');
    writeFileSync(big, 'core: {}\n');
    truncateSync(big, 3 * 2 ** 30);
    expect(quickRefusal(() => loadConfigFile(big)).code).toBe('CONFIG_TOO_LARGE');
    symlinkSync('/dev/zero', join(dir, 'config.zero'));
    expect(quickRefusal(() => loadConfigFile(join(dir, 'config.zero'))).code).toBe('CONFIG_INVALID');
    expect(loadConfigFile(join(dir, 'absent')).doc.contents).toBeNull();
  });
});

describe('run records', () => {
  const RUN = `version: 1\nid: r1\nmodel: lm\nstatus: finished\ndatasets: []\n`;

  it('refuse members of the wrong shape, naming them', () => {
    const cases: Array<[string, string]> = [
      ['metrics: 5\n', 'metrics must be a map, not 5'],
      ['metrics: {acc: high}\n', 'metrics.acc must be a number, not "high"'],
      ['params: {a: {b: 1}}\n', 'params.a must be text, a number or true/false, not {"b":1}'],
      ['hardware: []\n', 'hardware must be a map, not []'],
      ['hardware: {gpus: x}\n', 'hardware.gpus must be a list, not "x"'],
      ['hardware: {gpus: [5]}\n', 'hardware.gpus[0] must be a map, not 5'],
      ['duration: .inf\n', 'duration must be a number, not Infinity'],
      ['code: {changes: [1]}\n', 'code.changes must be a list of text, not [1]'],
    ];
    for (const [extra, message] of cases) {
      const e = refusal(() => parseRun(RUN + extra, '.dvs/runs/r1.yaml', 'r1'));
      expect(e).toMatchObject({ kind: 'input', code: 'RUN_RECORD_INVALID' });
      expect(e.message).toBe(`.dvs/runs/r1.yaml: ${message}`);
    }
    const bad = (text: string) => refusal(() => parseRun(text, 'r.yaml', 'r1')).message;
    expect(bad(RUN.replace('model: lm', 'model: 5'))).toBe('r.yaml: model must be text, not 5');
    expect(bad(RUN.replace('datasets: []', 'datasets: x'))).toBe('r.yaml: datasets must be a list, not "x"');
    expect(bad(RUN.replace('datasets: []', 'datasets: [null]'))).toBe('r.yaml: datasets[0] must be a map, not null');
    expect(bad(RUN.replace('datasets: []', 'datasets: [{path: a, oid: x}]'))).toBe('r.yaml: datasets[0].oid must be "sha256:<64 hex digits>", not "x"');
    expect(bad(`${RUN}hardware: {extra: .nan}\n`)).toBe('r.yaml: hardware.extra is not a finite number');
    expect(bad('null\n')).toBe('r.yaml: a run record must be a YAML map');
    expect(refusal(() => parseRun(`${RUN}x: &a 1\n`, 'r.yaml', 'r1')).code).toBe('RUN_RECORD_ALIAS');
  });

  it('fill what is absent with defaults that everything downstream can use', () => {
    const { record } = parseRun(`version: 1\nid: r1\ndatasets: []\n`, 'r.yaml', 'r1');
    expect(record).toMatchObject({ model: '', status: 'running', finished: null, params: {}, metrics: {}, code: { commit: null, changes: [] } });
    expect(record.hardware).toEqual({ platform: '', os: '', cpu: '', cores: 0, memory: 0, gpus: null, node: '' });
  });
});

describe('audit events and lineage records', () => {
  const event = (over: Record<string, unknown>) =>
    JSON.stringify({ v: 1, seq: 1, type: 'track', time: 't', user: 'u', host: 'h', commit: null, paths: [], data: {}, prev: [], hash: OID, ...over });

  it('refuse malformed events as input errors that name the file', () => {
    const cases: Array<[string, string]> = [
      [event({ data: { x: 1e400 } }).replace('"x":null', '"x":1e400'), 'data.x is not a finite number'],
      [event({ paths: [{ path: 'a', oid: `sha256:${OID}`, size: -1 }] }), 'paths[0].size must be a non-negative integer'],
      [event({ paths: [{ path: 'a', oid: `sha256:${OID}`, kind: 5 }] }), 'paths[0].kind must be "file" or "dir"'],
      [event({ paths: [5] }), 'paths[0] must be a map'],
      ['[', 'not valid JSON'],
    ];
    for (const [text, reason] of cases) {
      const e = refusal(() => parseEvent(text, '.dvs/audit/e.json'));
      expect(e).toMatchObject({ kind: 'input', code: 'AUDIT_EVENT_INVALID' });
      expect(e.message).toContain(`.dvs/audit/e.json: not a valid audit event: ${reason}`);
    }
    expect(quickRefusal(() => parseEvent(event({ data: { d: JSON.parse('['.repeat(40) + ']'.repeat(40)) } }), 'e.json')).code).toBe('AUDIT_EVENT_TOO_DEEP');
    expect(quickRefusal(() => parseEvent('['.repeat(1_000_000), 'e.json')).code).toBe('AUDIT_EVENT_TOO_DEEP');
    expect(quickRefusal(() => parseEvent(event({ data: { x: 'y'.repeat(2 << 20) } }), 'e.json')).code).toBe('AUDIT_EVENT_TOO_LARGE');
  });

  it('refuse lineage records of the wrong shape; the pointer itself stays readable', () => {
    const io = `{path: d/in.csv, oid: "sha256:${OID}"}`;
    const cases: Array<[string, string]> = [
      [`lineage: {transform: t, inputs: [], outputs: [], command: 5}`, 'lineage.command must be a list of arguments or a text, not 5'],
      [`lineage: {transform: t, inputs: [{path: d/in.csv, oid: "sha256:${OID}", size: x}], outputs: []}`, 'lineage.inputs[0].size must be a non-negative integer, not "x"'],
      [`lineage: {transform: t, inputs: [${io}], outputs: [], params: {a: [1]}}`, 'lineage.params.a must be text, a number or true/false, not [1]'],
      [`lineage: {transform: t, inputs: [5], outputs: []}`, 'lineage.inputs[0] must be a map, not 5'],
      [`lineage: [1]`, 'lineage must be a map'],
    ];
    for (const [yaml, reason] of cases) {
      const pointer = parsePointer(`${POINTER}${yaml}\n`, 'x.dvs');
      expect(lineageOf(pointer)).toEqual({ error: reason });
    }
    const e = refusal(() => parseLineage({ transform: 't', inputs: 'x', outputs: [] }, 'x.dvs'));
    expect(e).toMatchObject({ kind: 'input', code: 'LINEAGE_INVALID', message: 'x.dvs: lineage.inputs and lineage.outputs must be lists' });
  });
});
