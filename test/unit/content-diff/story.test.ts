/**
 * The product story: version B of a dataset drops 5% of the rows whose domain is `math`. A reviewer must
 * see it in the statistics (the math count drops, the row delta is minus that many, the domain column
 * comes first) and in the removed-rows sample (every removed row is a math row).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { diffContent } from '../../../src/diff/content/index.js';
import { renderContentDiffMarkdown, renderContentDiffText } from '../../../src/cli/render/content-diff.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

const DOMAINS = ['math', 'code', 'news', 'web', 'chat'];

function dataset(dropMath: (mathIndex: number) => boolean): { text: string; dropped: number } {
  const lines = ['id,domain,text,score'];
  let mathIndex = 0;
  let dropped = 0;
  for (let i = 0; i < 5000; i++) {
    const domain = DOMAINS[(i * 7) % 5]!;
    if (domain === 'math' && dropMath(mathIndex++)) {
      dropped++;
      continue;
    }
    // Deterministic pseudo-random text and score; some text needs quoting.
    const text = i % 9 === 0 ? `"sample ${i}, with a comma"` : `sample text number ${i}`;
    const score = ((i * 2654435761) % 1000) / 1000;
    lines.push(`${i},${domain},${text},${score}`);
  }
  return { text: lines.join('\n') + '\n', dropped };
}

describe('product story: dropping 5% of math rows', () => {
  const dir = tempDir();
  const a = dataset(() => false);
  const b = dataset((k) => k % 20 === 7); // every 20th math row: 5%
  const before = write(dir, 'train-a.csv', a.text);
  const after = write(dir, 'train-b.csv', b.text);

  it('shows the drop in the statistics, the row delta and the removed sample', async () => {
    expect(b.dropped).toBe(50);
    const d = await diffContent(source(before, { path: 'data/train.csv' }), source(after, { path: 'data/train.csv' }));
    expect(d.errors).toEqual([]);
    expect(d.rows).toEqual({ before: 5000, after: 4950, delta: -50 });
    expect(d.schema).toMatchObject({ added: [], removed: [], renamed: [], typeChanged: [] });

    // The column whose distribution moved most is domain; in it, math lost exactly 50.
    expect(d.columns[0]!.name).toBe('domain');
    const top = (side: 'before' | 'after') => Object.fromEntries(d.columns[0]![side]!.top!.map((t) => [t.value, t.count]));
    expect(top('before')).toMatchObject({ math: 1000, code: 1000 });
    expect(top('after')).toMatchObject({ math: 950, code: 1000 });

    expect(d.rowDiff).toMatchObject({ mode: 'multiset', added: 0, removed: 50, unchanged: 4950 });
    const removed = d.rowDiff!.samples.removed;
    expect(removed).toHaveLength(5);
    expect(removed.every((r) => r.values.domain === 'math')).toBe(true);
    expect(removed.every((r) => r.file === 'data/train.csv')).toBe(true);

    // The renderers say the same, compactly.
    const text = renderContentDiffText('data/train.csv', d).join('\n');
    expect(text).toMatch(/rows: 5,000 → 4,950 \(-50\)/);
    expect(text).toMatch(/domain .*math 1,000 → 950/);
    expect(text).toMatch(/removed 50 rows/);
    const md = renderContentDiffMarkdown('data/train.csv', d);
    expect(md).toMatch(/<summary><code>data\/train.csv<\/code>/);
    expect(md).toMatch(/\| domain \|/);
  });
});
