import { afterAll, describe, expect, it } from 'vitest';
import { renderContentDiffMarkdown, renderContentDiffText } from '../../../src/cli/render/content-diff.js';
import { diffContent } from '../../../src/diff/content/index.js';
import { cleanupTempDirs, tempDir } from '../../helpers.js';
import { source, write } from './fixtures.js';

afterAll(cleanupTempDirs);

describe('content diff renderers', () => {
  const dir = tempDir();

  it('renders compact text and a collapsible markdown section with escaped cells', async () => {
    const a = write(dir, 'a.csv', 'id,note,n\n1,plain,1\n2,"pipe | and\nnewline",2\n3,<b>html</b>,3\n');
    const b = write(dir, 'b.csv', 'id,note,n\n1,plain,1\n2,"pipe | changed",2\n4,"x, y",4\n');
    const d = await diffContent(source(a, { path: 'd/x.csv' }), source(b, { path: 'd/x.csv' }), { key: 'id' });

    const text = renderContentDiffText('d/x.csv', d);
    expect(text[0]).toBe('d/x.csv (csv, modified)');
    expect(text[1]).toBe('  rows: 3 → 3 (±0)');
    expect(text).toContain('  by key id: 1 changed, removed 1 rows, added 1, 1 unchanged');
    expect(text).toContain('    − row 3: id=3, note=<b>html</b>, n=3');
    expect(text).toContain('    + row 3: id=4, note="x, y", n=4');
    expect(text).toContain('    ~ id=2: note pipe | and⏎newline → pipe | changed');

    const md = renderContentDiffMarkdown('d/x.csv', d);
    expect(md.startsWith('<details><summary><code>d/x.csv</code> — csv, rows: 3 → 3 (±0), ')).toBe(true);
    expect(md.trimEnd().endsWith('</details>')).toBe(true);
    expect(md).toContain('| 2 | note | pipe \\| and⏎newline | pipe \\| changed |');
    expect(md).toContain('| 3 | 3 | &lt;b&gt;html&lt;/b&gt; | 3 |');
    // Every table row has as many cells as its header: no stray pipe or newline broke a row.
    for (const block of md.split('\n\n').filter((b) => b.startsWith('|'))) {
      const widths = block.split('\n').map((line) => line.split(/(?<!\\)\|/).length);
      expect(new Set(widths).size).toBe(1);
    }
  });

  it('shows errors and notes', async () => {
    const a = write(dir, 'ok.jsonl', '{"a":1}\n');
    const b = write(dir, 'bad.jsonl', 'nope\n');
    const d = await diffContent(source(a, { path: 'x.jsonl' }), source(b, { path: 'x.jsonl' }));
    expect(renderContentDiffText('x.jsonl', d)).toContain("  x.jsonl (after): not JSON Lines (line 1: Unexpected token 'o', \"nope\" is not valid JSON)");
    expect(renderContentDiffMarkdown('x.jsonl', d)).toContain('> **Error** (after) `x.jsonl`: not JSON Lines');
  });
});
