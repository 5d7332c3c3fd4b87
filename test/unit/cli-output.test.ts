// One vocabulary and one number format in everything dvs prints for people: the helpers, and a look
// through every renderer for the forms that crept in before (an ASCII arrow, a bare `error:` line, a
// count printed without digit grouping).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorNote, formatBytes, formatCount, formatSigned, groupDigits, warningNote } from '../../src/cli/format.js';
import { renderConfig } from '../../src/cli/render/config.js';
import { PROJECT } from '../helpers.js';

const RENDER = join(PROJECT, 'src/cli/render');

/** Code lines of every renderer, comments left out, with file and line for the message. */
function rendererLines(): Array<{ where: string; text: string }> {
  return readdirSync(RENDER)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      readFileSync(join(RENDER, f), 'utf8')
        .split('\n')
        .map((text, i) => ({ where: `src/cli/render/${f}:${i + 1}`, text }))
        .filter((l) => !/^\s*(\/\/|\/?\*)/.test(l.text)),
    );
}

describe('number formats', () => {
  it('groups digits, signs changes, and uses one minus sign', () => {
    expect(groupDigits(-1233)).toBe('-1,233');
    expect(formatSigned(-1233)).toBe('-1,233');
    expect(formatSigned(1233)).toBe('+1,233');
    expect(formatSigned(0)).toBe('±0');
    expect(formatSigned(-8, formatBytes)).toBe('-8 B');
    expect(formatSigned(1_500_000, formatBytes)).toBe('+1.50 MB');
    expect(formatCount(1001, 'file')).toBe('1,001 files');
  });

  it('renderers print no count without digit grouping', () => {
    const bare = rendererLines().filter((l) => /\$\{[\w.]*(length|count|total|files|objects|added|deleted|modified|renamed|missing|duration)\} [a-z]/.test(l.text));
    expect(bare.map((l) => `${l.where}: ${l.text.trim()}`)).toEqual([]);
  });
});

describe('vocabulary', () => {
  it('renderers use → for before/after, never ->', () => {
    expect(rendererLines().filter((l) => / -> /.test(l.text)).map((l) => l.where)).toEqual([]);
  });

  it('every error and warning line starts with dvs:, through errorNote and warningNote', () => {
    expect(errorNote('x.csv: gone', 'dvs pull')).toBe('dvs: error: x.csv: gone\n  hint: dvs pull');
    expect(warningNote('stale')).toBe('dvs: warning: stale');
    const bare = rendererLines().filter((l) => /['"`](error|warning|note): /.test(l.text));
    expect(bare.map((l) => `${l.where}: ${l.text.trim()}`)).toEqual([]);
  });

  it('status speaks of deleted files, as diff does', () => {
    const status = readFileSync(join(RENDER, 'status.ts'), 'utf8');
    expect(status).not.toMatch(/removed/);
    expect(status).toContain('deleted');
  });

  it('config prints nothing and exits 1 for a key that is not set', () => {
    expect(renderConfig({ action: 'get', key: 'core.remote', value: undefined, isDefault: true }, { args: {}, quiet: false, verbose: false })).toEqual({ text: '', exit: 1 });
    expect(renderConfig({ action: 'get', key: 'core.remote', value: 'origin', isDefault: false }, { args: {}, quiet: false, verbose: false })).toEqual({ text: 'origin\n' });
  });
});
