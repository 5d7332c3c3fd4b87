import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { dataUrl, listData, openData, type DataEntry, type ReadAtOptions } from '../ops/data/read-at.js';
import { asDvsError } from './invoke.js';

/** Where to read from: a revision (default: the workspace's pointers), a repository, a remote. */
export interface ReadOptions extends ReadAtOptions {
  /** What `repo` and relative paths start from (default: process.cwd()). */
  cwd?: string;
}

const cwdOf = (options: ReadOptions) => resolve(options.cwd ?? process.cwd());

async function rethrown<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw asDvsError(err);
  }
}

/**
 * A readable stream of a tracked file, or of a file inside a tracked directory, at any revision and
 * without a checkout. `path` is from the top of the repository. The bytes come from the cache, else
 * straight from the remote (and are kept in the cache once verified); the stream is hashed as it flows
 * and errors at its end, instead of ending, when the bytes are not the file's.
 */
export function open(path: string, options: ReadOptions = {}): Promise<Readable> {
  return rethrown(openData(cwdOf(options), path, options));
}

/** The whole file as a Buffer (verified); see `open`. */
export async function read(path: string, options: ReadOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await open(path, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * What is tracked at or under `path` (everything when absent) at a revision: each tracked file and
 * directory; for a tracked directory named (or a folder inside one), the files in it. With `recursive`,
 * the files of every tracked directory listed too.
 */
export function list(path?: string, options: ReadOptions & { recursive?: boolean } = {}): Promise<DataEntry[]> {
  return rethrown(listData(cwdOf(options), path, options));
}

/**
 * The URL of the remote object behind `path` (a file; for a tracked directory, its manifest): s3://…,
 * gs://… or a file path; undefined when there is no remote. The remote is not asked whether it has it.
 */
export function getUrl(path: string, options: ReadOptions = {}): Promise<string | undefined> {
  return rethrown(dataUrl(cwdOf(options), path, options));
}

export type { DataEntry };
