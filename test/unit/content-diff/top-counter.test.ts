import { describe, expect, it } from 'vitest';
import { EXACT_DISTINCT_CAP, TopCounter } from '../../../src/diff/content/sketches.js';
import { hashString, H1, H2 } from '../../../src/diff/content/hash.js';
import { rng } from './fixtures.js';

/** The summary's documented parameters (sketches.ts): k counters kept, pruned at 4k. */
const K = 1_000;
const BATCH = 4 * K;

/**
 * The batched Misra-Gries summary as documented, the obvious way (a Map): exact up to
 * EXACT_DISTINCT_CAP distinct values; past that, whenever it holds BATCH counters (or when the exact
 * phase ends), subtract the (k+1)-th largest count and drop what reaches zero.
 */
function reference(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  let exact = true;
  const prune = (): void => {
    const sorted = [...counts.values()].sort((a, b) => b - a);
    const cut = sorted.length > K ? sorted[K]! : 0;
    for (const [v, c] of counts) {
      if (c > cut) counts.set(v, c - cut);
      else counts.delete(v);
    }
  };
  for (const v of values) {
    const c = counts.get(v);
    if (c !== undefined) {
      counts.set(v, c + 1);
      continue;
    }
    if (exact && counts.size >= EXACT_DISTINCT_CAP) {
      exact = false;
      prune();
    }
    counts.set(v, 1);
    if (!exact && counts.size >= BATCH) prune();
  }
  return counts;
}

function top(counts: Map<string, number>, n: number): { value: string; count: number }[] {
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, n);
}

describe('top-value counter (Misra-Gries phase)', () => {
  // A column past the exact phase: a few frequent values, a middle band that repeats unevenly, and
  // a long tail of values seen once. The frequent ones survive every prune, so the counter never turns
  // to sampling (which the reference does not model). Both ways of finding the cut are taken: the
  // smallest count (13 of the 19 prunes) and the sort (when more than k counters count more than the
  // smallest). Both the old and the new shape of prune (sketches.ts) pass; a wrong cut fails.
  const rand = rng(2024);
  const values: string[] = [];
  for (let i = 0; i < 120_000; i++) {
    const r = rand();
    if (r < 0.15) values.push(`hot-${Math.floor(rand() * 12)}`);
    else if (r < 0.55) values.push(`band-${Math.floor(rand() * rand() * 3_000)}`);
    else values.push(`once-${i}`);
  }

  it('counts exactly what the documented algorithm counts, cut by cut', () => {
    const t = new TopCounter();
    for (const v of values) {
      hashString(v);
      t.add(v, 0, v.length, H1, H2);
    }
    expect(t.exact).toBe(false);
    const want = reference(values);
    expect(top(want, 1)[0]!.value.startsWith('hot-')).toBe(true);
    // Every counter, not only the top: a wrong cut shows in the counts it leaves.
    expect(t.size).toBe(want.size);
    expect(t.top(t.size)).toEqual(top(want, want.size));
  });

  it('counts CSV cells read in place from a chunk the same as values of their own', () => {
    // The in-place path keeps a cell as (chunk, start, end) until a prune keeps it.
    const t = new TopCounter();
    for (let i = 0; i < values.length; i += 500) {
      const part = values.slice(i, i + 500);
      const chunk = part.join(',');
      let s = 0;
      for (const v of part) {
        hashString(v);
        t.add(chunk, s, s + v.length, H1, H2);
        s += v.length + 1;
      }
    }
    const want = reference(values);
    expect(t.top(t.size)).toEqual(top(want, want.size));
  });
});
