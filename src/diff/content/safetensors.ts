/**
 * safetensors (model weights): which tensors were added or removed, which changed dtype or shape, and
 * which kept both but hold other bytes — from the header and a SHA-256 of each tensor's bytes, computed
 * in one streaming pass (the weights are never held in memory; a chunk at a time is).
 *
 * The format: 8 bytes little-endian header length N, N bytes of JSON
 * `{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, "__metadata__": {…}}`,
 * then the data; offsets are relative to the end of the header.
 */
import { createHash, type Hash } from 'node:crypto';
import { ContentParseError, readAll } from './reader.js';
import type { ContentError, ContentSource } from './types.js';

/** A header larger than this is not a safetensors header (the format itself caps it at 100 MB). */
const MAX_HEADER = 100 * 1024 * 1024;

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** SHA-256 of the tensor's bytes, hex. */
  sha256: string;
}

export interface TensorChange {
  name: string;
  before: string;
  after: string;
}

/** `dvs diff --content` of one safetensors file. */
export interface TensorDiff {
  /** The file's path. */
  path: string;
  format: 'safetensors';
  change: 'added' | 'deleted' | 'modified';
  /** Number of tensors in each version; null when that version could not be read (0 when it does not exist). */
  tensors: { before: number | null; after: number | null };
  added: Array<{ name: string; dtype: string; shape: number[] }>;
  removed: Array<{ name: string; dtype: string; shape: number[] }>;
  dtypeChanged: TensorChange[];
  /** Shapes as `[2, 3]`. */
  shapeChanged: TensorChange[];
  /** Same name, dtype and shape, other bytes. */
  bytesChanged: string[];
  unchanged: number;
  /** `__metadata__` entries that differ; null for a key a version lacks. */
  metadata: Array<{ key: string; before: string | null; after: string | null }>;
  errors: ContentError[];
}

interface Header {
  tensors: Array<{ name: string; dtype: string; shape: number[]; begin: number; end: number }>;
  metadata: Record<string, string>;
  dataStart: number;
}

function parseHeader(bytes: Uint8Array, size: number): Header {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ContentParseError(`not safetensors: the header is not JSON (${(err as Error).message})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ContentParseError('not safetensors: the header is not a JSON object');
  const dataStart = 8 + bytes.length;
  const tensors: Header['tensors'] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) : {};
      continue;
    }
    const t = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const offsets = t?.data_offsets;
    if (typeof t?.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new ContentParseError(`not safetensors: tensor "${name}" lacks dtype, shape or data_offsets`);
    }
    const [begin, end] = offsets.map(Number) as [number, number];
    if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && begin <= end && dataStart + end <= size)) {
      throw new ContentParseError(`safetensors tensor "${name}": data_offsets [${begin}, ${end}] lie outside the file`);
    }
    tensors.push({ name, dtype: t.dtype, shape: t.shape.map(Number), begin, end });
  }
  return { tensors, metadata, dataStart };
}

async function readHeader(source: ContentSource): Promise<Header> {
  if (source.size < 8) throw new ContentParseError(`not safetensors (${source.size} bytes)`);
  const range = source.readRange?.bind(source) ?? (async (s: number, e: number) => (await readAll(source)).subarray(s, e));
  const head = await range(0, 8);
  const n = Number(Buffer.from(head).readBigUInt64LE(0));
  if (n > MAX_HEADER || 8 + n > source.size) throw new ContentParseError(`not safetensors: header length ${n} does not fit a ${source.size}-byte file`);
  return parseHeader(await range(8, 8 + n), source.size);
}

/** Hash every tensor's bytes in one pass over the file, in file order. */
async function hashTensors(source: ContentSource, header: Header): Promise<Map<string, string>> {
  const spans = [...header.tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const out = new Map<string, string>();
  const open = new Map<string, { t: Header['tensors'][number]; hash: Hash }>();
  let next = 0;
  let pos = 0;
  const finish = (upTo: number) => {
    for (const [name, o] of open) {
      if (o.t.end + header.dataStart <= upTo) {
        out.set(name, o.hash.digest('hex'));
        open.delete(name);
      }
    }
  };
  for await (const chunk of (await source.open()) as AsyncIterable<Buffer>) {
    const start = pos;
    pos += chunk.length;
    while (next < spans.length && spans[next]!.begin + header.dataStart < pos) {
      open.set(spans[next]!.name, { t: spans[next]!, hash: createHash('sha256') });
      next++;
    }
    for (const { t, hash } of open.values()) {
      const s = Math.max(start, t.begin + header.dataStart);
      const e = Math.min(pos, t.end + header.dataStart);
      if (e > s) hash.update(chunk.subarray(s - start, e - start));
    }
    finish(pos);
  }
  // Empty tensors (begin = end) and any the stream ended before: hash what was seen.
  for (; next < spans.length; next++) open.set(spans[next]!.name, { t: spans[next]!, hash: createHash('sha256') });
  for (const [name, o] of open) out.set(name, o.hash.digest('hex'));
  return out;
}

/** Header and per-tensor hashes of one file. */
export async function readTensors(source: ContentSource): Promise<{ tensors: TensorInfo[]; metadata: Record<string, string> }> {
  const header = await readHeader(source);
  const hashes = await hashTensors(source, header);
  return { tensors: header.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, sha256: hashes.get(t.name)! })), metadata: header.metadata };
}

export async function diffTensors(path: string, before: ContentSource | undefined, after: ContentSource | undefined): Promise<TensorDiff> {
  const errors: ContentError[] = [];
  const read = async (s: ContentSource | undefined, side: 'before' | 'after') => {
    if (!s) return { tensors: [] as TensorInfo[], metadata: {} as Record<string, string>, ok: true };
    try {
      return { ...(await readTensors(s)), ok: true };
    } catch (err) {
      if (!(err instanceof ContentParseError) && !(err instanceof Error && 'code' in err)) throw err;
      errors.push({ side, path: s.path, message: (err as Error).message });
      return { tensors: [] as TensorInfo[], metadata: {} as Record<string, string>, ok: false };
    }
  };
  const [a, b] = [await read(before, 'before'), await read(after, 'after')];
  const ma = new Map(a.tensors.map((t) => [t.name, t]));
  const mb = new Map(b.tensors.map((t) => [t.name, t]));
  const d: TensorDiff = {
    path,
    format: 'safetensors',
    change: !before ? 'added' : !after ? 'deleted' : 'modified',
    tensors: { before: a.ok ? a.tensors.length : null, after: b.ok ? b.tensors.length : null },
    added: [],
    removed: [],
    dtypeChanged: [],
    shapeChanged: [],
    bytesChanged: [],
    unchanged: 0,
    metadata: [],
    errors,
  };
  const both = a.ok && b.ok;
  for (const t of b.tensors) if (!ma.has(t.name) && both) d.added.push({ name: t.name, dtype: t.dtype, shape: t.shape });
  for (const t of a.tensors) {
    const n = mb.get(t.name);
    if (!n) {
      if (both) d.removed.push({ name: t.name, dtype: t.dtype, shape: t.shape });
      continue;
    }
    const sa = JSON.stringify(t.shape);
    const sb = JSON.stringify(n.shape);
    if (t.dtype !== n.dtype) d.dtypeChanged.push({ name: t.name, before: t.dtype, after: n.dtype });
    if (sa !== sb) d.shapeChanged.push({ name: t.name, before: sa.replace(/,/g, ', '), after: sb.replace(/,/g, ', ') });
    if (t.dtype === n.dtype && sa === sb) {
      if (t.sha256 === n.sha256) d.unchanged++;
      else d.bytesChanged.push(t.name);
    }
  }
  for (const key of [...new Set([...Object.keys(a.metadata), ...Object.keys(b.metadata)])].sort()) {
    const x = a.metadata[key] ?? null;
    const y = b.metadata[key] ?? null;
    if (x !== y && before && after) d.metadata.push({ key, before: x, after: y });
  }
  return d;
}

/** `.safetensors`, by extension, case-insensitively. */
export function isSafetensors(path: string): boolean {
  return /\.safetensors$/i.test(path);
}
