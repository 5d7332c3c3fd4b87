// Writes docs/errors.md from the catalogue in src/error-codes.ts (built: dist/error-codes.js).
//   npm run errors-doc
// test/unit/errors-doc.test.ts fails when docs/errors.md and the catalogue disagree.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The page, from the catalogue and the exit codes. */
export function renderErrorsDoc(errorCodes, warningCodes, exitCodes) {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/error-codes.ts by `npm run errors-doc`; do not edit by hand. -->',
    '',
    'Every error dvs reports has a stable code (in `--json` output: `error.code`; in a list of failures:',
    '`failures[].code`) and a kind, which fixes the exit code. Scripts should branch on the code, never on',
    'the message. Errors print `dvs: error: <what, where>` and `  hint: <what to do>` on stderr.',
    '',
    '| kind | exit code |',
    '|---|---:|',
    ...Object.entries(exitCodes).filter(([kind]) => !['ok', 'differences', 'interrupted'].includes(kind)).map(([kind, code]) => `| ${kind} | ${code} |`),
    '',
    '| code | kind | exit | when |',
    '|---|---|---:|---|',
    ...Object.entries(errorCodes)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([code, s]) => `| \`${code}\` | ${s.kind} | ${exitCodes[s.kind]} | ${s.when.replace(/\|/g, '\\|')} |`),
    '',
    '## Warnings',
    '',
    'A warning means the command went on and succeeded; it does not change the exit code. Warnings print',
    '`dvs: warning: …` on stderr and appear under `warnings` in `--json` output.',
    '',
    '| code | when |',
    '|---|---|',
    ...Object.entries(warningCodes)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([code, when]) => `| \`${code}\` | ${when.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { errorCodes, WARNING_CODES } = await import('../dist/error-codes.js');
  const ERROR_CODES = errorCodes();
  const { EXIT } = await import('../dist/cli/exit-codes.js');
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc(ERROR_CODES, WARNING_CODES, EXIT));
  console.log('wrote docs/errors.md');
}
