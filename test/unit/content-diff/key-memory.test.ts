/**
 * Key mode's second pass keeps the compared cells of each changed key of `before` until `after` is read.
 * A CSV cell is a slice of its decoded 64 KB chunk, and V8 keeps a slice's whole parent alive: kept as
 * slices, cells of 1% of the keys held all of `before`'s text. This measures the JavaScript heap (after a
 * full garbage collection) at every progress event of the diff, which is memory, not time: deterministic.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, expect, it } from 'vitest';
import { diffContent, fileSource } from '../../../src/diff/content/index.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';

afterAll(cleanupTempDirs);

/** 200,000 rows of ~120 bytes (24 MB); `changed`: every 100th row's text differs. */
function table(changed: boolean): string {
  const lines = ['id,text,score'];
  for (let i = 0; i < 200_000; i++) {
    const text = `row ${i} ${'lorem ipsum dolor sit amet '.repeat(4)}${changed && i % 100 === 7 ? 'changed' : 'same'}`;
    lines.push(`${i},${text},${(i % 997) / 10}`);
  }
  return lines.join('\n') + '\n';
}

it('keeps the changed keys’ cells, not the chunks of text they were cut from', async () => {
  const dir = tempDir();
  const before = join(dir, 'before.csv');
  const after = join(dir, 'after.csv');
  writeFileSync(before, table(false));
  writeFileSync(after, table(true));
  const size = statSync(before).size;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // The heap after a full collection at each progress event (every 16 MB read, on each pass).
  const heap: number[] = [];
  const d = await diffContent(await fileSource(before), await fileSource(after), {
    key: 'id',
    rows: 1,
    parallel: false,
    onProgress: () => {
      gc();
      heap.push(process.memoryUsage().heapUsed);
    },
  });
  expect(d.rowDiff).toMatchObject({ mode: 'key', changed: 2000, cellChangesOf: 2000 });
  expect(d.rowDiff!.cellChanges).toEqual([{ column: 'text', rows: 2000, meanDelta: null }]);
  // Both passes over both versions reported (first pass: statistics; second: samples and cells).
  expect(heap).toHaveLength(4);
  // While the second pass reads `after`, the kept cells of 2,000 keys (~120 characters each) are a few
  // hundred KB; the chunks they were cut from would be all of `before` read so far (24 MB).
  const held = heap[3]! - Math.min(...heap);
  expect(held).toBeLessThan(size / 4);
});
