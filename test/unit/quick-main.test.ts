import { describe, expect, it } from 'vitest';
import { quickArgs } from '../../src/cli/quick-main.js';

// bin/dvs.js runs plain `dvs status` / `dvs diff` command lines through quick-main.ts, without yargs:
// the arguments must be the ones yargs builds, and anything unusual must go to yargs.
const globals = { json: false, quiet: false, verbose: false, waitForLock: false };

describe('quick-main: plain status and diff command lines', () => {
  it('builds the arguments yargs would for status', () => {
    expect(quickArgs(['status'])?.args).toEqual({ ...globals, paths: [], granular: false, exitCode: false, remote: undefined });
    const r = quickArgs(['status', 'data/train', '--granular', '-q', '--exit-code', 'data/test', '--json', '-v', '--wait-for-lock']);
    expect(r?.def.name).toBe('status');
    expect(r?.args).toEqual({ json: true, quiet: true, verbose: true, waitForLock: true, paths: ['data/train', 'data/test'], granular: true, exitCode: true, remote: undefined });
  });

  it('builds the arguments yargs would for diff', () => {
    expect(quickArgs(['diff'])?.args).toEqual({ ...globals, revA: undefined, revB: undefined, md: false, exitCode: false });
    const r = quickArgs(['diff', 'HEAD~1', 'HEAD', '--md', '--content', '--exit-code']);
    expect(r?.def.name).toBe('diff');
    expect(r?.args).toEqual({ ...globals, revA: 'HEAD~1', revB: 'HEAD', md: true, content: true, exitCode: true });
  });

  it('leaves every other command line to yargs', () => {
    for (const argv of [
      ['track', 'data'],
      [],
      ['status', '--help'],
      ['status', '-h'],
      ['status', '-r'],
      ['status', '--remote', 'origin'],
      ['status', '--granular=true'],
      ['status', '--no-granular'],
      ['status', '-qv'],
      ['status', '--bogus'],
      ['status', '--', 'data'],
      ['status', ''],
      ['diff', 'a', 'b', 'c'],
      ['diff', '-t', 'data'],
      ['diff', '--rows', '3'],
      ['diff', '--granular'],
      ['toString'],
      ['__proto__'],
    ]) {
      expect(quickArgs(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
