/**
 * The storage of the row-level diff (rowdiff.ts): per-partition append-only logs of row hashes, and the
 * small open-addressing table each partition is diffed in. Typed arrays only: 10 M rows must not become
 * 10 M JavaScript objects.
 */

export const PARTITION_BITS = 10;
export const PARTITIONS = 1 << PARTITION_BITS;
/**
 * Entries in a partition's chunks: the first is small and each next one twice as big, up to the last
 * size, so that 2 × 1,024 partitions cost little for a small file and waste little for a big one.
 */
const FIRST_CHUNK = 32;
const LAST_CHUNK = 1024;
/** Entries a partition gathers in the staging area before they are copied into its chunk. */
const STAGED = 16;
/** Bytes of a slab that chunks are cut from (PartitionLog's `slabs`). */
const SLAB_BYTES = 1 << 20;

/** Memory shared by both sides' logs; exceeding it makes the owner drop partitions. */
export interface Budget {
  used: number;
  limit: number;
  onExceeded(): void;
}

/** One side's log, moved between threads (see parallel.ts): typed arrays, transferable. */
export interface LogData {
  chunks: Int32Array[][];
  pos: Int32Array;
  count: Int32Array;
  bytes: number;
  /** The memory the chunks lie in, to transfer: a few slabs, or one buffer per chunk. */
  buffers: ArrayBuffer[];
}

/**
 * Append-only log of fixed-width entries, per partition, in chunks (no copying as it grows).
 *
 * Appends go to a staging area first, STAGED entries per partition in one typed array, and reach the
 * partition's chunk STAGED at a time. Rows land in random partitions: writing each straight into its
 * chunk touched a different typed-array object (and its data) every row, a cache miss or two that made
 * logging a tenth of a scan. Chunks are still allocated, and the budget checked, at the very entry they
 * were before, so the memory accounting (and the sampling it triggers) is unchanged.
 */
export class PartitionLog {
  private chunks: Int32Array[][] = Array.from({ length: PARTITIONS }, () => []);
  private cur: Int32Array[] = new Array<Int32Array>(PARTITIONS).fill(new Int32Array(0));
  /** Ints of partition p's current chunk in use, staged ones included. */
  private pos: Int32Array = new Int32Array(PARTITIONS);
  /** The length of partition p's current chunk, without reading the chunk. */
  private cap: Int32Array = new Int32Array(PARTITIONS);
  /** Entries in partition p. */
  private count: Int32Array = new Int32Array(PARTITIONS);
  /** Partition p stages its entries at ints [p * stageInts, p * stageInts + staged[p]). */
  private readonly stage: Int32Array;
  private readonly staged: Int32Array = new Int32Array(PARTITIONS);
  private readonly stageInts: number;
  private bytes = 0;
  /** With `slabs`: the slabs chunks are cut from, the last one being filled, and its bytes used. */
  private slabList: ArrayBuffer[] | undefined;
  private slabUsed = 0;
  /** A partition with chunks was dropped since the last compact(). */
  private dropped = false;

  /**
   * `slabs`: cut the chunks from 1 MB slabs instead of giving each its own buffer. A log that moves to
   * another thread then transfers a few buffers instead of some 6,000 (one per chunk, 1M rows), which
   * cost 30-40 ms of sending and receiving at the end of a worker's scan. Chunks of dropped partitions
   * keep their slab alive, so a drop over the budget is followed by compact().
   */
  constructor(
    private readonly stride: number,
    private readonly budget: Budget,
    slabs = false,
  ) {
    this.stageInts = STAGED * stride;
    this.stage = new Int32Array(PARTITIONS * this.stageInts);
    if (slabs) this.slabList = [];
  }

  export(): LogData {
    for (let p = 0; p < PARTITIONS; p++) this.flush(p);
    const buffers = this.slabList ?? this.chunks.flat().map((c) => c.buffer as ArrayBuffer);
    return { chunks: this.chunks, pos: this.pos, count: this.count, bytes: this.bytes, buffers };
  }

  /** Take over a log filled elsewhere (by a worker thread), in place of this (empty) one. */
  adopt(data: LogData): void {
    this.chunks = data.chunks;
    this.pos = data.pos;
    this.count = data.count;
    this.cur = data.chunks.map((list) => list[list.length - 1] ?? new Int32Array(0));
    this.cap = Int32Array.from(this.cur, (c) => c.length);
    this.staged.fill(0);
    this.bytes = data.bytes;
    this.budget.used += data.bytes;
    // Chunks that share slabs are compacted after a drop, like this log's own.
    const chunks = data.chunks.reduce((n, list) => n + list.length, 0);
    this.slabList = data.buffers.length < chunks ? data.buffers : undefined;
    this.slabUsed = SLAB_BYTES; // the next chunk starts a slab of its own
  }

  append(p: number, a: number, b: number, c: number): void {
    let i = this.pos[p]!;
    if (i === this.cap[p]) {
      if (!this.newChunk(p)) return;
      i = 0;
    }
    let k = this.staged[p]!;
    if (k === this.stageInts) {
      this.flush(p);
      k = 0;
    }
    const o = p * this.stageInts + k;
    const stage = this.stage;
    stage[o] = a;
    stage[o + 1] = b;
    if (this.stride === 3) stage[o + 2] = c;
    this.staged[p] = k + this.stride;
    this.pos[p] = i + this.stride;
    this.count[p]!++;
  }

  /** Start partition p's next chunk (the current one is full); false when p was dropped to fit the budget. */
  private newChunk(p: number): boolean {
    this.flush(p);
    const len = this.cap[p]!;
    const entries = Math.min(LAST_CHUNK, Math.max(FIRST_CHUNK, len / this.stride) * (len ? 2 : 1));
    const chunk = this.allocate(entries * this.stride);
    this.chunks[p]!.push(chunk);
    this.cur[p] = chunk;
    this.cap[p] = chunk.length;
    this.pos[p] = 0;
    this.bytes += chunk.byteLength;
    this.budget.used += chunk.byteLength;
    if (this.budget.used > this.budget.limit) {
      this.budget.onExceeded();
      if (this.cap[p] === 0) return false; // this very partition was dropped
    }
    return true;
  }

  /** A zeroed chunk of `ints` ints: its own buffer, or cut from the current slab. */
  private allocate(ints: number): Int32Array {
    const slabs = this.slabList;
    if (slabs === undefined) return new Int32Array(ints);
    const bytes = ints * 4;
    if (slabs.length === 0 || this.slabUsed + bytes > SLAB_BYTES) {
      slabs.push(new ArrayBuffer(Math.max(SLAB_BYTES, bytes)));
      this.slabUsed = 0;
    }
    const chunk = new Int32Array(slabs[slabs.length - 1]!, this.slabUsed, ints);
    this.slabUsed += bytes;
    return chunk;
  }

  /**
   * After drops over the budget: copy the chunks still in use into new slabs, so that the slabs the
   * dropped chunks lay in are freed. Nothing to do for chunks of their own.
   */
  compact(): void {
    if (this.slabList === undefined || !this.dropped) return;
    this.dropped = false;
    this.slabList = [];
    this.slabUsed = 0;
    for (let p = 0; p < PARTITIONS; p++) {
      const list = this.chunks[p]!;
      for (let k = 0; k < list.length; k++) {
        const copy = this.allocate(list[k]!.length);
        copy.set(list[k]!);
        list[k] = copy;
      }
      if (list.length > 0) this.cur[p] = list[list.length - 1]!;
    }
  }

  /** Copy partition p's staged entries into its chunk. */
  private flush(p: number): void {
    const k = this.staged[p]!;
    if (k === 0) return;
    const chunk = this.cur[p]!;
    const at = this.pos[p]! - k;
    const from = p * this.stageInts;
    for (let j = 0; j < k; j++) chunk[at + j] = this.stage[from + j]!;
    this.staged[p] = 0;
  }

  /** Entries of partition p as (chunk, end) pairs: every chunk is full but the last. */
  *parts(p: number): Generator<[Int32Array, number]> {
    const list = this.chunksOf(p);
    for (let k = 0; k < list.length; k++) yield [list[k]!, k === list.length - 1 ? this.lastEnd(p) : list[k]!.length];
  }

  /**
   * Partition p's chunks, every one full but the last (parts() without a generator: the partition diff
   * runs once per diff, mostly before V8 optimises it, where a generator and destructuring cost more).
   */
  chunksOf(p: number): readonly Int32Array[] {
    this.flush(p);
    return this.chunks[p]!;
  }

  /** Ints in use in partition p's last chunk. */
  lastEnd(p: number): number {
    return this.pos[p]!;
  }

  entries(p: number): number {
    return this.count[p]!;
  }

  drop(p: number): void {
    if (this.chunks[p]!.length > 0) this.dropped = true;
    for (const c of this.chunks[p]!) {
      this.budget.used -= c.byteLength;
      this.bytes -= c.byteLength;
    }
    this.chunks[p] = [];
    this.cur[p] = new Int32Array(0);
    this.pos[p] = 0;
    this.cap[p] = 0;
    this.staged[p] = 0;
    this.count[p] = 0;
  }
}

/**
 * Open addressing, linear probing, one Int32Array of `stride`-int slots (64-bit key first): one cache
 * miss per probe. (0, 0) marks an empty slot, so a real (0, 0) key is stored as (0, 1).
 */
export class SlotTable {
  slots = new Int32Array(0);
  private mask = 0;
  used = 0;

  constructor(readonly stride: number) {}

  /** Ints in use: the array may be longer, left over from a bigger partition. */
  get length(): number {
    return (this.mask + 1) * this.stride;
  }

  /** Empty the table, sized for n entries (load ≤ 0.5), reusing the array when it is big enough. */
  reset(n: number): void {
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    const ints = cap * this.stride;
    if (this.slots.length < ints) this.slots = new Int32Array(ints);
    else this.slots.fill(0, 0, ints);
    this.mask = cap - 1;
    this.used = 0;
  }

  /** Offset of (hi, lo); inserted if absent when `insert`, else -1. Grows past half full. */
  find(hi: number, lo: number, insert: boolean): number {
    if (hi === 0 && lo === 0) lo = 1;
    const S = this.slots;
    const stride = this.stride;
    for (let i = lo & this.mask; ; i = (i + 1) & this.mask) {
      const o = i * stride;
      const h = S[o]!;
      const l = S[o + 1]!;
      if (h === hi && l === lo) return o;
      if (h === 0 && l === 0) {
        if (!insert) return -1;
        if ((this.used + 1) * 2 > this.mask + 1) {
          this.grow();
          return this.find(hi, lo, true);
        }
        S[o] = hi;
        S[o + 1] = lo;
        this.used++;
        return o;
      }
    }
  }

  private grow(): void {
    const old = this.slots.subarray(0, (this.mask + 1) * this.stride);
    const stride = this.stride;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.used = 0;
    for (let o = 0; o < old.length; o += stride) {
      if (old[o] === 0 && old[o + 1] === 0) continue;
      const n = this.find(old[o]!, old[o + 1]!, true);
      for (let k = 2; k < stride; k++) this.slots[n + k] = old[o + k]!;
    }
  }
}
