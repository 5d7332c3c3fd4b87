import { GitObjectError } from './git-object-error.js';

/**
 * Apply one Git delta (pack format: source size, target size, then copy and insert instructions) to its
 * base. The delta comes from a repository, so every size and range is checked: a copy outside the base,
 * an output longer or shorter than announced, or a reserved opcode is an error, never a bad read.
 */
export function applyDelta(base: Buffer, delta: Buffer, maxSize: number): Buffer {
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (pos >= delta.length || shift > 42) throw new GitObjectError('bad delta header');
      const c = delta[pos++];
      value += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(c & 0x80)) return value;
    }
  };
  if (varint() !== base.length) throw new GitObjectError('delta base size mismatch');
  const size = varint();
  if (size > maxSize) throw new GitObjectError('delta result too large');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  while (pos < delta.length) {
    const op = delta[pos++];
    if (op & 0x80) {
      let offset = 0;
      let length = 0;
      for (let bit = 0; bit < 4; bit++) {
        if (op & (1 << bit)) {
          if (pos >= delta.length) throw new GitObjectError('truncated delta');
          offset += delta[pos++] * 2 ** (8 * bit);
        }
      }
      for (let bit = 0; bit < 3; bit++) {
        if (op & (0x10 << bit)) {
          if (pos >= delta.length) throw new GitObjectError('truncated delta');
          length += delta[pos++] << (8 * bit);
        }
      }
      if (length === 0) length = 0x10000;
      if (offset + length > base.length || at + length > size) throw new GitObjectError('delta copy out of range');
      base.copy(out, at, offset, offset + length);
      at += length;
    } else if (op) {
      if (pos + op > delta.length || at + op > size) throw new GitObjectError('delta insert out of range');
      delta.copy(out, at, pos, pos + op);
      pos += op;
      at += op;
    } else {
      throw new GitObjectError('reserved delta opcode');
    }
  }
  if (at !== size) throw new GitObjectError('delta result size mismatch');
  return out;
}
