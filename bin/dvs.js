#!/usr/bin/env node
// Checkout and hashing queue many file operations on libuv's thread pool; its default of 4 threads
// leaves the disk idle between them. Must be set before the pool first starts.
process.env.UV_THREADPOOL_SIZE ??= '16';
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
