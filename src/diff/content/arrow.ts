/**
 * Arrow IPC — the file format (Feather v2, `.arrow`/`.feather`, what Hugging Face datasets keep on disk)
 * and the stream format (`.arrows`) — read with the `apache-arrow` package, loaded only when an Arrow
 * file is diffed. Record batches are read one at a time and each row handed to the sink; a struct's
 * fields become dotted columns like JSONL, lists and maps their JSON text, 64-bit integers numbers where
 * they fit and decimal text beyond.
 */
import { canonical } from './hash.js';
import { ContentParseError, type ReadContext } from './reader.js';
import type { Cell } from './types.js';

function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : v.toString();
    default: {
      if (v instanceof Date) return v.toISOString();
      const json = (v as { toJSON?: () => unknown }).toJSON;
      return canonical(typeof json === 'function' ? json.call(v) : v);
    }
  }
}

interface Field {
  name: string;
  typeId: number;
  children?: Field[];
  type?: { children?: Field[] };
}

/** Column paths: struct fields flattened into dotted names, everything else one column. */
function leaves(fields: Field[], prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const f of fields) {
    const kids = f.type?.children ?? [];
    // Type.Struct is 13 in apache-arrow's enum.
    if (f.typeId === 13 && kids.length) out.push(...leaves(kids, [...prefix, f.name]));
    else out.push([...prefix, f.name]);
  }
  return out;
}

export async function readArrow(ctx: ReadContext): Promise<void> {
  const { RecordBatchReader } = await import('apache-arrow');
  let reader;
  try {
    reader = await RecordBatchReader.from((await ctx.source.open()) as AsyncIterable<Uint8Array>);
    await reader.open();
  } catch (err) {
    throw new ContentParseError(`not an Arrow IPC file or stream (${(err as Error).message})`);
  }
  const paths = leaves(reader.schema.fields as unknown as Field[]);
  const idx = paths.map((p) => ctx.columns.indexOf(p.join('.')));
  const values: Cell[] = new Array<Cell>(ctx.columns.length).fill(null);
  let rowNumber = 0;
  try {
    for await (const batch of reader) {
      const vectors = paths.map((p) => {
        let v = batch.getChild(p[0]!);
        for (const part of p.slice(1)) v = v?.getChild(part) ?? null;
        return v;
      });
      ctx.onBytes?.(batch.data.byteLength);
      for (let r = 0; r < batch.numRows; r++) {
        for (let c = 0; c < vectors.length; c++) values[idx[c]!] = toCell(vectors[c]?.get(r));
        if (!ctx.sink.values(values, ++rowNumber)) return;
      }
    }
  } catch (err) {
    if (err instanceof ContentParseError) throw err;
    throw new ContentParseError(`cannot decode Arrow record batch after row ${rowNumber} (${(err as Error).message})`);
  } finally {
    await reader.cancel?.();
  }
}
