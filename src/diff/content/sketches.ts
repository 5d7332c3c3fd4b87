/**
 * Bounded-memory summaries of a column: distinct count and most frequent values. Both are exact while a
 * column has few distinct values (the common case for the columns a reviewer looks at: labels, domains,
 * flags) and degrade to documented estimates on high-cardinality columns, so a 10 M-row text column costs
 * a few kilobytes instead of a map with 10 M strings.
 */
import { detach } from './hash.js';
import type { Histogram } from './types.js';

/** Distinct values counted exactly (and top values kept exactly) up to this many per column. */
export const EXACT_DISTINCT_CAP = 10_000;
/** After the exact phase, the Misra-Gries summary keeps this many counters. */
const MG_COUNTERS = 1_000;
/**
 * Counters held before a prune cuts them back to MG_COUNTERS. Any batch over k keeps Misra-Gries'
 * guarantee; a bigger one prunes less often, which on a column of some 10,000-50,000 values repeating
 * evenly (a rounded score) was a tenth of a scan's time with a batch of 2k.
 */
const MG_BATCH = 4 * MG_COUNTERS;
/** Table size in that phase: a power of two over twice MG_BATCH, cheap to sweep (only occupied slots are). */
const MG_SLOTS = 8192;
/** Prunes that keep nothing before a column's values are sampled, and the sampling interval. */
const BARREN_PRUNES = 8;
const SAMPLE_EVERY = 8;
/** At most this many decoded 64 KB chunks are kept alive by uncopied entries (4 MB per column). */
const MAX_PINNED_CHUNKS = 64;

/** Ints per TopCounter slot. */
const SLOT = 4;

const HLL_P = 12;
const HLL_M = 1 << HLL_P;

/**
 * HyperLogLog with 4,096 registers: standard error 1.04/sqrt(4096) ≈ 1.6%. The register index comes from
 * one 32-bit half of the value hash and the rank from the other, so 44 useful bits and no large-range
 * correction is needed at the sizes we see.
 */
export class HyperLogLog {
  readonly registers = new Uint8Array(HLL_M);

  add(h1: number, h2: number): void {
    const idx = h1 >>> (32 - HLL_P);
    const rank = Math.clz32(h2) + 1;
    if (rank > this.registers[idx]!) this.registers[idx] = rank;
  }

  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < HLL_M; i++) {
      const r = this.registers[i]!;
      sum += 1 / 2 ** r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / HLL_M);
    const raw = (alpha * HLL_M * HLL_M) / sum;
    // Linear counting is more accurate for small cardinalities.
    if (raw <= 2.5 * HLL_M && zeros > 0) return Math.round(HLL_M * Math.log(HLL_M / zeros));
    return Math.round(raw);
  }
}

/**
 * Value → count, exact up to EXACT_DISTINCT_CAP distinct values. Past that it becomes a Misra-Gries
 * summary (batched: when it holds 4k counters, subtract the (k+1)-th largest count and drop what reaches
 * zero), which is guaranteed to keep every value more frequent than n/k; counts are then lower bounds
 * (and, for a column whose values keep being all different, scaled counts of a row sample: `weight`).
 *
 * Keyed by the 64-bit value hash the scanner computed anyway, in typed arrays: a Map keyed by the value
 * string would hash every string again and was the single largest cost of a scan.
 */
export class TopCounter {
  private cap = 1024;
  /**
   * Slot i is ints [4i, 4i + 4): count (0 marks an empty slot), low and high half of the hash, unused.
   * One array rather than three: a probe reads one cache line, not three.
   */
  private slots = new Int32Array(this.cap * SLOT);
  /**
   * The value of each slot: its own string when owned[i] is 1; otherwise the decoded chunk it lies in,
   * at [from[i], to[i]), so no substring is made for a value that the next prune will forget.
   */
  private values: (string | undefined)[] = new Array<string | undefined>(this.cap).fill(undefined);
  private owned = new Uint8Array(this.cap);
  private from = new Int32Array(this.cap);
  private to = new Int32Array(this.cap);
  /** Occupied slots, so a prune touches only them and not the whole table. */
  private occupied = new Int32Array(this.cap);
  private used = 0;
  private exactPhase = true;
  /** Distinct chunks pinned by substrings since the last prune, bounded to keep their memory small. */
  private lastText: string | undefined;
  private pinned = 0;
  /**
   * Row sampling for columns whose values keep being all different: after BARREN_PRUNES prunes in a
   * row that kept nothing, only every SAMPLE_EVERY-th value is counted (with that weight). Top values
   * of such a column are noise anyway, and counting every one was the largest cost of a scan. Any prune
   * that keeps something (a value repeats after all) returns to counting every value.
   */
  private weight = 1;
  private tick = 0;
  private barren = 0;

  get exact(): boolean {
    return this.exactPhase;
  }

  /** Distinct values seen, while exact (up to 64-bit hash collisions). */
  get size(): number {
    return this.used;
  }

  /** Count the value t[s, e) whose hash is (h1, h2). */
  add(t: string, s: number, e: number, h1: number, h2: number): void {
    if (this.weight > 1) {
      if (++this.tick < this.weight) return;
      this.tick = 0;
    }
    const mask = this.cap - 1;
    const S = this.slots;
    let i = h2 & mask;
    for (let c = S[i * SLOT]!; c !== 0; c = S[i * SLOT]!) {
      if (S[i * SLOT + 1] === (h2 | 0) && S[i * SLOT + 2] === (h1 | 0)) {
        S[i * SLOT] = c + this.weight;
        return;
      }
      i = (i + 1) & mask;
    }
    if (this.exactPhase) {
      if (this.used < EXACT_DISTINCT_CAP) {
        if (this.used + 1 > this.cap / 2) {
          this.rebuild(this.cap * 2, 0);
          i = this.free(h2);
        }
        this.put(i, detach(s === 0 && e === t.length ? t : t.slice(s, e)), 1, h1, h2, 1);
        return;
      }
      this.exactPhase = false;
      this.prune();
      i = this.free(h2);
    }
    if (s === 0 && e === t.length) {
      // A value of its own (JSONL, a quoted CSV cell); it may still be a view of a whole chunk.
      this.put(i, detach(t), 1, h1, h2, this.weight);
      if (this.used >= MG_BATCH) this.prune();
      return;
    }
    // A CSV cell in a decoded chunk. Not copied, not even sliced: most new entries of a high-cardinality
    // column are dropped at the next prune, and making a string per value measurably slows the scan.
    // Survivors get their own copy; so does everything once the entries keep more than
    // MAX_PINNED_CHUNKS chunks alive.
    if (t !== this.lastText) {
      this.lastText = t;
      if (++this.pinned > MAX_PINNED_CHUNKS) this.ownAll();
    }
    this.put(i, t, 0, h1, h2, this.weight);
    this.from[i] = s;
    this.to[i] = e;
    if (this.used >= MG_BATCH) this.prune();
  }

  private free(h2: number): number {
    const mask = this.cap - 1;
    let i = h2 & mask;
    while (this.slots[i * SLOT] !== 0) i = (i + 1) & mask;
    return i;
  }

  private put(i: number, value: string, owned: number, h1: number, h2: number, count: number): void {
    this.slots[i * SLOT] = count;
    this.slots[i * SLOT + 1] = h2;
    this.slots[i * SLOT + 2] = h1;
    this.values[i] = value;
    this.owned[i] = owned;
    this.occupied[this.used++] = i;
  }

  private own(i: number): string {
    if (this.owned[i] === 0) {
      const t = this.values[i]!;
      const s = this.from[i]!;
      const e = this.to[i]!;
      this.values[i] = detach(s === 0 && e === t.length ? t : t.slice(s, e));
      this.owned[i] = 1;
    }
    return this.values[i]!;
  }

  private ownAll(): void {
    for (let j = 0; j < this.used; j++) this.own(this.occupied[j]!);
    this.pinned = 1;
  }

  private prune(): void {
    const cut = this.used > MG_COUNTERS ? this.cutCount() : 0;
    this.rebuild(MG_SLOTS, cut);
    this.pinned = 0;
    this.lastText = undefined;
    if (this.used > 0) {
      this.barren = 0;
      this.weight = 1;
    } else if (++this.barren >= BARREN_PRUNES) {
      this.weight = SAMPLE_EVERY;
    }
  }

  /**
   * The (k+1)-th largest count. Usually the smallest count (most counters of a high-cardinality column
   * are values seen once), which needs no sort.
   *
   * Every loop of a prune is a function of its own. A prune runs rarely but long, so V8 optimised it
   * on-stack inside its first loop, before the later loops had ever run: they had no type feedback, and
   * the optimised code was thrown away at every prune (some twenty deoptimisations and ten compiles of
   * prune per thread on the 1M-row benchmark). A function with one loop is compiled once.
   */
  private cutCount(): number {
    const n = this.used;
    const min = minCount(this.slots, this.occupied, n);
    if (countAbove(this.slots, this.occupied, n, min) <= MG_COUNTERS) return min;
    const all = counts(this.slots, this.occupied, n);
    all.sort();
    return all[n - MG_COUNTERS - 1]!;
  }

  /** Rehash into `cap` slots, keeping entries with count > cut (as count - cut), as owned copies. */
  private rebuild(cap: number, cut: number): void {
    const kept = this.survivors(cut);
    if (cap !== this.cap) this.resize(cap);
    this.used = 0;
    this.reinsert(kept);
  }

  /**
   * The entries with count > cut, in slot-visit order, in typed arrays (an object each was a good part of
   * a prune's cost); their slots are emptied.
   */
  private survivors(cut: number): Survivors {
    const n = this.used;
    const kept: Survivors = { hi: new Int32Array(n), lo: new Int32Array(n), count: new Int32Array(n), value: [], length: 0 };
    let k = 0;
    for (let j = 0; j < n; j++) {
      const i = this.occupied[j]!;
      const c = this.slots[i * SLOT]!;
      if (c > cut) {
        kept.hi[k] = this.slots[i * SLOT + 2]!;
        kept.lo[k] = this.slots[i * SLOT + 1]!;
        kept.count[k] = c - cut;
        kept.value.push(this.own(i));
        k++;
      }
      this.slots[i * SLOT] = 0;
      this.values[i] = undefined;
    }
    kept.length = k;
    return kept;
  }

  private resize(cap: number): void {
    this.cap = cap;
    this.slots = new Int32Array(cap * SLOT);
    this.values = new Array<string | undefined>(cap).fill(undefined);
    this.owned = new Uint8Array(cap);
    this.from = new Int32Array(cap);
    this.to = new Int32Array(cap);
    this.occupied = new Int32Array(cap);
  }

  private reinsert(kept: Survivors): void {
    for (let j = 0; j < kept.length; j++) this.put(this.free(kept.lo[j]!), kept.value[j]!, 1, kept.hi[j]!, kept.lo[j]!, kept.count[j]!);
  }

  /** The n most frequent values, most frequent first, ties by value for a stable output. */
  top(n: number): { value: string; count: number }[] {
    const all: { value: string; count: number }[] = [];
    for (let j = 0; j < this.used; j++) {
      const i = this.occupied[j]!;
      all.push({ value: this.own(i), count: this.slots[i * SLOT]! });
    }
    all.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return all.slice(0, n);
  }
}

/** What a prune keeps of a TopCounter (TopCounter.survivors). */
interface Survivors {
  hi: Int32Array;
  lo: Int32Array;
  count: Int32Array;
  value: string[];
  length: number;
}

/** The smallest count of the n occupied slots (n ≥ 1). */
function minCount(slots: Int32Array, occupied: Int32Array, n: number): number {
  let min = slots[occupied[0]! * SLOT]!;
  for (let j = 1; j < n; j++) {
    const c = slots[occupied[j]! * SLOT]!;
    if (c < min) min = c;
  }
  return min;
}

/** How many of the n occupied slots count more than `min`. */
function countAbove(slots: Int32Array, occupied: Int32Array, n: number, min: number): number {
  let above = 0;
  for (let j = 0; j < n; j++) if (slots[occupied[j]! * SLOT]! > min) above++;
  return above;
}

/** The counts of the n occupied slots. */
function counts(slots: Int32Array, occupied: Int32Array, n: number): Int32Array {
  const all = new Int32Array(n);
  for (let j = 0; j < n; j++) all[j] = slots[occupied[j]! * SLOT]!;
  return all;
}

/** Bins a histogram keeps: fine enough to re-bin into a picture's 16–32 bins, small in the JSON output. */
export const HISTOGRAM_BINS = 64;
/** Values held exactly before the bin width is chosen from their spread. */
const HISTOGRAM_BUFFER = 256;
/** Bin widths stay between 2^-1000 and 2^1000, where x / 2^e is finite for every finite double x. */
const MIN_EXP = -1000;
const MAX_EXP = 1000;

/**
 * A histogram built in one pass without knowing the range beforehand. The bins lie on a global grid —
 * bin j is [j × 2^e, (j + 1) × 2^e) — and at most HISTOGRAM_BINS of them are occupied: a value outside
 * the occupied span doubles the width (pairs of bins merge, exactly) until the span fits. Because every
 * histogram lies on the same power-of-two grid, two of them (before and after, or two partitions) can be
 * brought to the same bins by merging bins only, without guessing how a bin's values spread. The first
 * values are held back to choose a starting width from their spread, so a column of values between
 * 1000.0 and 1000.1 is not one bin. Integer columns never get bins narrower than 1.
 */
export class HistogramSketch {
  private buffer: number[] = [];
  private integers = true;
  private exp = 0;
  private inv = 1; // 2^-exp: x × inv is exact, and cheaper than a division on every value
  private start = 0;
  private lo = Infinity; // occupied bin indices, on the current grid
  private hi = -Infinity;
  private counts: Float64Array | null = null;

  add(x: number): void {
    if (this.integers && !Number.isInteger(x)) this.integers = false;
    if (this.counts === null) {
      this.buffer.push(x);
      if (this.buffer.length >= HISTOGRAM_BUFFER) this.settle();
      return;
    }
    // The slot first: finding it may replace the array.
    const i = this.slot(x);
    this.counts[i]! += 1;
  }

  private settle(): void {
    let min = Infinity;
    let max = -Infinity;
    for (const x of this.buffer) {
      if (x < min) min = x;
      if (x > max) max = x;
    }
    const span = max - min;
    let exp = span > 0 ? Math.ceil(Math.log2(span / (HISTOGRAM_BINS - 1))) : min !== 0 ? Math.floor(Math.log2(Math.abs(min))) - 6 : 0;
    if (this.integers) exp = Math.max(exp, 0);
    this.setExp(Math.min(MAX_EXP, Math.max(MIN_EXP, Number.isFinite(exp) ? exp : 0)));
    this.counts = new Float64Array(HISTOGRAM_BINS);
    for (const x of this.buffer) {
      const i = this.slot(x);
      this.counts[i]! += 1;
    }
    this.buffer = [];
  }

  /** The slot of x, widening the bins or sliding the window as needed. */
  private slot(x: number): number {
    for (;;) {
      const j = Math.floor(x * this.inv);
      const lo = Math.min(j, this.lo);
      const hi = Math.max(j, this.hi);
      if (hi - lo < HISTOGRAM_BINS) {
        if (lo < this.start || hi >= this.start + HISTOGRAM_BINS) this.slide(lo);
        this.lo = lo;
        this.hi = hi;
        return j - this.start;
      }
      this.coarsen();
    }
  }

  private slide(start: number): void {
    const old = this.counts!;
    const counts = new Float64Array(HISTOGRAM_BINS);
    for (let j = this.lo; j <= this.hi; j++) counts[j - start] = old[j - this.start]!;
    this.counts = counts;
    this.start = start;
  }

  private coarsen(): void {
    const old = this.counts!;
    const counts = new Float64Array(HISTOGRAM_BINS);
    const start = Math.floor(this.lo / 2);
    for (let j = this.lo; j <= this.hi; j++) counts[Math.floor(j / 2) - start]! += old[j - this.start]!;
    this.counts = counts;
    this.start = start;
    this.lo = start;
    this.hi = Math.floor(this.hi / 2);
    this.setExp(this.exp + 1);
  }

  private setExp(exp: number): void {
    this.exp = exp;
    this.inv = 2 ** -exp;
  }

  finish(): Histogram | null {
    if (this.counts === null) {
      if (this.buffer.length === 0) return null;
      this.settle();
    }
    if (this.lo > this.hi) return null;
    const counts: number[] = [];
    for (let j = this.lo; j <= this.hi; j++) counts.push(this.counts![j - this.start]!);
    return { width: 2 ** this.exp, start: this.lo, counts };
  }
}

/** One histogram on a wider grid: bins merged in twos `times` times. */
function coarsened(h: Histogram, times: number): Histogram {
  if (times <= 0) return h;
  const f = 2 ** times;
  const start = Math.floor(h.start / f);
  const counts: number[] = [];
  h.counts.forEach((c, i) => {
    const k = Math.floor((h.start + i) / f) - start;
    counts[k] = (counts[k] ?? 0) + c;
  });
  return { width: h.width * f, start, counts: Array.from(counts, (c) => c ?? 0) };
}

/**
 * Two histograms (either may be missing) on the same bins, at most `maxBins` of them, covering both:
 * the finest common grid, widened until the union fits. Exact, because both lie on power-of-two grids.
 * `edges` has one more entry than each count list.
 */
export function sharedBins(a: Histogram | null, b: Histogram | null, maxBins: number): { edges: number[]; before: number[]; after: number[] } | null {
  const hs = [a, b].filter((h): h is Histogram => h !== null && h.counts.length > 0);
  if (hs.length === 0) return null;
  const width = Math.max(...hs.map((h) => h.width));
  let times = 0;
  const span = (w: number) => {
    const lo = Math.min(...hs.map((h) => Math.floor((h.start * h.width) / w)));
    const hi = Math.max(...hs.map((h) => Math.floor(((h.start + h.counts.length - 1) * h.width) / w)));
    return { lo, hi };
  };
  while (span(width * 2 ** times).hi - span(width * 2 ** times).lo + 1 > maxBins) times++;
  const w = width * 2 ** times;
  const { lo, hi } = span(w);
  const place = (h: Histogram | null): number[] => {
    const out = new Array<number>(hi - lo + 1).fill(0);
    if (!h) return out;
    const c = coarsened(h, Math.round(Math.log2(w / h.width)));
    c.counts.forEach((n, i) => (out[c.start + i - lo]! += n));
    return out;
  };
  const edges = Array.from({ length: hi - lo + 2 }, (_, i) => (lo + i) * w);
  return { edges, before: place(a), after: place(b) };
}

/**
 * One histogram of the values of several (a dataset's partitions): folded pairwise on shared bins, at
 * most HISTOGRAM_BINS of them. Exact, for the same reason as sharedBins.
 */
export function mergeHistograms(parts: ReadonlyArray<Histogram | null>): Histogram | null {
  let merged: Histogram | null = null;
  for (const h of parts) {
    if (h === null || h.counts.length === 0) continue;
    const shared = sharedBins(merged, h, HISTOGRAM_BINS);
    if (shared === null) continue;
    const width = shared.edges[1]! - shared.edges[0]!;
    merged = { width, start: Math.round(shared.edges[0]! / width), counts: shared.before.map((n, i) => n + shared.after[i]!) };
  }
  return merged;
}
