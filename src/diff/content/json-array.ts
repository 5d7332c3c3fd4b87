/**
 * JSON arrays of records — `[{"a": 1, "b": "x"}, …]`, what pandas writes with `orient="records"` and the
 * most common shape of tabular JSON. Each element is a row, flattened like JSON Lines (nested objects
 * become dotted columns, arrays their JSON text). Anything else (a TopoJSON or GeoJSON object, an array of
 * numbers) is not tabular, and the file is reported as such.
 *
 * The file is parsed whole (JSON has no record boundaries a stream could cut at cheaply), so it is
 * limited to MAX_JSON_CHARS of text; JSON Lines is the format for bigger data.
 */
import { flatten, parseJson } from './jsonl.js';
import { ContentParseError, textChunks, type ReadContext } from './reader.js';
import type { Cell } from './types.js';

const MAX_JSON_CHARS = 256 * 1024 * 1024;

export async function readJsonArray(ctx: ReadContext): Promise<void> {
  const parts: string[] = [];
  let length = 0;
  for await (const chunk of textChunks(ctx)) {
    length += chunk.length;
    if (length > MAX_JSON_CHARS) throw new ContentParseError(`JSON file larger than ${MAX_JSON_CHARS / 1048576} MB of text: not compared (write it as JSON Lines)`);
    parts.push(chunk);
  }
  let text = parts.join('');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return; // an empty file: no rows
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch (err) {
    throw new ContentParseError(`not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(doc)) throw new ContentParseError(`not tabular: a JSON ${doc === null ? 'null' : typeof doc}, not an array of records`);
  const { columns, sink } = ctx;
  let values: Cell[] = [];
  let rowNumber = 0;
  let skipped = 0;
  for (const item of doc) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      skipped++;
      continue;
    }
    if (values.length < columns.length) values = new Array<Cell>(columns.length);
    values.fill(null);
    flatten(item as Record<string, unknown>, '', columns, values);
    if (!sink.values(values, ++rowNumber)) return;
  }
  if (rowNumber === 0 && skipped > 0) throw new ContentParseError('not tabular: a JSON array whose elements are not records (objects)');
  if (skipped > 0) ctx.notes.push(`${ctx.source.path}: ${skipped} array element(s) skipped, not JSON objects`);
}
