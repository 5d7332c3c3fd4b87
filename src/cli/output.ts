import { writeSync } from 'node:fs';

/**
 * What a command prints at its end, written to file descriptors 1 and 2 directly instead of through
 * process.stdout and process.stderr. Node makes those streams on first use, and for a pipe (a script, a
 * pager, the benchmark) that loads its stream and socket code: some 20 M instructions, 6 to 8 ms on this
 * project's machine, for a command such as `dvs status` that prints a few lines once.
 *
 * The stream is still used where writing the descriptor could misbehave: on Windows (the console wants
 * UTF-16, which Node's stream does for it), once the stream exists (what it holds must come out first),
 * and for what is left after the descriptor says it would block (a pipe left non-blocking by the parent:
 * the stream waits for it). A reader that has gone away (EPIPE: `dvs status | head -1`) ends the output
 * quietly, as Git does; the command's result and exit code are not changed by it.
 */
export function printOut(text: string): void {
  print(1, text);
}

export function printErr(text: string): void {
  print(2, text);
}

const closed = new Set<number>();

function print(fd: 1 | 2, text: string): void {
  if (text === '' || closed.has(fd)) return;
  const name = fd === 1 ? 'stdout' : 'stderr';
  if (process.platform === 'win32' || streamMade(name)) {
    process[name].write(text);
    return;
  }
  const bytes = Buffer.from(text, 'utf8');
  let at = 0;
  try {
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') {
      closed.add(fd);
      return;
    }
    if (code !== 'EAGAIN') throw err;
    process[name].write(bytes.subarray(at));
  }
}

/**
 * Whether process.stdout / process.stderr has been made: bin/dvs.js replaces Node's lazy getter with a
 * plain value once the stream is made. Run without bin/dvs.js (in-process, as the tests' helpers can),
 * Node's own getter stays and this says no; that is safe on Linux and macOS alike as long as nothing
 * else was written to the stream first, and the CLI writes only here.
 */
function streamMade(name: 'stdout' | 'stderr'): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(process, name);
  return descriptor !== undefined && !descriptor.get;
}
