/**
 * Bounded-memory summaries of a column: distinct count and most frequent values. Both are exact while a
 * column has few distinct values (the common case for the columns a reviewer looks at: labels, domains,
 * flags) and degrade to documented estimates on high-cardinality columns, so a 10 M-row text column costs
 * a few kilobytes instead of a map with 10 M strings.
 */
import { detach } from './hash.js';

/** Distinct values counted exactly (and top values kept exactly) up to this many per column. */
export const EXACT_DISTINCT_CAP = 10_000;
/** After the exact phase, the Misra-Gries summary keeps this many counters. */
const MG_COUNTERS = 1_000;
/** Table size in that phase: a power of two over 4k (it never holds more than 2k), cheap to sweep. */
const MG_SLOTS = 4096;
/** Prunes that keep nothing before a column's values are sampled, and the sampling interval. */
const BARREN_PRUNES = 8;
const SAMPLE_EVERY = 8;
/** At most this many decoded 64 KB chunks are kept alive by uncopied entries (4 MB per column). */
const MAX_PINNED_CHUNKS = 64;

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
 * summary (batched: when it holds 2k counters, subtract the (k+1)-th largest count and drop what reaches
 * zero), which is guaranteed to keep every value more frequent than n/k; counts are then lower bounds
 * (and, for a column whose values keep being all different, scaled counts of a row sample: `weight`).
 *
 * Keyed by the 64-bit value hash the scanner computed anyway, in typed arrays: a Map keyed by the value
 * string would hash every string again and was the single largest cost of a scan.
 */
export class TopCounter {
  private cap = 1024;
  private hi = new Int32Array(this.cap);
  private lo = new Int32Array(this.cap);
  private counts = new Int32Array(this.cap); // 0 marks an empty slot
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
    const counts = this.counts;
    let i = h2 & mask;
    for (let c = counts[i]!; c !== 0; c = counts[i]!) {
      if (this.lo[i] === (h2 | 0) && this.hi[i] === (h1 | 0)) {
        counts[i] = c + this.weight;
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
      if (this.used >= 2 * MG_COUNTERS) this.prune();
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
    if (this.used >= 2 * MG_COUNTERS) this.prune();
  }

  private free(h2: number): number {
    const mask = this.cap - 1;
    let i = h2 & mask;
    while (this.counts[i] !== 0) i = (i + 1) & mask;
    return i;
  }

  private put(i: number, value: string, owned: number, h1: number, h2: number, count: number): void {
    this.hi[i] = h1;
    this.lo[i] = h2;
    this.counts[i] = count;
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
    let cut = 0;
    const n = this.used;
    if (n > MG_COUNTERS) {
      // The (k+1)-th largest count. Usually the smallest count (most counters of a high-cardinality
      // column are values seen once), which needs no sort.
      let min = Infinity;
      for (let j = 0; j < n; j++) min = Math.min(min, this.counts[this.occupied[j]!]!);
      let above = 0;
      for (let j = 0; j < n; j++) if (this.counts[this.occupied[j]!]! > min) above++;
      if (above <= MG_COUNTERS) cut = min;
      else {
        const all = new Int32Array(n);
        for (let j = 0; j < n; j++) all[j] = this.counts[this.occupied[j]!]!;
        all.sort();
        cut = all[n - MG_COUNTERS - 1]!;
      }
    }
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

  /** Rehash into `cap` slots, keeping entries with count > cut (as count - cut), as owned copies. */
  private rebuild(cap: number, cut: number): void {
    const keep: { h1: number; h2: number; count: number; value: string }[] = [];
    for (let j = 0; j < this.used; j++) {
      const i = this.occupied[j]!;
      const c = this.counts[i]!;
      if (c > cut) keep.push({ h1: this.hi[i]!, h2: this.lo[i]!, count: c - cut, value: this.own(i) });
      this.counts[i] = 0;
      this.values[i] = undefined;
    }
    if (cap !== this.cap) {
      this.cap = cap;
      this.hi = new Int32Array(cap);
      this.lo = new Int32Array(cap);
      this.counts = new Int32Array(cap);
      this.values = new Array<string | undefined>(cap).fill(undefined);
      this.owned = new Uint8Array(cap);
      this.from = new Int32Array(cap);
      this.to = new Int32Array(cap);
      this.occupied = new Int32Array(cap);
    }
    this.used = 0;
    for (const k of keep) this.put(this.free(k.h2), k.value, 1, k.h1, k.h2, k.count);
  }

  /** The n most frequent values, most frequent first, ties by value for a stable output. */
  top(n: number): { value: string; count: number }[] {
    const all: { value: string; count: number }[] = [];
    for (let j = 0; j < this.used; j++) {
      const i = this.occupied[j]!;
      all.push({ value: this.own(i), count: this.counts[i]! });
    }
    all.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return all.slice(0, n);
  }
}
