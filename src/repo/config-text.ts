/**
 * A reader for the plain YAML that `dvs config` and `dvs init` write: block maps of sections, one
 * `key: value` a line, plain or simply quoted scalars, block lists of plain words, comments and blank
 * lines. It gives the value the full parser (base/safe-yaml.ts, YAML 1.2 core schema) gives for the
 * same text, and answers undefined for anything else (flow collections, anchors, tags, tabs, escapes,
 * multi-line scalars, numbers other than plain decimal integers, repeated keys, …), which the full
 * parser then reads, or refuses. Every command reads the config: this keeps the `yaml` library (about
 * 50 M instructions to load and run) out of commands that read nothing else in YAML.
 * test/unit/config-text.test.ts checks it against the full parser.
 */

/** Deeper than any key dvs knows (`remote.<name>.<option>`, a list under it). */
const MAX_DEPTH = 4;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Words the core schema reads as something other than a string (null, booleans, special floats). */
const SPECIAL = new Set(['null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE']);
/** A plain scalar that is text whatever the schema: starts with a letter, `_` or `/`, no indicator that could end or change it. */
const PLAIN_TEXT = /^[A-Za-z_/][A-Za-z0-9_./:@+=,~-]*(?: [A-Za-z0-9_./:@+=,~-]+)*$/;
const PRINTABLE = /^[\x20-\x7e\n]*$/;
const INTEGER = /^(?:0|[1-9][0-9]{0,14})$/;
const DOUBLE_QUOTED = /^"[\x20\x21\x23-\x5b\x5d-\x7e]*"$/;
const SINGLE_QUOTED = /^'[\x20-\x26\x28-\x7e]*'$/;

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

interface Open {
  indent: number;
  map: Record<string, Value>;
}

/** The scalar a line's value spells, or undefined when the full parser must decide. */
function scalar(text: string): string | number | boolean | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (INTEGER.test(text)) return Number(text);
  if (DOUBLE_QUOTED.test(text) || SINGLE_QUOTED.test(text)) return text.slice(1, -1);
  if (SPECIAL.has(text) || !PLAIN_TEXT.test(text) || text.includes(': ') || text.endsWith(':')) return undefined;
  return text;
}

/** The config's value (null for an empty file), or undefined when the text is not in the plain subset. */
export function parsePlainConfig(text: string): Record<string, Value> | null | undefined {
  // Printable ASCII only: no tabs, CRs, byte-order marks or other characters whose place in YAML's
  // rules (what is white space, what breaks a line) this reader would have to know.
  if (!PRINTABLE.test(text)) return undefined;
  const lines = text.split('\n');
  let root: Record<string, Value> | null = null;
  const open: Open[] = [];
  /** A `key:` with nothing after it, waiting to learn from the next line whether it holds a map, a list or null. */
  let pending: { map: Record<string, Value>; key: string; indent: number } | undefined;
  let list: { items: Value[]; indent: number } | undefined;
  for (const raw of lines) {
    const line = raw.trimEnd();
    const body = line.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    const indent = line.length - body.length;
    if (body.startsWith('- ')) {
      // An item of a list under the pending key (deeper than it), or of the list already open.
      if (pending && indent > pending.indent && !list) {
        list = { items: [], indent };
        pending.map[pending.key] = list.items;
        pending = undefined;
      }
      if (!list || indent !== list.indent) return undefined;
      const item = scalar(body.slice(2).trim());
      if (item === undefined || body.slice(2).trimStart() !== body.slice(2)) return undefined;
      list.items.push(item);
      continue;
    }
    list = undefined;
    const colon = body.indexOf(':');
    if (colon < 1) return undefined;
    const key = body.slice(0, colon);
    const rest = body.slice(colon + 1);
    if (!KEY.test(key) || SPECIAL.has(key) || key === '__proto__' || (rest !== '' && !rest.startsWith(' '))) return undefined;
    let map: Record<string, Value>;
    if (pending && indent > pending.indent) {
      // The first key of a map under the pending key.
      if (open.length >= MAX_DEPTH) return undefined;
      map = {};
      pending.map[pending.key] = map;
      open.push({ indent, map });
    } else {
      if (pending) pending.map[pending.key] = null;
      if (root === null) {
        if (indent !== 0) return undefined;
        root = {};
        open.push({ indent: 0, map: root });
      }
      while (open.length && open[open.length - 1].indent > indent) open.pop();
      if (!open.length || open[open.length - 1].indent !== indent) return undefined;
      map = open[open.length - 1].map;
    }
    pending = undefined;
    if (Object.hasOwn(map, key)) return undefined; // the full parser names the repeated key
    const value = rest.trim();
    if (value === '') {
      pending = { map, key, indent };
      map[key] = null;
    } else {
      const v = scalar(value);
      if (v === undefined || value.includes(' #')) return undefined;
      map[key] = v;
    }
  }
  return root;
}
