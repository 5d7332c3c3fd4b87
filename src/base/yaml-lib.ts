import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

/**
 * The `yaml` library, evaluated on first use. Loading it costs about 40 M instructions (a sixth of a
 * `dvs status` with no pointers); a command that reads no pointer and only a plain config (repo/config.ts
 * reads that without it) never pays. In the bundle, esbuild turns `require('yaml')` into a call that
 * evaluates the bundled copy there and then; in dist/ and the tests (plain ES modules, no `require`),
 * Node's own require loads the package.
 */
export function yaml(): typeof Yaml {
  return (lib ??= typeof require === 'function' ? (require('yaml') as typeof Yaml) : (createRequire(import.meta.url)('yaml') as typeof Yaml));
}
