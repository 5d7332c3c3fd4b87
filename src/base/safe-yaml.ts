import { readFileSync, statSync } from 'node:fs';
import type { CST, Document, LineCounter, Node } from 'yaml';
import { yaml } from './yaml-lib.js';
import { DvsError, type ErrorCode } from '../errors.js';

/**
 * Reading text that a cloned repository supplies (pointers, config, run records, audit events) without
 * letting it cost more than its size: at most 1 MiB, no YAML anchors or aliases (a "billion laughs"
 * document is a few hundred bytes that expand to gigabytes), and nesting at most 32 deep. The depth is
 * enforced while the text is tokenised, before the `yaml` composer recurses into it: thousands of nested
 * `[` exhaust the call stack inside the library, and near the stack limit V8 can abort the whole process
 * (a regexp compiled there fails with a fatal out-of-memory error no try/catch sees).
 */

export const MAX_TEXT_BYTES = 1 << 20;
export const MAX_NESTING = 32;

/** Names a file in refusals; `code` prefixes the error codes (POINTER -> POINTER_TOO_LARGE, …). */
export interface TextSource {
  /** The file as messages name it: "data/train.dvs", "data/train.dvs at 1a2b3c4d5e". */
  where: string;
  /** Error code prefix: `<code>_TOO_LARGE`, `<code>_TOO_DEEP`, `<code>_ALIAS`, `<code>_INVALID` (all in error-codes.ts). */
  code: 'POINTER' | 'CONFIG' | 'RUN_RECORD' | 'AUDIT_EVENT' | 'LINEAGE' | 'PARAMS';
  /** What the file is, for messages: "a pointer", "a config file". */
  what: string;
  hint: string;
  maxBytes?: number;
  maxDepth?: number;
}

/** `data.reason` of a refusal, for callers and --json output. */
export type RefusalReason = 'too-large' | 'not-a-file' | 'alias' | 'anchor' | 'too-deep' | 'tag' | 'syntax' | 'multiple-documents' | 'shape';

export function refusal(
  src: TextSource,
  suffix: 'TOO_LARGE' | 'TOO_DEEP' | 'ALIAS' | 'INVALID',
  reason: RefusalReason,
  detail: string,
  line?: number,
): DvsError {
  return new DvsError(`${src.code}_${suffix}` satisfies ErrorCode, `${src.where}${line ? `:${line}` : ''}: ${detail}`, {
    hint: src.hint,
    data: { path: src.where, line, reason, detail },
  });
}

/** A value as messages quote it: JSON, cut short, so a hostile file cannot flood the terminal. */
export function quote(value: unknown, max = 60): string {
  let s: string;
  try {
    s = typeof value === 'number' && !Number.isFinite(value) ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function mib(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)} MiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

function tooLarge(src: TextSource, bytes: number): DvsError {
  const max = src.maxBytes ?? MAX_TEXT_BYTES;
  return refusal(src, 'TOO_LARGE', 'too-large', `${src.what} may be at most ${mib(max)}; this one is ${bytes >= 1 << 20 ? mib(bytes) : `${bytes} bytes`}`);
}

/** Refuse text over the size limit (counted in UTF-8 bytes, as the file was). */
export function checkTextSize(text: string, src: TextSource): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > (src.maxBytes ?? MAX_TEXT_BYTES)) throw tooLarge(src, bytes);
}

/**
 * Read a file that the repository supplies: refused before reading when it is not a regular file (a
 * link to /dev/zero would never end) or over the size limit. System errors (ENOENT, EACCES) are thrown
 * as they are, for the caller to name.
 */
export function readTextFile(abs: string, src: TextSource): string {
  const stat = statSync(abs);
  if (!stat.isFile()) throw refusal(src, 'INVALID', 'not-a-file', `${src.what} must be a regular file`);
  if (stat.size > (src.maxBytes ?? MAX_TEXT_BYTES)) throw tooLarge(src, stat.size);
  const text = readFileSync(abs, 'utf8');
  checkTextSize(text, src); // it may have grown since the stat
  return text;
}

export interface SafeDocument {
  doc: Document.Parsed;
  /** Offsets to lines, for messages about values found in `doc`. */
  lines: LineCounter;
}

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

function collectionDepth(stack: readonly CST.Token[]): number {
  let n = 0;
  for (const token of stack) if (COLLECTIONS.has(token.type)) n++;
  return n;
}

function firstLine(message: string): string {
  const line = message.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/**
 * Parse one YAML document under the limits above, with the YAML 1.2 core schema whatever the document
 * declares (no `%YAML 1.1` booleans, binaries, sets or merge keys) and unique keys. Unresolved tags are
 * refused: dvs never writes a tag, and a reader would silently see the untagged value.
 */
export function parseYamlSafely(text: string, src: TextSource): SafeDocument {
  checkTextSize(text, src);
  const { CST, Composer, Lexer, LineCounter, Parser } = yaml();
  const maxDepth = src.maxDepth ?? MAX_NESTING;
  const lines = new LineCounter();
  const lineAt = (offset: number) => lines.linePos(offset).line;
  const lexer = new Lexer();
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0);
  const tokens: CST.Token[] = [];
  let scalarSource = false;
  for (const lexeme of lexer.lex(text)) {
    // After the SCALAR marker comes the scalar's own text, which may start with any character.
    if (scalarSource) scalarSource = false;
    else if (lexeme === CST.SCALAR) scalarSource = true;
    else if (lexeme[0] === '&' || lexeme[0] === '*') {
      const anchor = lexeme[0] === '&';
      throw refusal(src, 'ALIAS', anchor ? 'anchor' : 'alias', `YAML ${anchor ? 'anchors' : 'aliases'} are not allowed (${quote(lexeme, 40)})`, lineAt(parser.offset));
    }
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > maxDepth + 1 && collectionDepth(parser.stack) > maxDepth) {
      throw refusal(src, 'TOO_DEEP', 'too-deep', `maps and lists nested more than ${maxDepth} deep`, lineAt(parser.offset));
    }
  }
  for (const token of parser.end()) tokens.push(token);

  // Unique keys are checked below: the library compares each key with every earlier one, and 60,000
  // keys in 1 MiB then cost half a minute.
  const composer = new Composer({ schema: 'core', resolveKnownTags: false, uniqueKeys: false, logLevel: 'error', prettyErrors: false });
  let doc: Document.Parsed | undefined;
  for (const composed of composer.compose(tokens, true, text.length)) {
    if (doc) throw refusal(src, 'INVALID', 'multiple-documents', 'holds more than one YAML document', lineAt(composed.range[0]));
    doc = composed;
  }
  if (!doc) throw refusal(src, 'INVALID', 'syntax', 'not valid YAML'); // compose(…, forceDoc) always yields one
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw refusal(src, 'INVALID', 'syntax', `not valid YAML: ${firstLine(e.message)}`, lineAt(e.pos[0]));
  }
  const tag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tag) throw refusal(src, 'INVALID', 'tag', `YAML tags other than the core schema's are not allowed (${firstLine(tag.message)})`, lineAt(tag.pos[0]));
  const repeated = repeatedKey(doc.contents);
  if (repeated) {
    throw refusal(src, 'INVALID', 'syntax', `not valid YAML: Map keys must be unique (${quote(repeated.value, 40)} repeats)`, lineAt(repeated.range?.[0] ?? 0));
  }
  return { doc, lines };
}

/** The first key that repeats a scalar key of the same map (as the library compares them: by value). */
function repeatedKey(root: unknown): (Node & { value?: unknown }) | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  const stack: unknown[] = [root];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) return pair.key;
          seen.add(pair.key.value);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  return undefined;
}

/**
 * Parse JSON under the same size and depth limits. JSON.parse itself does not recurse, but everything
 * that walks the value afterwards (hashing, rendering) does.
 */
export function parseJsonSafely(text: string, src: TextSource): unknown {
  checkTextSize(text, src);
  const maxDepth = src.maxDepth ?? MAX_NESTING;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > maxDepth) {
        const line = text.slice(0, i).split('\n').length;
        throw refusal(src, 'TOO_DEEP', 'too-deep', `arrays and objects nested more than ${maxDepth} deep`, line);
      }
    } else if ((c === 93 /* ] */ || c === 125) /* } */ && depth > 0) depth--;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw refusal(src, 'INVALID', 'syntax', `not valid JSON (${firstLine((err as Error).message)})`);
  }
}
