import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { errnoCode } from '../errors.js';
import { writeFileAtomic } from '../base/atomic.js';

/**
 * Tracked data is kept out of Git by a `/name` line in the `.gitignore` of its folder, as DVC does: the
 * entry sits next to the data, so moving a folder moves its rules with it.
 */
function entryFor(dataPath: string): { file: string; line: string } {
  const name = posix.basename(dataPath);
  // Escape gitignore's special characters so the line matches exactly this name.
  const escaped = name.replace(/([\\*?[\]!#])/g, '\\$1').replace(/^(\s)/, '\\$1').replace(/(\s)$/, '\\$1');
  return { file: gitignorePathOf(dataPath), line: `/${escaped}` };
}

/** The .gitignore that keeps this data path out of Git (repository-relative). */
export function gitignorePathOf(dataPath: string): string {
  const dir = posix.dirname(dataPath);
  return dir === '.' ? '.gitignore' : `${dir}/.gitignore`;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Add the data path to its folder's .gitignore. Returns that .gitignore's path if it changed. */
export function ignoreInGit(root: string, dataPath: string): string | undefined {
  const { file, line } = entryFor(dataPath);
  const abs = join(root, file);
  const lines = readLines(abs);
  if (lines.includes(line)) return undefined;
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.push(line, '');
  writeFileAtomic(abs, lines.join('\n'));
  return file;
}

/** Remove the entry `ignoreInGit` added. Returns the .gitignore's path if it changed. */
export function unignoreInGit(root: string, dataPath: string): string | undefined {
  const { file, line } = entryFor(dataPath);
  const abs = join(root, file);
  const lines = readLines(abs);
  if (!lines.includes(line)) return undefined;
  writeFileAtomic(abs, lines.filter((l) => l !== line).join('\n'));
  return file;
}
