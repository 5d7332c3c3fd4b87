#!/usr/bin/env node
// Built-ins from process.getBuiltinModule, not `import`: an import of node:fs reads every export once,
// which loads Node's stream code for the lazy ReadStream (see scripts/bundle.mjs, which does the same
// for dvs's own bundle).
const { accessSync, constants, mkdirSync, readFileSync, statSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');
const { join } = process.getBuiltinModule('node:path');

const argv = process.argv.slice(2);
// `dvs --version` answers before anything else loads: scripts and CI images call it to probe for dvs.
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  // The one place dvs says it (README: Requirements); the AWS SDK's own warning is silenced (src/remotes/s3.ts).
  if (Number(process.versions.node.split('.')[0]) < 22) {
    process.stderr.write(
      `dvs: warning: Node ${process.versions.node} reached its end of life in April 2026; dvs still runs on it, but the AWS SDK it uses needs Node 22 from January 2027\n` +
        '  hint: install Node 24 or 22 (the LTS lines dvs is tested on); see README: Requirements\n',
    );
  }
  process.exit(0);
}

// No V8 flags are set here (v8.setFlagsFromString): a flag changed after start-up changes V8's flag
// hash, so Node's own code cache of its built-in modules no longer matches and every built-in loaded
// afterwards (child_process, streams, …) is compiled from source, about 22 M instructions for a Git hook;
// and the young generation's size is fixed when the heap is made (a --max-semi-space-size set here left
// it at 32 MiB on Node 20, 22 and 24).

// Checkout and hashing queue many file operations on libuv's thread pool; its default of 4 threads
// leaves the disk idle between them. Must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
// Node 22.1+ keeps V8's compiled code of dvs's modules on disk: later starts skip most of the parse
// and compile. The directory is the user's own cache directory, never a shared temp directory (another
// user could plant code there). An unusable cache directory leaves the cache off, and
// NODE_COMPILE_CACHE / NODE_DISABLE_COMPILE_CACHE still decide first.
if (module.enableCompileCache && process.env.NODE_COMPILE_CACHE === undefined) {
  const dir = compileCacheDir();
  if (dir) {
    try {
      // Made and checked here first, so that an unusable directory leaves the cache off quietly.
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      module.enableCompileCache(dir);
    } catch {
      // only ever a speed-up
    }
  }
}

// A reader that stops early (`dvs diff --json | head`) closes the pipe: end quietly, as Git does, rather
// than with Node's stack trace for the unhandled EPIPE. Other stdout errors stay errors. The handler is
// attached when the stream is first used: Node makes process.stdout on first access, and for a pipe or a
// terminal that loads its socket and stream modules (about a tenth of a Git hook's start-up), which a hook
// that prints nothing need not pay.
const quietOnEpipe = (stream) =>
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
for (const name of ['stdout', 'stderr']) {
  const made = Object.getOwnPropertyDescriptor(process, name);
  if (!made?.get || !made.configurable) {
    quietOnEpipe(process[name]);
    continue;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      const stream = quietOnEpipe(made.get.call(process));
      Object.defineProperty(process, name, { configurable: true, enumerable: made.enumerable, writable: true, value: stream });
      return stream;
    },
  });
}

// Git hooks take a short path that skips the argument parser (they run on every checkout); so do plain
// `dvs status` and `dvs diff` command lines (quick-main.ts hands anything else to the parser).
const [name, run] = argv[0] === 'hook' ? ['hook-main', 'hookMain'] : argv[0] === 'status' || argv[0] === 'diff' ? ['quick-main', 'quickMain'] : ['main', 'main'];
const plain = new URL(`../dist/cli/${name}.js`, import.meta.url);
const bundled = new URL(`../dist/bundle/${name}.js`, import.meta.url);
// Hooks have their entry as one CommonJS file too (scripts/bundle.mjs says why): required, not imported.
const single = name === 'hook-main' ? new URL('../dist/bundle/hook-main.cjs', import.meta.url) : undefined;
// The bundle (npm run build) starts faster; after a bare `tsc` it is stale, and dist/ is used.
const mtime = (u) => statSync(u, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const mod = single && mtime(single) >= mtime(plain)
  ? module.createRequire(import.meta.url)(process.getBuiltinModule('node:url').fileURLToPath(single))
  : await import((mtime(bundled) >= mtime(plain) ? bundled : plain).href);
process.exitCode = await mod[run](argv);

function compileCacheDir() {
  const env = process.env;
  let base;
  if (process.platform === 'win32') base = env.LOCALAPPDATA;
  else if (process.platform === 'darwin') base = env.HOME && join(env.HOME, 'Library', 'Caches');
  else base = env.XDG_CACHE_HOME || (env.HOME && join(env.HOME, '.cache'));
  return base ? join(base, 'dvs', 'compile-cache') : undefined;
}
