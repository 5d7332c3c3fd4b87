import type { Warning } from '../events.js';
import type { DataDiff } from '../diff/data-diff.js';
import type { OpContext } from './context.js';
import type { DiffOptions } from './diff.js';

/** Content diffs are attached once the content engine is wired in (see src/diff/content/). */
export async function attachContentDiffs(_ctx: OpContext, _changes: DataDiff[], _options: DiffOptions & { workspace: boolean }, warnings: Warning[]): Promise<void> {
  warnings.push({ code: 'CONTENT_DIFF_UNAVAILABLE', message: 'content diff is not available in this build' });
}
