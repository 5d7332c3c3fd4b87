import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the project's scripts, without types
import { renderErrorsDoc } from '../../scripts/errors-doc.mjs';
import { EXIT } from '../../src/cli/exit-codes.js';
import { errorCodes, WARNING_CODES } from '../../src/error-codes.js';

const ERROR_CODES = errorCodes();
import { DvsError } from '../../src/errors.js';
import { PROJECT } from '../helpers.js';

describe('the catalogue of error codes', () => {
  it('is what docs/errors.md says (run `npm run errors-doc` after changing it)', () => {
    expect(readFileSync(join(PROJECT, 'docs/errors.md'), 'utf8')).toBe(renderErrorsDoc(ERROR_CODES, WARNING_CODES, EXIT));
  });

  it('gives every error its kind, and every kind an exit code', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(new DvsError(code as keyof typeof ERROR_CODES, 'm').kind).toBe(spec.kind);
      expect(EXIT[spec.kind], code).toBeGreaterThan(0);
      expect(spec.when.length, code).toBeGreaterThan(10);
    }
  });
});
