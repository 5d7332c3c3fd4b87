import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the project's scripts, without types
import { renderSchemas, SCHEMA_DIR } from '../../scripts/schemas.mjs';

describe('docs/schemas/', () => {
  it('is what the result types in src/api/outputs.ts say (run `npm run schemas` after changing them)', () => {
    const files: Record<string, string> = renderSchemas();
    expect(readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.json')).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(readFileSync(join(SCHEMA_DIR, name), 'utf8'), name).toBe(text);
  }, 180_000);
});
