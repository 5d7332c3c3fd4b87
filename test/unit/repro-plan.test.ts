import { describe, expect, it } from 'vitest';
import type { LineageRecord } from '../../src/lineage/record.js';
import { currentParams, staleReasons, type ChainStep } from '../../src/lineage/repro-plan.js';
import { parseParamsSpec, paramsFromText } from '../../src/lineage/params-file.js';
import { resultKey } from '../../src/lineage/result-cache.js';
import { lineageHash, parseLineage, lineageToStored } from '../../src/lineage/record.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const record = (over: Partial<LineageRecord> = {}): LineageRecord => ({
  transform: 'filter',
  params: { 'filter.min': 0.5, seed: 7 },
  paramsFrom: ['params.yaml:filter'],
  command: ['node', 'filter.js'],
  inputs: [{ path: 'data/raw.csv', oid: A, kind: 'file', size: 10, rows: 3 }],
  outputs: [{ path: 'data/out.csv', oid: B, kind: 'file', size: 5, rows: 1 }],
  started: '2024-01-01T00:00:00.000Z',
  duration: 1,
  user: 'u',
  host: 'h',
  commit: null,
  dirty: false,
  ran: 'here',
  ...over,
});
const step = (r = record()): ChainStep => ({ id: 'x', record: r, upstream: [] });

describe('repro planning', () => {
  it('reads a params-file section by dotted path, and refuses a spec without a key', () => {
    expect(paramsFromText('filter:\n  min: 0.5\n  cols: [a, b]\n  deep:\n    on: true\ntrain:\n  lr: 1\n', { spec: 'p.yaml:filter', file: 'p.yaml', key: 'filter' })).toEqual({
      'filter.min': 0.5,
      'filter.cols': '["a","b"]',
      'filter.deep.on': true,
    });
    expect(paramsFromText('train:\n  lr: 0.1\n', { spec: 'p.yaml:train.lr', file: 'p.yaml', key: 'train.lr' })).toEqual({ 'train.lr': 0.1 });
    expect(() => paramsFromText('a: 1\n', { spec: 'p.yaml:b', file: 'p.yaml', key: 'b' })).toThrow(/no key "?b"?/);
    expect(() => parseParamsSpec('params.yaml')).toThrow(/expected <file>:<key>/);
    expect(parseParamsSpec('conf/params.yaml:filter.min')).toEqual({ file: 'conf/params.yaml', key: 'filter.min' });
  });

  it('takes --param values from the record and params-file values from the file now', () => {
    expect(currentParams(record(), () => ({ 'filter.min': 0.8 }))).toEqual({ seed: 7, 'filter.min': 0.8 });
    // A key gone from the file is gone from the parameters (and makes the step stale).
    expect(currentParams(record(), () => ({}))).toEqual({ seed: 7 });
  });

  it('names every reason a step is stale, and none when it matches its record', () => {
    const same = { inputs: () => A, params: { 'filter.min': 0.5, seed: 7 } };
    expect(staleReasons(step(), same)).toEqual([]);
    expect(staleReasons(step(), { ...same, inputs: () => B, params: { 'filter.min': 0.8, seed: 7 } })).toEqual([
      { kind: 'input', path: 'data/raw.csv', recorded: A, current: B },
      { kind: 'param', key: 'filter.min', file: 'params.yaml', recorded: 0.5, current: 0.8 },
    ]);
    expect(staleReasons(step(), { ...same, inputs: () => 'pending', producer: () => 'clean' })).toEqual([{ kind: 'upstream', path: 'data/raw.csv', step: 'clean' }]);
    expect(staleReasons(step(), { ...same, inputs: () => null })).toEqual([{ kind: 'input', path: 'data/raw.csv', recorded: A, current: null }]);
    expect(staleReasons(step(), { ...same, outputs: () => A })).toEqual([{ kind: 'output', path: 'data/out.csv', recorded: B, current: A }]);
  });

  it('keys a result by command, directory, parameters, input versions and output paths only', () => {
    const key = resultKey(record());
    expect(resultKey(record({ started: '2025-01-01T00:00:00.000Z', user: 'v', outputs: [{ path: 'data/out.csv', oid: A, kind: 'file', size: 1, rows: null }] }))).toBe(key);
    expect(resultKey(record({ params: { 'filter.min': 0.8, seed: 7 } }))).not.toBe(key);
    expect(resultKey(record({ inputs: [{ path: 'data/raw.csv', oid: B, kind: 'file', size: 10, rows: 3 }] }))).not.toBe(key);
    expect(resultKey(record({ cwd: 'sub' }))).not.toBe(key);
    expect(resultKey(record({ command: ['node', 'other.js'] }))).not.toBe(key);
  });

  it('writes params_from and cwd only when set, so older records keep their hash', () => {
    const old = record({ paramsFrom: undefined });
    delete old.paramsFrom;
    expect(Object.keys(lineageToStored(old))).not.toContain('params_from');
    expect(Object.keys(lineageToStored(old))).not.toContain('cwd');
    const r = record({ cwd: 'sub/dir' });
    const back = parseLineage(JSON.parse(JSON.stringify(lineageToStored(r))));
    expect(back).toMatchObject({ paramsFrom: ['params.yaml:filter'], cwd: 'sub/dir' });
    expect(lineageHash(back)).toBe(lineageHash(r));
    expect(() => parseLineage({ ...lineageToStored(r), cwd: '../out' })).toThrow(/lineage.cwd must be a plain relative directory/);
  });
});
