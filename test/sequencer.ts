import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first. With two workers the suite ends when the last file
 * started ends: a long file started near the end (vitest orders a fresh checkout by file size, and
 * some short files are slow: npm install, kill rounds) keeps one worker busy while the other idles.
 * Measured on a 2-core machine; a file not listed runs after these, in vitest's own order.
 */
export const SLOWEST_FIRST = [
  'test/e2e/remotes.test.ts',
  'test/e2e/remote-repair.test.ts',
  'test/e2e/package.test.ts',
  'test/e2e/git.test.ts',
  'test/e2e/remotes-packed.test.ts',
  'test/e2e/core.test.ts',
  'test/e2e/remotes-faults.test.ts',
  'test/e2e/kill-resume.test.ts',
  'test/e2e/locks.test.ts',
  'test/e2e/remotes-azure.test.ts',
];

export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.indexOf(relative(f.project.config.root, f.moduleId).split('\\').join('/'));
      return i === -1 ? SLOWEST_FIRST.length : i;
    };
    // A stable sort: files not listed keep vitest's order (failed first, then longest or largest).
    return ordered.map((file, at) => ({ file, at })).sort((a, b) => rank(a.file) - rank(b.file) || a.at - b.at).map((x) => x.file);
  }
}
