import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { describeEvent, hashEvent, parseEvent, serializeEvent, type AuditEvent } from '../../src/audit/event.js';
import { DvsError } from '../../src/errors.js';
import { lineageHash, lineageOf, lineageToStored, parseLineage, type LineageIO, type LineageRecord } from '../../src/lineage/record.js';
import { compareBytes, parseManifest, serializeManifest, type Manifest } from '../../src/objects/manifest.js';
import { isOid } from '../../src/objects/oid.js';
import { parsePointer, serializePointer, unknownKeys, type Pointer } from '../../src/pointer/format.js';
import { LINK_TYPES } from '../../src/objects/link.js';
import { Config, keySpec, parseConfigText } from '../../src/repo/config.js';
import { checkRelativePath } from '../../src/base/paths.js';
import { parseRun, runHash, serializeRun, type RunRecord } from '../../src/runs/record.js';

/**
 * Property: every text a repository could hold is either parsed into a well-formed value or refused
 * with a DvsError of kind "input" — never another exception, never a hang. Inputs are valid documents
 * mutated (flipped, cut, duplicated characters; inserted anchors, aliases, tags, deep nesting, huge
 * numbers, NUL, CR), token soup, and arbitrary strings.
 */

const RUNS = 10_000;
/**
 * No hang: one input may take at most SLOW_MS, a whole property at most BUDGET_MS. Both are far above
 * what a busy two-core machine needs (a property takes 2-5 s alone, ~20 s beside the rest of the suite).
 */
const BUDGET_MS = 90_000;
const SLOW_MS = 5_000;
const settings = { numRuns: RUNS, plugins: [fc.interruptAfterTimeLimit(BUDGET_MS, { failOnInterrupt: true })] };

const OID = '4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393';
const OID2 = '9e1b0c2f8d3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

/** Parse; a refusal must be an input error naming something; a value must pass `check`. */
function parsedOrRefused<T>(parse: () => T, check: (value: T) => void): void {
  const started = performance.now();
  let value: T;
  try {
    value = parse();
  } catch (err) {
    if (!(err instanceof DvsError) || err.kind !== 'input') throw err;
    expect(err.message.length).toBeGreaterThan(0);
    expect(err.code).toMatch(/^[A-Z_]+$/);
    return;
  } finally {
    const took = performance.now() - started;
    if (took > SLOW_MS) throw new Error(`one input took ${Math.round(took)} ms`);
  }
  check(value);
}

// ---------------------------------------------------------------------------------------------------
// Mutations

const SNIPPETS = [
  '&a ', '*a', 'a: &a [x, x, x, x]\nb: [*a, *a, *a, *a]\n', '!!binary ', '!foo ', '!!str ', '!!int ', '!!map ', '!<tag:x> ',
  '<<: ', '<<: {k: 1}\n', '? ', '- ', ': ', '[', ']', '{', '}', ',', '#', '"', "'", '\\', '|\n', '>-\n',
  '%YAML 1.1\n---\n', '%TAG !e! tag:e.com:\n', '---\n', '...\n', '\0', '\r', '\r\n', '\n', '\t', '  ', '\uFEFF',
  '\u2028', '\uD800', 'é', '\u{1F600}', '9'.repeat(400), '1e400', '-0', '.nan', '.inf', '~', 'null', '0x1F',
  '0o17', 'true', 'sha256:', OID, '%25', '%0A', '%0D', '%41', '../', '/', '//', `${'k'.repeat(1100)}: 1\n`,
  '__proto__: {x: 1}\n', 'version: 1\n', 'kind: dir\n', 'files: 3\n', 'lineage: 5\n', 'size: -1\n', '{"v":1}',
];

// Deeper than any limit; 10,000-deep documents are in the targeted tests (safe-yaml.test.ts).
const nested = fc
  .tuple(fc.integer({ min: 1, max: 200 }), fc.constantFrom('[', '{a: ', '- ', '? ', '[{', '{"a":['))
  .map(([n, open]) => open.repeat(n));

const snippet = fc.oneof({ arbitrary: fc.constantFrom(...SNIPPETS), weight: 8 }, { arbitrary: nested, weight: 1 });

type Mutation = (s: string) => string;
const at = (s: string, n: number) => n % (s.length + 1);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })).map(([n, c]): Mutation => (s) => s.slice(0, at(s, n)) + c + s.slice(at(s, n) + 1)),
  fc.nat().map((n): Mutation => (s) => s.slice(0, at(s, n))),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 80 })).map(([n, len]): Mutation => (s) => s.slice(0, at(s, n)) + s.slice(at(s, n), at(s, n) + len) + s.slice(at(s, n))),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 })).map(([n, len]): Mutation => (s) => s.slice(0, at(s, n)) + s.slice(at(s, n) + len)),
  fc.tuple(fc.nat(), snippet).map(([n, piece]): Mutation => (s) => s.slice(0, at(s, n)) + piece + s.slice(at(s, n))),
  fc.constantFrom<Mutation>((s) => s.replace(/\n/g, '\r\n'), (s) => s.replace(/\n/g, '\r'), (s) => s.replace(/ {2}/g, '\t')),
);

/** Valid documents mutated, token soup, and arbitrary strings. */
function inputs(seeds: string[], soup: readonly string[] = SNIPPETS): fc.Arbitrary<string> {
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([seed, ms]) => ms.reduce((s, m) => m(s), seed));
  const tokens = fc.array(fc.oneof(fc.constantFrom(...soup), fc.constantFrom('a', 'b: ', 'x', '1', '\n', ' ')), { maxLength: 30 }).map((a) => a.join(''));
  return fc.oneof(
    { arbitrary: mutated, weight: 6 },
    { arbitrary: fc.constantFrom(...seeds), weight: 1 },
    { arbitrary: tokens, weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), weight: 1 },
  );
}

// ---------------------------------------------------------------------------------------------------
// Well-formed values

const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
const isScalarMap = (m: unknown) =>
  !!m && typeof m === 'object' && !Array.isArray(m) && Object.values(m).every((v) => ['string', 'boolean'].includes(typeof v) || (typeof v === 'number' && Number.isFinite(v)));

function checkLineageIO(io: LineageIO): void {
  expect(typeof io.path).toBe('string');
  expect(isOid(io.oid)).toBe(true);
  expect(['file', 'dir']).toContain(io.kind);
  expect(isCount(io.size)).toBe(true);
  expect(io.rows === null || isCount(io.rows)).toBe(true);
  expect(io.files === undefined || isCount(io.files)).toBe(true);
}

function checkLineage(r: LineageRecord): void {
  expect(typeof r.transform).toBe('string');
  expect(isScalarMap(r.params)).toBe(true);
  expect(r.command === null || typeof r.command === 'string' || (Array.isArray(r.command) && r.command.every((a) => typeof a === 'string'))).toBe(true);
  r.inputs.forEach(checkLineageIO);
  r.outputs.forEach(checkLineageIO);
  for (const k of ['started', 'user', 'host'] as const) expect(typeof r[k]).toBe('string');
  expect(r.duration === null || Number.isFinite(r.duration)).toBe(true);
  expect(r.commit === null || typeof r.commit === 'string').toBe(true);
  expect(typeof r.dirty).toBe('boolean');
  expect(['here', 'elsewhere']).toContain(r.ran);
  expect(lineageHash(r)).toMatch(/^[0-9a-f]{64}$/);
}

/** Every fourth accepted input is also rewritten and read back. */
let accepted = 0;
const roundTrip = () => accepted++ % 4 === 0;

const pointerData = (p: Pointer) => ({ kind: p.kind, oid: p.oid, size: p.size, files: p.files, exec: p.exec });

function checkPointer(p: Pointer): void {
  expect(['file', 'dir']).toContain(p.kind);
  expect(isOid(p.oid)).toBe(true);
  expect(isCount(p.size)).toBe(true);
  if (p.kind === 'dir') expect(isCount(p.files)).toBe(true);
  else expect(typeof p.exec).toBe('boolean');
  expect(unknownKeys(p).every((k) => typeof k === 'string')).toBe(true);
  const lineage = lineageOf(p);
  if (lineage.record) checkLineage(lineage.record);
  else if (lineage.error !== undefined) expect(typeof lineage.error).toBe('string');
  // Rewriting what was read gives a pointer that reads back the same (checked on a sample: costly).
  if (roundTrip()) {
    const data = pointerData(p);
    expect(pointerData(parsePointer(serializePointer(data, p.doc), 'again.dvs'))).toEqual(data);
  }
}

function checkManifest(m: Manifest, text: string): void {
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i];
    expect(isOid(e.oid)).toBe(true);
    expect(isCount(e.size)).toBe(true);
    checkRelativePath(e.path, 'entry');
    if (i > 0) expect(compareBytes(m.entries[i - 1].path, e.path)).toBeLessThan(0);
  }
  // One valid encoding: what was accepted is exactly what dvs would write (as bytes: a manifest is read
  // from UTF-8, where a lone surrogate the fuzzer puts in a string cannot occur).
  expect(serializeManifest(m).equals(Buffer.from(text))).toBe(true);
}

function checkConfig(config: Config): void {
  for (const { key, value } of config.entries()) {
    const spec = keySpec(key);
    expect(spec).toBeDefined();
    if (spec!.kind === 'boolean') expect(typeof value).toBe('boolean');
    if (spec!.kind === 'integer') expect(isCount(value)).toBe(true);
    if (spec!.kind === 'string' || spec!.kind === 'path') expect(typeof value).toBe('string');
  }
  for (const t of config.linkTypes()) expect(LINK_TYPES).toContain(t);
  expect(Array.isArray(config.remoteNames())).toBe(true);
}

function checkRun(r: RunRecord): void {
  for (const k of ['id', 'model', 'started', 'user', 'host'] as const) expect(typeof r[k]).toBe('string');
  expect(['running', 'finished']).toContain(r.status);
  expect(r.finished === null || typeof r.finished === 'string').toBe(true);
  expect(r.duration === null || Number.isFinite(r.duration)).toBe(true);
  expect(r.code.commit === null || typeof r.code.commit === 'string').toBe(true);
  expect(r.code.branch === null || typeof r.code.branch === 'string').toBe(true);
  expect(typeof r.code.dirty).toBe('boolean');
  expect(r.code.changes.every((c) => typeof c === 'string')).toBe(true);
  for (const d of r.datasets) {
    expect(typeof d.path).toBe('string');
    expect(['file', 'dir']).toContain(d.kind);
    expect(isOid(d.oid)).toBe(true);
    expect(isCount(d.size)).toBe(true);
    expect(d.rows === null || isCount(d.rows)).toBe(true);
    for (const s of d.lineage) {
      expect(typeof s.step).toBe('string');
      expect(typeof s.transform).toBe('string');
      expect(isScalarMap(s.params)).toBe(true);
      for (const io of [...s.inputs, ...s.outputs]) {
        expect(typeof io.path).toBe('string');
        expect(isOid(io.oid)).toBe(true);
      }
    }
  }
  expect(isScalarMap(r.params)).toBe(true);
  const h = r.hardware;
  for (const k of ['platform', 'os', 'cpu', 'node'] as const) expect(typeof h[k]).toBe('string');
  expect(isCount(h.cores) && isCount(h.memory)).toBe(true);
  expect(h.gpus === null || h.gpus.every((g) => typeof g.name === 'string' && (g.memory === null || typeof g.memory === 'string'))).toBe(true);
  expect(Object.values(r.metrics).every((v) => Number.isFinite(v))).toBe(true);
  expect(runHash(r)).toMatch(/^[0-9a-f]{64}$/);
}

function checkEvent(e: AuditEvent): void {
  expect(isCount(e.seq) && e.seq >= 1).toBe(true);
  for (const k of ['type', 'time', 'user', 'host', 'hash'] as const) expect(typeof e[k]).toBe('string');
  expect(e.commit === null || typeof e.commit === 'string').toBe(true);
  for (const p of e.paths) {
    expect(typeof p.path).toBe('string');
    expect(isOid(p.oid)).toBe(true);
    expect(p.kind === undefined || ['file', 'dir'].includes(p.kind)).toBe(true);
    expect(p.size === undefined || isCount(p.size)).toBe(true);
  }
  expect(e.prev.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  expect(hashEvent(e)).toMatch(/^[0-9a-f]{64}$/);
  expect(typeof describeEvent(e)).toBe('string');
}

// ---------------------------------------------------------------------------------------------------
// Seeds: what dvs writes, plus hand-edited variants

const LINEAGE: LineageRecord = {
  transform: 'dedup',
  params: { min: 0.5, strict: true },
  command: ['node', 'dedup.mjs'],
  inputs: [{ path: 'd/in.csv', oid: OID2, kind: 'file', size: 10892, rows: 370 }],
  outputs: [{ path: 'd/out', oid: OID, kind: 'dir', size: 10610, files: 2, rows: null }],
  started: '2024-05-13T10:15:02.123Z',
  duration: 0.412,
  user: 'Ann',
  host: 'box',
  commit: null,
  dirty: false,
  ran: 'elsewhere',
};

const withLineage = (() => {
  const p = parsePointer(serializePointer({ kind: 'file', oid: OID, size: 10610 }), 'x.dvs');
  p.doc.set('lineage', p.doc.createNode(lineageToStored(LINEAGE)));
  return p.doc.toString();
})();

/** Without the two header comment lines dvs writes: parsing cost grows with length, and comments are covered once. */
const bare = (text: string) => text.replace(/^#.*\n/gm, '').replace(/^\n/, '');

const POINTERS = [
  serializePointer({ kind: 'file', oid: OID, size: 12345, exec: true }),
  bare(serializePointer({ kind: 'dir', oid: OID2, size: 1048576000, files: 20000 })),
  bare(withLineage),
  `# notes\nversion: 1\nkind: file # the kind\noid: "sha256:${OID}"\nsize: 0\nowner: data-team\ntags: [a, b]\n`,
];

const MANIFESTS = [
  serializeManifest({
    entries: [
      { path: 'a', oid: OID, size: 1, exec: false },
      { path: 'a-b/c.csv', oid: OID2, size: 20, exec: true },
      { path: 'b/c/d.txt', oid: OID, size: 0, exec: false },
      { path: 'odd\nname %', oid: OID2, size: 123456789, exec: false },
      { path: 'z/\u00e9t\u00e9.parquet', oid: OID, size: 7, exec: false },
    ],
  }).toString(),
  'dvs-manifest 1\n',
];

const CONFIGS = [
  'core:\n  autostage: false\n  remote: origin\ncache:\n  type: [hardlink, copy]\n  dir: /mnt/cache\ntransfer:\n  jobs: 8\n  retries: 2\n' +
    'remote:\n  origin:\n    url: s3://bucket/prefix\n    path_style: true\n    jobs: 4\n',
  '# comment only\n',
  'cache: {type: "reflink,copy"}\nhooks: {autofetch: true}\ndiff: {content: false}\naudit: {enabled: true}\n',
];

const RUN: RunRecord = {
  id: 'run-42',
  model: 'lm',
  status: 'finished',
  started: '2024-05-13T10:15:02Z',
  finished: '2024-05-13T11:15:02Z',
  duration: 3600,
  user: 'Ann',
  host: 'box',
  code: { commit: 'c0ffee', branch: 'main', dirty: true, changes: ['t.py'] },
  datasets: [
    {
      path: 'd/a.csv',
      kind: 'file',
      oid: OID,
      size: 106,
      rows: 36,
      lineage: [{ step: 'd/a.csv', transform: 'dedup', params: { key: 'x' }, rowsIn: 37, rowsOut: 36, inputs: [{ path: 'd/b.csv', oid: OID2, rows: 37 }], outputs: [] }],
    },
  ],
  params: { lr: 0.001, opt: 'adam', shuffle: true },
  hardware: { platform: 'linux-x64', os: 'Linux', cpu: 'x', cores: 2, memory: 4096, gpus: [{ name: 'A100', memory: '40 GiB' }], node: 'v22' },
  metrics: { accuracy: 0.91 },
};

const DIR_DATASET = { path: 'd/img', kind: 'dir' as const, oid: OID2, size: 9, files: 3, rows: null, lineage: [], staleLineage: true };

/** A record reduced to some of its keys: each seed covers part of the format, so each input stays short. */
function runWith(record: RunRecord, keys: string[]): string {
  const doc = parseDocument(bare(serializeRun(record)));
  for (const key of Object.keys(doc.toJS() as object)) if (!['version', 'id', ...keys].includes(key)) doc.delete(key);
  return doc.toString();
}

const RUNS_TEXT = [
  runWith(RUN, ['datasets', 'status']),
  runWith({ ...RUN, datasets: [DIR_DATASET] }, ['datasets', 'params', 'metrics', 'code']),
  runWith(RUN, ['model', 'started', 'finished', 'duration', 'user', 'host', 'hardware']),
  runWith({ ...RUN, status: 'running', finished: null, duration: null, datasets: [], hardware: { ...RUN.hardware, gpus: null } }, ['status', 'finished', 'hardware', 'datasets']),
];

const EVENT = (() => {
  const body = {
    v: 1,
    seq: 3,
    type: 'transform',
    time: '2024-05-13T10:15:02.123Z',
    user: 'Ann <ann@example.com>',
    host: 'box',
    commit: '2634ea1f26cd01c7b70a9f2670e35baf15bde6f9',
    paths: [{ path: 'data/clean.csv', oid: OID, kind: 'file' as const, size: 3, role: 'output' as const }],
    data: { record: OID2, note: 'x', counts: [1, 2, { nested: true }] },
    prev: [OID, OID2],
  };
  return serializeEvent({ ...body, hash: hashEvent(body) });
})();

const JSON_SOUP = ['{', '}', '[', ']', '"', '\\', '\\u0000', ',', ':', '"v":1', '"seq":', '1e400', '-0', 'null', 'true', '"paths":[', '"data":{', '"__proto__":{}', '\n', ' '];

describe('fuzzing: every parser parses or refuses with an input error', { timeout: BUDGET_MS + 30_000 }, () => {
  it(`pointers (${RUNS} inputs), with the lineage records they carry`, () => {
    fc.assert(fc.property(inputs(POINTERS), (text) => parsedOrRefused(() => parsePointer(text, 'data/x.dvs'), checkPointer)), settings);
  });

  it(`directory manifests (${RUNS} inputs), accepted only in their one valid encoding`, () => {
    const soup = ['dvs-manifest 1\n', `${OID} `, '1 ', '01 ', '1e3 ', '- ', 'x ', 'a', 'a/b', 'a-b', '%', '%25', '%0A', '%4', '..', '.', '/', '\r', '\0', '\n'];
    fc.assert(fc.property(inputs(MANIFESTS, soup), (text) => parsedOrRefused(() => parseManifest(text, 'manifest'), (m) => checkManifest(m, text))), settings);
  });

  it(`directory manifests (${RUNS} inputs): refused exactly when a path is both a file and a directory`, () => {
    const names = ['a', 'b', 'a-b', 'a.b', 'a/b', 'a/b/c', 'a/b-c', 'a/c', 'a-b/c', 'b/a', 'a0', 'a/b/c/d'];
    const sets = fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(sets, (paths) => {
        const sorted = [...paths].sort(compareBytes);
        const text = serializeManifest({ entries: sorted.map((path) => ({ path, oid: OID, size: 1, exec: false })) }).toString();
        const clash = sorted.some((p) => sorted.some((q) => q.startsWith(p + '/')));
        let refused: DvsError | undefined;
        try {
          parseManifest(text, 'manifest');
        } catch (err) {
          if (!(err instanceof DvsError)) throw err;
          refused = err;
        }
        expect(refused?.code).toBe(clash ? 'MANIFEST_INVALID' : undefined);
      }),
      settings,
    );
  });

  it(`config files (${RUNS} inputs)`, () => {
    const noLocal = parseConfigText('', '.dvs/config.local');
    fc.assert(
      fc.property(inputs(CONFIGS), (text) => parsedOrRefused(() => new Config(parseConfigText(text, '.dvs/config'), noLocal), checkConfig)),
      settings,
    );
  });

  it(`run records (${RUNS} inputs), which read back the same after a rewrite`, () => {
    fc.assert(
      fc.property(inputs(RUNS_TEXT), (text) =>
        parsedOrRefused(
          () => parseRun(text, '.dvs/runs/run-42.yaml', 'run-42'),
          (loaded) => {
            checkRun(loaded.record);
            if (roundTrip()) expect(parseRun(serializeRun(loaded.record, loaded.doc), 'again.yaml', 'run-42').record).toEqual(loaded.record);
          },
        ),
      ),
      settings,
    );
  });

  it(`audit events (${RUNS} inputs)`, () => {
    fc.assert(
      fc.property(inputs([EVENT], [...JSON_SOUP, ...SNIPPETS]), (text) =>
        parsedOrRefused(
          () => parseEvent(text, '.dvs/audit/e.json'),
          (e) => {
            checkEvent(e);
            expect(parseEvent(serializeEvent(e), e.file)).toEqual(e);
          },
        ),
      ),
      settings,
    );
  });

  it(`lineage records (${RUNS} values of any shape)`, () => {
    const stored = lineageToStored(LINEAGE);
    const keys = Object.keys(stored);
    // The stored record with one member replaced by anything, or any JSON value at all.
    const damaged = fc
      .tuple(fc.constantFrom(...keys), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.anything({ maxDepth: 2 })), fc.nat(), fc.jsonValue({ maxDepth: 2 }))
      .map(([key, value, n, ioValue]) => {
        const copy = structuredClone(stored) as Record<string, unknown>;
        if (n % 3 === 0) copy[key] = value;
        else (copy.inputs as Array<Record<string, unknown>>)[0][['path', 'oid', 'kind', 'size', 'rows', 'files'][n % 6]] = ioValue;
        return copy;
      });
    fc.assert(
      fc.property(fc.oneof({ arbitrary: damaged, weight: 4 }, { arbitrary: fc.anything({ maxDepth: 3 }), weight: 1 }), (value) => parsedOrRefused(() => parseLineage(value), checkLineage)),
      settings,
    );
  });
});
