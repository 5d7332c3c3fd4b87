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
 * zero), which is guaranteed to keep every value more frequent than n/k; counts are then lower bounds.
 */
export class TopCounter {
  private map = new Map<string, number>();
  private exactPhase = true;

  get exact(): boolean {
    return this.exactPhase;
  }

  /** Distinct values seen, while exact. */
  get size(): number {
    return this.map.size;
  }

  add(key: string): void {
    const c = this.map.get(key);
    if (c !== undefined) {
      this.map.set(key, c + 1);
      return;
    }
    if (this.exactPhase) {
      if (this.map.size < EXACT_DISTINCT_CAP) {
        this.map.set(detach(key), 1);
        return;
      }
      this.exactPhase = false;
      this.prune();
    }
    // Not detached here: most new keys of a high-cardinality column are dropped at the next prune, which
    // detaches the survivors. Until then they pin at most 2k recently decoded chunks.
    this.map.set(key, 1);
    if (this.map.size >= 2 * MG_COUNTERS) this.prune();
  }

  private prune(): void {
    const counts = Float64Array.from(this.map.values()).sort();
    // The (k+1)-th largest count: subtracting it leaves at most k positive counters.
    const cut = counts.length > MG_COUNTERS ? counts[counts.length - MG_COUNTERS - 1]! : 0;
    const next = new Map<string, number>();
    for (const [k, c] of this.map) if (c > cut) next.set(detach(k), c - cut);
    this.map = next;
  }

  /** The n most frequent values, most frequent first, ties by value for a stable output. */
  top(n: number): { value: string; count: number }[] {
    const all = [...this.map];
    all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return all.slice(0, n).map(([value, count]) => ({ value, count }));
  }
}
