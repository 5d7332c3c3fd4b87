#!/usr/bin/env node
// Read a dataset as it was one commit ago, from a clone with no data checked out: the pointer comes
// from Git's objects, the bytes from the cache or straight from the remote, hashed as they stream.
//
//   node examples/open-at-previous-commit.mjs <clone> <tracked file, or a file inside a tracked directory>
import { createInterface } from 'node:readline';
import { DvsError, list, open } from 'dvs';

const [repo = '.', path = 'data/train.csv'] = process.argv.slice(2);

try {
  const entries = await list(undefined, { repo, rev: 'HEAD~1' });
  console.log(`tracked at HEAD~1: ${entries.map((e) => `${e.path} (${e.kind}, ${e.size} B)`).join(', ')}`);

  const stream = await open(path, { repo, rev: 'HEAD~1' });
  let rows = 0;
  // Line by line, as a training loop would consume it; a corrupted object fails the loop at its end.
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (rows === 0) console.log(`header: ${line}`);
    rows++;
  }
  console.log(`${path} at HEAD~1: ${rows} lines`);
} catch (err) {
  if (!(err instanceof DvsError)) throw err;
  console.error(`dvs: error: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`);
  process.exitCode = err.exitCode;
}
