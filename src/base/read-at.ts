import { readSync } from 'node:fs';

/**
 * Fill `into` from `fd`, starting at byte `position` of the file: a read may return fewer bytes than
 * asked, so it is repeated until `into` is full or the file ends. Returns how many bytes were read
 * (less than `into.length` only when the file was shorter).
 */
export function readFullyAt(fd: number, into: Uint8Array, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
