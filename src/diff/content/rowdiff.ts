/**
 * Row-level diff in bounded memory.
 *
 * While the sides are scanned, each row's 64-bit hash (and, in key mode, its key's hash) is appended to
 * one of 1,024 partitions chosen by the hash's top 10 bits: sequential writes, 8 or 12 bytes a row.
 * Then each partition is diffed on its own with a hash table small enough to stay in the CPU cache. An
 * earlier version inserted every row straight into one big hash table: at 10 M rows that was a cache and
 * TLB miss per row and more than half of the scan time.
 *
 * Multiset mode: +1 per row of `before`, -1 per row of `after`; rows present in both cancel, positive
 * counts are removed rows, negative ones added rows.
 * Key mode: per key, the sum of the hashes of its rows on each side; a key on both sides with different
 * sums is a changed row (rows sharing a key are compared as a group).
 *
 * Over the memory budget, whole partitions are dropped: keeping partitions below 1024/2^k is keeping the
 * hashes whose top k bits are zero, a uniform 1/2^k sample of the hash space, the same on both sides (so
 * matching rows still cancel). Counts are then scaled by 2^k: an estimate instead of a failure.
 */
import { PARTITION_BITS, PARTITIONS, PartitionLog, SlotTable, type Budget, type LogData } from './partition-log.js';
import type { HashConsumer, RowHashes } from './scan.js';

/** Differing hashes kept for fetching samples; past it, a hash-prefix subset (samples need few). */
const MAX_RESULTS = 1 << 20;

abstract class PartitionedDiff implements HashConsumer {
  side: 0 | 1 = 0;
  /** Partitions below `kept` are counted; 1024/2^shift of them. */
  shift = 0;
  private kept = PARTITIONS;
  protected readonly logs: [PartitionLog, PartitionLog];
  /** The differing entries, for the sample pass. */
  protected readonly results: SlotTable;
  private finished = false;
  /** Offsets of a partition's differing entries in its table (collect). */
  private differing = new Int32Array(0);

  /** `slabs`: the logs are cut from slabs (PartitionLog), for a side that moves to another thread. */
  constructor(budget: number, logStride: number, resultStride: number, slabs: boolean) {
    const b: Budget = { used: 0, limit: budget, onExceeded: () => this.sample() };
    this.logs = [new PartitionLog(logStride, b, slabs), new PartitionLog(logStride, b, slabs)];
    this.results = new SlotTable(resultStride);
  }

  get sampleRate(): number {
    return 1 / 2 ** this.shift;
  }

  /** Halve the partitions counted (both sides alike) until the logs fit the budget again. */
  private sample(): void {
    if (this.shift >= PARTITION_BITS) return; // a single partition: keep going rather than fail
    this.shift++;
    this.kept = PARTITIONS >>> this.shift;
    for (let p = this.kept; p < PARTITIONS; p++) for (const log of this.logs) log.drop(p);
    for (const log of this.logs) log.compact();
  }

  /** One side's log and sampling state, to move to another thread. */
  exportSide(side: 0 | 1): { log: LogData; shift: number; nullKeys: number } {
    return { log: this.logs[side].export(), shift: this.shift, nullKeys: 0 };
  }

  /**
   * Take over a side scanned by a worker thread. The two sides may have been sampled at different
   * rates: both end at the coarser one, so that they still cover the same share of the hash space.
   */
  adoptSide(side: 0 | 1, data: { log: LogData; shift: number; nullKeys: number }): void {
    this.logs[side].adopt(data.log);
    while (this.shift < data.shift) this.sample();
    for (let p = this.kept; p < PARTITIONS; p++) this.logs[side].drop(p);
    this.logs[side].compact();
  }

  protected log(hi: number, lo: number, c: number): void {
    const p = hi >>> (32 - PARTITION_BITS);
    if (p < this.kept) this.logs[this.side].append(p, hi | 0, lo | 0, c);
  }

  abstract row(h: RowHashes): void;

  /** Diff every partition; call once, after both sides were scanned. Frees the logs as it goes. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const work = new SlotTable(this.results.stride);
    this.results.reset(0);
    let keep = true;
    for (let p = 0; p < this.kept; p++) {
      work.reset(this.logs[0].entries(p) + this.logs[1].entries(p));
      for (let side = 0; side < 2; side++) {
        const log = this.logs[side]!;
        const chunks = log.chunksOf(p);
        const last = chunks.length - 1;
        for (let k = 0; k <= last; k++) this.add(work, chunks[k]!, k === last ? log.lastEnd(p) : chunks[k]!.length, side);
      }
      const slots = work.length / work.stride;
      if (this.differing.length < slots) this.differing = new Int32Array(slots);
      const differing = this.collect(work, this.differing);
      // Keep the differing entries for the sample pass, whole partitions at a time (a hash prefix).
      if (keep && this.results.used + differing > MAX_RESULTS) keep = false;
      if (keep) for (let j = 0; j < differing; j++) this.keep(work.slots, this.differing[j]!, this.results);
      this.logs[0].drop(p);
      this.logs[1].drop(p);
    }
  }

  /** Offset of a hash in the results, or -1. */
  lookup(hi: number, lo: number): number {
    return this.results.find(hi | 0, lo | 0, false);
  }

  /** Fold log entries [0, end) of one side into the partition table. */
  protected abstract add(work: SlotTable, chunk: Int32Array, end: number, side: number): void;
  /**
   * Tally the partition's totals, in one sweep of its table; the offsets of the entries that differ go to
   * `at`, and their number is returned.
   */
  protected abstract collect(work: SlotTable, at: Int32Array): number;
  /** Copy the partition table's entry at offset o into the results. */
  protected abstract keep(S: Int32Array, o: number, into: SlotTable): void;
}

/** Multiset mode. Log: hi, lo. Partition and result slots: hi, lo, count (before minus after). */
export class MultisetTable extends PartitionedDiff {
  private t = { removed: 0, added: 0, distinctRemoved: 0, distinctAdded: 0 };

  constructor(budget: number, slabs = false) {
    super(budget, 2, 3, slabs);
  }

  row(h: RowHashes): void {
    this.log(h.r1, h.r2, 0);
  }

  protected add(work: SlotTable, chunk: Int32Array, end: number, side: number): void {
    const d = side === 0 ? 1 : -1;
    const S = work.slots; // sized by reset() for every entry of the partition: never grows here
    for (let i = 0; i < end; i += 2) S[work.find(chunk[i]!, chunk[i + 1]!, true) + 2]! += d;
  }

  protected collect(work: SlotTable, at: Int32Array): number {
    const S = work.slots;
    let n = 0;
    for (let o = 0; o < work.length; o += 3) {
      const c = S[o + 2]!;
      if (c === 0) continue;
      at[n++] = o;
      if (c > 0) {
        this.t.removed += c;
        this.t.distinctRemoved++;
      } else {
        this.t.added -= c;
        this.t.distinctAdded++;
      }
    }
    return n;
  }

  protected keep(S: Int32Array, o: number, into: SlotTable): void {
    // The offset first: finding it may grow the results, which replaces their array.
    const r = into.find(S[o]!, S[o + 1]!, true);
    into.slots[r + 2] = S[o + 2]!;
  }

  /** Net count (before minus after) of the result at offset o. */
  count(o: number): number {
    return this.results.slots[o + 2]!;
  }

  /** Rows removed and added, scaled by the sampling rate; `distinct*` count differing hashes kept. */
  totals(): { removed: number; added: number; distinctRemoved: number; distinctAdded: number } {
    this.finish();
    const scale = 2 ** this.shift;
    return { removed: this.t.removed * scale, added: this.t.added * scale, distinctRemoved: this.t.distinctRemoved, distinctAdded: this.t.distinctAdded };
  }
}

const IN_BEFORE = 1;
const IN_AFTER = 2;
const DUP_BEFORE = 4;
const DUP_AFTER = 8;

/** Key mode. Log: key hi, key lo, row hash. Slots: key hi, key lo, row sum before, after, flags. */
export class KeyTable extends PartitionedDiff {
  /** Rows whose key cell is null, per side: they cannot be matched. */
  nullKeys = [0, 0];
  private t = { removed: 0, added: 0, changed: 0, same: 0, dupBefore: 0, dupAfter: 0 };

  constructor(budget: number, slabs = false) {
    super(budget, 3, 5, slabs);
  }

  row(h: RowHashes): void {
    if (!h.hasKey) this.nullKeys[this.side]!++;
    else this.log(h.k1, h.k2, h.r1);
  }

  override exportSide(side: 0 | 1): { log: LogData; shift: number; nullKeys: number } {
    return { ...super.exportSide(side), nullKeys: this.nullKeys[side]! };
  }

  override adoptSide(side: 0 | 1, data: { log: LogData; shift: number; nullKeys: number }): void {
    super.adoptSide(side, data);
    this.nullKeys[side] = data.nullKeys;
  }

  protected add(work: SlotTable, chunk: Int32Array, end: number, side: number): void {
    const inSide = side === 0 ? IN_BEFORE : IN_AFTER;
    const dup = side === 0 ? DUP_BEFORE : DUP_AFTER;
    const S = work.slots; // sized by reset() for every entry of the partition: never grows here
    for (let i = 0; i < end; i += 3) {
      const o = work.find(chunk[i]!, chunk[i + 1]!, true);
      const f = S[o + 4]!;
      S[o + 4] = f & inSide ? f | dup : f | inSide;
      S[o + 2 + side] = (S[o + 2 + side]! + chunk[i + 2]!) | 0;
    }
  }

  private static state(S: Int32Array, o: number): 'removed' | 'added' | 'changed' | 'same' {
    const f = S[o + 4]!;
    if (!(f & IN_AFTER)) return 'removed';
    if (!(f & IN_BEFORE)) return 'added';
    return S[o + 2] === S[o + 3] ? 'same' : 'changed';
  }

  protected collect(work: SlotTable, at: Int32Array): number {
    const S = work.slots;
    let n = 0;
    for (let o = 0; o < work.length; o += 5) {
      const f = S[o + 4]!;
      if (f === 0) continue;
      const st = KeyTable.state(S, o);
      this.t[st]++;
      if (f & DUP_BEFORE) this.t.dupBefore++;
      if (f & DUP_AFTER) this.t.dupAfter++;
      if (st !== 'same') at[n++] = o;
    }
    return n;
  }

  protected keep(S: Int32Array, o: number, into: SlotTable): void {
    const r = into.find(S[o]!, S[o + 1]!, true);
    for (let k = 2; k < 5; k++) into.slots[r + k] = S[o + k]!;
  }

  /** The key at result offset o occurs more than once in a version (its rows are compared as a group). */
  duplicate(o: number): boolean {
    return (this.results.slots[o + 4]! & (DUP_BEFORE | DUP_AFTER)) !== 0;
  }

  /** The state of the key at result offset o (only differing keys are kept). */
  status(o: number): 'removed' | 'added' | 'changed' | 'same' {
    return KeyTable.state(this.results.slots, o);
  }

  totals(): { removed: number; added: number; changed: number; same: number; dupBefore: number; dupAfter: number } {
    this.finish();
    const scale = 2 ** this.shift;
    const t = { ...this.t };
    t.removed *= scale;
    t.added *= scale;
    t.changed *= scale;
    t.same *= scale;
    return t;
  }
}
