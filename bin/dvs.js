#!/usr/bin/env node
// Checkout and hashing queue many file operations on libuv's thread pool; its default of 4 threads
// leaves the disk idle between them. Must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
const argv = process.argv.slice(2);
// Git hooks take a short path that skips the argument parser (they run on every checkout).
const entry = argv[0] === 'hook' ? await import('../dist/cli/hook-main.js').then((m) => m.hookMain) : await import('../dist/cli/main.js').then((m) => m.main);
process.exitCode = await entry(argv);
