import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePlainConfig } from '../../src/repo/config-text.js';
import { parseYamlSafely } from '../../src/base/safe-yaml.js';
import { DvsError } from '../../src/errors.js';

const source = { where: '.dvs/config', code: 'CONFIG' as const, what: 'a config file', hint: '' };

/** What the full parser makes of a text: its value, or 'refused'. */
function full(text: string): unknown {
  try {
    return parseYamlSafely(text, source).doc.toJS();
  } catch (err) {
    if (err instanceof DvsError) return 'refused';
    throw err;
  }
}

describe('the plain config reader', () => {
  it('reads what dvs writes as the full parser does', () => {
    const texts = [
      '',
      '# only a comment\n',
      '# dvs configuration\ncore:\n  autostage: true\n',
      'core:\n  autostage: false\n  remote: origin\ncache:\n  type:\n    - reflink\n    - copy\n  dir: /srv/dvs-cache\n',
      'remote:\n  origin:\n    url: s3://bucket/some/prefix\n    path_style: true\n    jobs: 8\n  backup:\n    url: "/mnt/backup dir"\n',
      'transfer:\n  retries: 0\n  timeout: 30\ncore:\n  remote:\n',
      "remote:\n  h:\n    url: 'https://example.com/a?b=c'\n",
    ];
    for (const text of texts) {
      const plain = parsePlainConfig(text);
      expect(plain, text).not.toBeUndefined();
      expect(plain, text).toEqual(full(text));
    }
  });

  it('leaves everything else to the full parser', () => {
    const texts = [
      'core: {autostage: true}\n', 'core:\n\tautostage: true\n', 'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: 1\na: 2\n',
      'a:\n  b: 1\n   c: 2\n', '  a: 1\n', 'a: 1.5\n', 'a: 0x1f\n', 'a: ~\n', 'a: null\n', 'a: True\n', 'a: "x\\ny"\n',
      'a: b # c\n', 'a: b: c\n', 'a:b\n', '---\na: 1\n', 'a:\n- x\n', 'a: x\r\n', 'a: caf\u00e9\n', '__proto__:\n  a: 1\n',
      'a: |\n  text\n', 'a:\n  - x: 1\n', 'a: [x, y]\n', 'a: 007\n', 'true: 1\n',
    ];
    for (const text of texts) expect(parsePlainConfig(text), JSON.stringify(text)).toBeUndefined();
  });

  it('never disagrees with the full parser (5,000 generated texts)', () => {
    const pieces = ['core', 'remote', 'a', 'b', '_x', 'url', 'true', 'false', 'null', '0', '12', '007', '1.5', '-1', 's3://b/p', 'a b', 'a  b', 'x:y', 'x: y', '"q"', "'q'", '"a#b"', '#', ' #c', '~', '-', '- ', '[a]', '{a: 1}', '&a', '*a', '!t', '|', '>', '?', '%', '\\', '@x', '/p', 'x:'];
    const line = fc.tuple(fc.constantFrom('', '  ', '    ', '      ', ' ', '   '), fc.constantFrom('', '- ', '# '), fc.constantFrom(...pieces), fc.constantFrom(':', ': ', ''), fc.constantFrom('', ...pieces))
      .map(([indent, lead, key, colon, value]) => `${indent}${lead}${key}${colon}${value}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = lines.join('\n') + '\n';
        const plain = parsePlainConfig(text);
        if (plain !== undefined) expect(plain).toEqual(full(text));
      }),
      { numRuns: 5000 },
    );
  });
});
