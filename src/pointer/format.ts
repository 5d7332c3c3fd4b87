import type { Document } from 'yaml';
import { yaml } from '../base/yaml-lib.js';
import { DvsError, type ErrorCode } from '../errors.js';
import { formatOid, parseOidField, type Oid } from '../objects/oid.js';
import { parseYamlSafely, quote, type TextSource } from '../base/safe-yaml.js';
import { Fields } from '../base/fields.js';
import { pathProblem } from '../base/paths.js';

/**
 * The pointer file (`<data>.dvs`), specified in docs/pointer-spec.md. Parsing keeps the YAML document
 * so that rewriting a pointer preserves comments and keys this version of dvs does not know (lineage,
 * notes, fields from newer versions that are safe to carry).
 */
export const POINTER_SUFFIX = '.dvs';
export const POINTER_VERSION = 1;
export const POINTER_HEADER = ' dvs pointer: Git versions this file, the dvs cache and remotes hold the data.\n See docs/pointer-spec.md in the dvs repository for the format.';

export type DataKind = 'file' | 'dir';

export interface PointerData {
  kind: DataKind;
  oid: Oid;
  /** Bytes of the file, or of all files of a directory. */
  size: number;
  /** Number of files (directories only). */
  files?: number;
  /** Executable bit (files only). */
  exec?: boolean;
  /**
   * Where imported data came from (`dvs import`). Absent: not imported. Set to null in data passed to
   * serializePointer to drop the record; left out, a rewrite keeps what the pointer had.
   */
  source?: ImportSource | null;
  /**
   * A directory declared append-only (`dvs track --append-only`): files may be added, never changed or
   * removed. Left out in data passed to serializePointer, a rewrite keeps what the pointer had.
   */
  appendOnly?: boolean;
}

/** The `source:` record of an imported dataset: enough for `dvs update` to find it again. */
export interface ImportSource {
  /** The Git repository, as given to `dvs import` (a local path is stored absolute). */
  url: string;
  /** The revision asked for (branch, tag, commit); null: the source's default branch. */
  rev: string | null;
  /** The data path in the source repository. */
  path: string;
  /** The commit the data was taken from. */
  commit: string;
}

export interface Pointer extends PointerData {
  /** The parsed document, kept for faithful rewriting. */
  doc: Document;
}

const KNOWN_KEYS = new Set(['version', 'kind', 'oid', 'size', 'files', 'exec', 'append_only', 'source']);
export const APPEND_ONLY_KEY = 'append_only';

/**
 * How a pointer is read: at most 1 MiB, no YAML anchors or aliases, nesting at most 32 deep
 * (docs/pointer-spec.md). Refusals are POINTER_TOO_LARGE, POINTER_ALIAS, POINTER_TOO_DEEP, and
 * POINTER_INVALID for everything else.
 */
export function pointerSource(where: string): TextSource {
  return {
    where,
    code: 'POINTER',
    what: 'a pointer',
    hint: `Restore it from Git (git checkout -- ${where}) or re-create it with \`dvs track\` on the data.`,
  };
}

/** Parse a pointer's text. `where` is the pointer's path, used in every message. */
export function parsePointer(text: string, where: string): Pointer {
  return parseCanonicalPointer(text, where) ?? parsePointerDocument(text, where);
}

/** A line of a pointer as dvs writes it: a key, one space, a value (judged by CANONICAL_VALUE). */
const CANONICAL_LINE = /^([a-z_]+): (\S+)$/;
/** The keys dvs writes, each with the only values the quick reading takes. */
const CANONICAL_VALUE: Record<string, RegExp> = {
  version: /^1$/,
  kind: /^(file|dir)$/,
  oid: /^sha256:[0-9a-f]{64}$/,
  // A safe integer written plainly (no sign, no leading zero, at most 15 digits).
  size: /^(0|[1-9][0-9]{0,14})$/,
  files: /^(0|[1-9][0-9]{0,14})$/,
  exec: /^(true|false)$/,
  append_only: /^(true|false)$/,
};

/**
 * A pointer exactly as dvs writes it (printable-ASCII comment lines, known keys, valid values, each once),
 * read without the YAML library: loading and running it is most of what a status or a hook spends on a
 * pointer. Anything else, even valid YAML meaning the same, returns undefined and takes the full parse,
 * which also gives the error messages. The YAML document (kept for rewriting) is parsed when first asked.
 */
function parseCanonicalPointer(text: string, where: string): Pointer | undefined {
  if (text.length > 4096) return undefined;
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || /^#[ -~]*$/.test(line)) continue;
    const m = CANONICAL_LINE.exec(line);
    if (!m || values.has(m[1]) || !Object.hasOwn(CANONICAL_VALUE, m[1]) || !CANONICAL_VALUE[m[1]].test(m[2])) return undefined;
    values.set(m[1], m[2]);
  }
  const kind = values.get('kind') as DataKind | undefined;
  const oid = values.get('oid');
  const size = values.get('size');
  const files = values.get('files');
  const appendOnly = values.get(APPEND_ONLY_KEY) === 'true';
  if (!values.has('version') || !kind || !oid || !size || (kind === 'dir' && !files) || (appendOnly && kind !== 'dir')) return undefined;
  const fields: PointerData = { kind, oid: parseOidField(oid, where), size: Number(size) };
  if (kind === 'dir') fields.files = Number(files);
  else fields.exec = values.get('exec') === 'true';
  if (appendOnly) fields.appendOnly = true;
  let doc: Document | undefined;
  const pointer = Object.defineProperty(fields, 'doc', {
    enumerable: true,
    get: () => (doc ??= parseYamlSafely(text, pointerSource(where)).doc),
  }) as Pointer;
  canonicalKeys.set(pointer, new Set(values.keys()));
  return pointer;
}

/** The keys of pointers read by parseCanonicalPointer, so that asking for one does not parse the YAML. */
const canonicalKeys = new WeakMap<Pointer, ReadonlySet<string>>();

/** Whether the pointer's file has this top-level key (for keys dvs reads elsewhere, such as lineage). */
export function pointerHasKey(pointer: Pointer, key: string): boolean {
  return canonicalKeys.get(pointer)?.has(key) ?? pointer.doc.has(key);
}

/** parsePointer through the YAML library: any valid YAML, and a precise message for what is not valid. */
export function parsePointerDocument(text: string, where: string): Pointer {
  const source = pointerSource(where);
  const { doc, lines } = parseYamlSafely(text, source);
  const { isMap, isNode } = yaml();
  const fail = (reason: string, offset?: number, code: ErrorCode = 'POINTER_INVALID'): never => {
    const line = offset !== undefined ? lines.linePos(offset).line : undefined;
    throw new DvsError(code, `${where}${line ? `:${line}` : ''}: ${reason}`, {
      hint: source.hint,
      data: { path: where, line, reason: 'shape' },
    });
  };
  if (!isMap(doc.contents)) fail(text.trim() === '' ? 'empty pointer file' : 'a pointer must be a YAML map of keys', 0);
  const node = (key: string) => doc.get(key, true) as { range?: [number, number, number] } | undefined;
  const offsetOf = (key: string) => node(key)?.range?.[0];
  const value = (key: string) => doc.get(key) as unknown;
  const end = text.length;

  const version = value('version');
  if (version === undefined) fail('missing key "version" (the file may be truncated)', end);
  if (version !== POINTER_VERSION) {
    fail(`unsupported version ${quote(version)} (this dvs reads version ${POINTER_VERSION})`, offsetOf('version'), 'POINTER_VERSION');
  }
  const kind = value('kind');
  if (kind === undefined) fail('missing key "kind" (the file may be truncated)', end);
  if (kind !== 'file' && kind !== 'dir') fail(`kind must be "file" or "dir", not ${quote(kind)}`, offsetOf('kind'));
  const rawOid = value('oid');
  if (rawOid === undefined) fail('missing key "oid" (the file may be truncated)', end);
  // parseOidField quotes the value whole; a hostile one can be a megabyte long.
  if (typeof rawOid === 'string' && rawOid.length > 80) fail(`oid must be "sha256:<64 hex digits>", not ${quote(rawOid)}`, offsetOf('oid'), 'INVALID_OID');
  let oid: Oid;
  try {
    oid = parseOidField(rawOid, `${where}:${lines.linePos(offsetOf('oid') ?? 0).line}`);
  } catch (err) {
    if (err instanceof DvsError) throw new DvsError(err.code, err.message, { hint: err.hint, data: { path: where } });
    throw err;
  }
  const size = value('size');
  if (size === undefined) fail('missing key "size" (the file may be truncated)', end);
  if (!Number.isSafeInteger(size) || (size as number) < 0) fail(`size must be a non-negative integer, not ${quote(size)}`, offsetOf('size'));
  const pointer: Pointer = { kind: kind as DataKind, oid, size: size as number, doc };
  if (kind === 'dir') {
    const files = value('files');
    if (files === undefined) fail('missing key "files" (directories record their file count)', end);
    if (!Number.isSafeInteger(files) || (files as number) < 0) fail(`files must be a non-negative integer, not ${quote(files)}`, offsetOf('files'));
    pointer.files = files as number;
  } else {
    const exec = value('exec');
    if (exec !== undefined && typeof exec !== 'boolean') fail(`exec must be true or false, not ${quote(exec)}`, offsetOf('exec'));
    pointer.exec = exec === true;
  }
  const appendOnly = value(APPEND_ONLY_KEY);
  if (appendOnly !== undefined) {
    if (typeof appendOnly !== 'boolean') fail(`append_only must be true or false, not ${quote(appendOnly)}`, offsetOf(APPEND_ONLY_KEY));
    if (appendOnly && kind !== 'dir') fail('append_only applies to directories only', offsetOf(APPEND_ONLY_KEY));
    if (appendOnly) pointer.appendOnly = true;
  }
  const raw = value('source');
  const imported = isNode(raw) ? raw.toJSON() : raw;
  if (imported !== undefined && imported !== null) pointer.source = parseImportSource(imported, (reason) => fail(reason, offsetOf('source')));
  return pointer;
}

const COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
/** Long enough for any real URL; a hostile one can be a megabyte. */
const MAX_URL = 4096;

/** The `source:` map, read as untrusted input: every member typed, the path judged like a data path. */
function parseImportSource(value: unknown, fail: (reason: string) => never): ImportSource {
  const f = Fields.of(value, 'source', (message) => fail(message), true);
  const url = f.required('url');
  // Git would read a leading "-" as an option and run "transport::" URLs as commands.
  if (url === '' || url.length > MAX_URL || url.startsWith('-') || /^[A-Za-z][A-Za-z0-9+.-]*::/.test(url) || /[\u0000-\u001f\u007f]/.test(url)) fail(`source.url must be a repository URL or path, not ${quote(url.slice(0, 200))}`);
  const rev = f.strOrNull('rev');
  if (rev !== null && (rev === '' || rev.length > 256 || rev.startsWith('-') || /[\u0000-\u001f\u007f]/.test(rev))) fail(`source.rev must be a Git revision, not ${quote(rev.slice(0, 200))}`);
  const path = f.required('path');
  const problem = pathProblem(path);
  if (problem) fail(`source.path ${quote(path.slice(0, 200))} ${problem.reason}`);
  const commit = f.required('commit');
  if (!COMMIT_ID.test(commit)) fail(`source.commit must be a full Git commit id, not ${quote(commit.slice(0, 80))}`);
  return { url, rev, path, commit };
}

/**
 * Serialise pointer data. With `previous`, its document is updated in place so that comments and
 * unknown keys survive; otherwise a new document is written in the canonical key order.
 */
export function serializePointer(data: PointerData, previous?: Document): string {
  const { isMap, isNode, isScalar, parseDocument } = yaml();
  const text = writePointer(data, previous);
  if (!previous || parseDocument(text).errors.length === 0) return text;
  // The YAML library can print a comment it read (one holding a bare CR) so that it no longer parses:
  // then the pointer is written afresh, keeping the values of keys dvs does not know but not comments.
  const fresh = parseDocument('');
  fresh.contents = fresh.createNode({}) as never;
  fresh.commentBefore = POINTER_HEADER;
  const contents = previous.contents;
  for (const item of isMap(contents) ? contents.items : []) {
    const key = isScalar(item.key) ? item.key.value : item.key;
    if (typeof key !== 'string' || KNOWN_KEYS.has(key)) continue;
    const value = previous.get(key);
    fresh.set(key, isNode(value) ? value.toJSON() : value);
  }
  return writePointer(data, fresh);
}

function writePointer(data: PointerData, previous?: Document): string {
  const doc = previous ?? yaml().parseDocument('');
  if (!previous) {
    doc.contents = doc.createNode({}) as never;
    doc.commentBefore = POINTER_HEADER;
  }
  doc.set('version', POINTER_VERSION);
  doc.set('kind', data.kind);
  doc.set('oid', formatOid(data.oid));
  doc.set('size', data.size);
  if (data.kind === 'dir') {
    doc.set('files', data.files ?? 0);
    doc.delete('exec');
  } else {
    doc.delete('files');
    if (data.exec) doc.set('exec', true);
    else doc.delete('exec');
  }
  if (data.appendOnly === false || data.kind !== 'dir') doc.delete(APPEND_ONLY_KEY);
  else if (data.appendOnly) doc.set(APPEND_ONLY_KEY, true);
  if (data.source === null) doc.delete('source');
  else if (data.source) doc.set('source', { url: data.source.url, rev: data.source.rev, path: data.source.path, commit: data.source.commit });
  return doc.toString();
}

/** Keys in a pointer that this version does not interpret (kept on rewrite). */
export function unknownKeys(pointer: Pointer): string[] {
  const js = pointer.doc.toJS() as Record<string, unknown>;
  return Object.keys(js).filter((k) => !KNOWN_KEYS.has(k));
}

export function isPointerPath(p: string): boolean {
  return p.endsWith(POINTER_SUFFIX) && p.length > POINTER_SUFFIX.length && !p.endsWith('/' + POINTER_SUFFIX);
}

export function dataPathOf(pointerPath: string): string {
  return pointerPath.slice(0, -POINTER_SUFFIX.length);
}

export function pointerPathOf(dataPath: string): string {
  return dataPath + POINTER_SUFFIX;
}
