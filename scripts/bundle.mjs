// Bundle the compiled CLI (dist/) into a few ES modules under dist/bundle/. Node resolves and compiles
// one file per module at start-up; ~150 small files (ours, yargs, yaml) cost more than the work of a
// quick command or a Git hook. Dynamic imports stay lazy (code splitting); native and heavy packages
// (SQLite, cloud SDKs, Parquet) stay external and load only when used. bin/dvs.js falls back to dist/
// when the bundle is missing or older than the tsc output.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true }); // chunk names change with content

// Native and heavy packages: loaded from node_modules when used (see above).
const EXTERNAL = ['better-sqlite3', '@aws-sdk/*', '@smithy/*', '@google-cloud/*', '@azure/*', 'hyparquet', 'hyparquet-compressors', 'hyparquet-writer', 'apache-arrow', 'csv-parse', 'ssh2'];
// yargs's CommonJS build is lighter than its ESM build (which pulls in y18n and more).
const ALIAS = { 'yargs/yargs': './node_modules/yargs/yargs.cjs' };

/*
 * The `yaml` library (166 kB bundled) in a CommonJS file of its own, dist/bundle/yaml.cjs, which
 * src/base/yaml-lib.ts requires on first use. In a chunk it was read, and its compiled code loaded from
 * the compile cache, by every command that imports the pointer format, `dvs status` and `dvs diff`
 * included, which read canonical pointers and plain configs without it: about 700 page faults (some
 * 10 ms on a virtual machine) for a library they never call. Both builds below name it by that file.
 */
// What the single CommonJS files (yaml.cjs, hook-main.cjs) are built with.
const SINGLE_CJS = {
  outdir: 'dist/bundle',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
};
await build({ ...SINGLE_CJS, entryPoints: { yaml: 'node_modules/yaml/dist/index.js' } });
const yamlApart = {
  name: 'yaml-apart',
  setup(b) {
    // Every chunk sits in dist/bundle, beside yaml.cjs; require resolves it from the requiring file.
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: './yaml.cjs', external: true }));
  },
};

await build({
  entryPoints: {
    main: 'dist/cli/main.js',
    'hook-main': 'dist/cli/hook-main.js',
    'quick-main': 'dist/cli/quick-main.js',
    // Worker threads are started by file name, next to the code that starts them.
    'hash-worker': 'dist/objects/hash-worker.js',
    'copy-worker': 'dist/remotes/copy-worker.js',
    'scan-worker': 'dist/diff/content/scan-worker.js',
  },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Less source to parse at every start; identifiers are kept, so stack traces (-v) stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  external: EXTERNAL,
  // CommonJS dependencies (yargs, yaml) call require() and read __dirname (yargs looks for its message
  // translations there; missing, it uses its built-in English): give each chunk both.
  banner: {
    js: [
      'const { createRequire: __dvsCreateRequire } = process.getBuiltinModule("node:module");',
      'const { dirname: __dvsDirname } = process.getBuiltinModule("node:path");',
      'const { fileURLToPath: __dvsFileURLToPath } = process.getBuiltinModule("node:url");',
      'const require = __dvsCreateRequire(import.meta.url);',
      'const __filename = __dvsFileURLToPath(import.meta.url);',
      'const __dirname = __dvsDirname(__filename);',
    ].join(' '),
  },
  alias: ALIAS,
  plugins: [yamlApart],
  logLevel: 'warning',
});

/*
 * The Git hooks' entry once more, as one CommonJS file (dist/bundle/hook-main.cjs, which bin/dvs.js
 * prefers for `dvs hook`). A hook with nothing to do loads some 30 of the chunks above, and Node's ES module
 * loader costs about a millisecond for each (resolving, a package scope lookup, linking): about a tenth of
 * a hook's time, paid at every branch switch. One CommonJS file is read and compiled (from the compile
 * cache) once; what a hook with work to do needs more (checkout, remotes) is in it too, evaluated only when
 * first used. Dependencies a hook rarely touches stay out to keep the file small: yaml (in yaml.cjs, above:
 * a hook reads canonical pointers and plain configs without it), simple-git and ora (progress on a
 * terminal, from node_modules). import.meta.url, which CommonJS lacks, is this file's own URL: the
 * worker files and hooks/ templates it locates sit beside the chunks, at the same place.
 */
await build({
  ...SINGLE_CJS,
  entryPoints: { 'hook-main': 'dist/cli/hook-main.js' },
  define: { 'import.meta.url': '__dvsModuleUrl' },
  banner: { js: 'const __dvsModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  external: [...EXTERNAL, 'simple-git', 'ora'],
  alias: ALIAS,
  plugins: [yamlApart],
});

// The banner costs a createRequire, a fileURLToPath and a dirname in every chunk at every start (about
// 20 chunks for a quick command); only the chunks whose code names `require`, `__dirname` or
// `__filename` (esbuild's CommonJS runtime, yargs) use it. The others get an empty first line instead,
// so that line numbers, and the source maps, stay as esbuild wrote them.
const BANNER_USER = /\brequire\b|__dirname|__filename/;
for (const name of readdirSync('dist/bundle')) {
  if (!name.endsWith('.js')) continue;
  const path = `dist/bundle/${name}`;
  let text = readFileSync(path, 'utf8');
  const firstLineEnd = text.indexOf('\n');
  if (!BANNER_USER.test(text.slice(firstLineEnd))) text = text.slice(firstLineEnd);
  writeFileSync(path, builtinsWithoutFacade(text));
}

// The folder's own package.json: Node looks for the package.json that decides each module's format,
// folder by folder up from the module, at every import (a lookup that finds nothing is not remembered):
// about 7 failed opens per chunk, 200 for a Git hook, before this one ends each search at once.
writeFileSync('dist/bundle/package.json', JSON.stringify({ type: 'module' }) + '\n');

/**
 * Node's built-in modules taken with process.getBuiltinModule (Node 20.16+, 22.3+) instead of `import`.
 * An `import` of a built-in makes its ES module facade, which reads every export once: for node:fs that
 * includes the lazy `ReadStream` and `promises`, which load Node's whole stream and fs/promises code, 6 to
 * 8 % of the instructions of a Git hook with nothing to do, whether dvs uses them or not. The module object
 * is the same one `import` would give (a built-in's default export), so `import x`, `import * as x` and
 * `import { a as b }` all read from it; what the code never touches is never loaded.
 */
function builtinsWithoutFacade(text) {
  return text.replace(/(?<![\w$.])import\s*([^"';]*?)\s*from\s*"node:([a-z_/]+)";?/g, (whole, clause, name) => {
    const module = `process.getBuiltinModule("node:${name}")`;
    const out = [];
    for (const part of clause.match(/\{[^}]*\}|\*\s*as\s+[\w$]+|[\w$]+/g) ?? []) {
      if (part.startsWith('{')) {
        const names = part.slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean);
        const plain = [];
        for (const n of names) {
          const [from, to = from] = n.split(/\s+as\s+/);
          if (from === 'default') out.push(`const ${to}=${module};`);
          else plain.push(from === to ? from : `${from}:${to}`);
        }
        if (plain.length) out.push(`const{${plain.join(',')}}=${module};`);
      } else {
        out.push(`const ${part.replace(/^\*\s*as\s+/, '')}=${module};`);
      }
    }
    if (out.length === 0) throw new Error(`bundle: an import of node:${name} not understood: ${whole}`);
    return out.join('');
  });
}
