import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical.js';
import { eventFileName, hashEvent, parseEvent, serializeEvent, type AuditEvent } from '../../src/audit/event.js';
import { headsOf } from '../../src/audit/store.js';
import { verifyTrail } from '../../src/audit/verify.js';

let clock = Date.parse('2024-05-13T10:00:00.000Z');

/** An event following `prev`, hashed and named as recordAuditEvent would. */
function event(type: string, prev: AuditEvent[], user = 'Ann <ann@example.com>'): AuditEvent {
  const body = {
    v: 1,
    seq: 1 + prev.reduce((m, e) => Math.max(m, e.seq), 0),
    type,
    time: new Date((clock += 1000)).toISOString(),
    user,
    host: 'box',
    commit: null,
    paths: [{ path: 'data/x.csv', oid: 'a'.repeat(64), kind: 'file' as const, size: 3 }],
    data: { note: type },
    prev: prev.map((e) => e.hash).sort(),
  };
  const hash = hashEvent(body);
  return { ...body, hash, file: `.dvs/audit/${eventFileName(body.time, hash)}` };
}

const trail = (...events: AuditEvent[]) => ({ events, unreadable: [] });

describe('canonical JSON', () => {
  it('has one encoding per value: sorted keys, no whitespace, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x"y'], c: undefined, d: { z: 0.5, y: -1 } })).toBe('{"a":[true,null,"x\\"y"],"b":1,"d":{"y":-1,"z":0.5}}');
    expect(() => canonicalJson({ n: NaN })).toThrow(/no JSON form/);
  });
});

describe('audit events', () => {
  it('round-trip through their file form and refuse unknown members', () => {
    const e = event('track', []);
    const text = serializeEvent(e);
    expect(parseEvent(text, e.file)).toEqual(e);
    expect(() => parseEvent(text.replace('{"commit"', '{"extra":1,"commit"'), e.file)).toThrow(/unknown member "extra"/);
    expect(() => parseEvent('{"v":2}', e.file)).toThrow(/"v" must be 1/);
  });
});

describe('verifyTrail', () => {
  it('accepts a DAG: two branches that appended after the same event, joined by the next one', () => {
    const root = event('track', []);
    const left = event('push', [root], 'Ann <ann@example.com>');
    const right = event('run-start', [root], 'Bob <bob@example.com>');
    expect(headsOf([root, left, right])).toEqual([left, right]);
    expect(verifyTrail(trail(root, left, right))).toEqual({ events: 3, heads: 2, problems: [] });
    const join = event('track', [left, right]);
    expect(join.seq).toBe(3);
    expect(verifyTrail(trail(join, right, root, left))).toEqual({ events: 4, heads: 1, problems: [] });
  });

  it('reports problems in trail order, so the first is the first bad event', () => {
    const a = event('track', []);
    const b = event('transform', [a]);
    const c = event('run-start', [b]);
    const d = event('run-finish', [c]);
    // b deleted: c, which follows it, is the first bad event.
    const r = verifyTrail(trail(d, c, a));
    expect(r.problems.map((p) => [p.code, p.event?.type])).toEqual([['MISSING_PREV', 'run-start']]);
    // c edited: its content no longer hashes to the hash it carries (and d still links to that hash).
    const editedC = { ...c, user: 'Mallory <m@example.com>' };
    const r2 = verifyTrail(trail(a, b, editedC, d));
    expect(r2.problems.map((p) => [p.code, p.event?.type])).toEqual([['HASH_MISMATCH', 'run-start']]);
    expect(r2.problems[0].message).toContain('was edited after it was written');
    // An anchor (a committed trail) catches the deletion of the newest event, which nothing follows.
    const r3 = verifyTrail(trail(a, b, c), { anchors: [{ rev: 'origin/main', trail: trail(a, b, c, d) }] });
    expect(r3.problems).toEqual([expect.objectContaining({ code: 'DELETED', file: d.file })]);
    expect(r3.problems[0].message).toContain('committed at origin/main, was deleted');
  });
});
