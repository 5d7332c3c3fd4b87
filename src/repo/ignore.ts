import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { errnoCode } from '../errors.js';

/**
 * `.dvsignore` files use gitignore syntax. The one at the repository root applies everywhere; one inside
 * a tracked directory applies below it. Matching is done by the `ignore` package (the gitignore rules
 * are subtle: negation, directory-only patterns, anchoring).
 */
export const IGNORE_FILE = '.dvsignore';

/** Tests names inside one directory against every `.dvsignore` that applies there. */
export type DirectoryMatcher = (name: string, isDir: boolean) => boolean;

interface RuleSet {
  readonly rules: Ignore;
  /** When every pattern is a plain name (no wildcards): the names, for a Set lookup instead. */
  names?: { files: Set<string>; dirs: Set<string> };
  /**
   * Every pattern matches by name alone (no inner "/", no "!"): then a name can be tested without its
   * path, because the walk never enters an ignored folder. Most .dvsignore files are like this.
   */
  byName: boolean;
}

export class IgnoreRules {
  private readonly byDir = new Map<string, RuleSet | null>();

  constructor(private readonly root: string) {}

  private rulesFor(dirRel: string, hasFile?: boolean): RuleSet | null {
    let rules = this.byDir.get(dirRel);
    if (rules !== undefined) return rules;
    rules = null;
    // A folder the caller has just listed without a .dvsignore in it: no read (a failed open costs an
    // error object with its stack, paid in every folder of a directory of thousands).
    if (hasFile === false) {
      this.byDir.set(dirRel, rules);
      return rules;
    }
    try {
      const text = readFileSync(join(this.root, dirRel, IGNORE_FILE), 'utf8');
      const patterns = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      const byName = patterns.every((p) => !p.startsWith('!') && !p.replace(/\/+$/, '').includes('/'));
      // Compiled on first use: the usual .dvsignore (plain names) is matched by the Set below, and
      // building the package's regular expressions costs every command that walks the workspace.
      let compiled: Ignore | undefined;
      rules = {
        byName,
        get rules() {
          return (compiled ??= ignore().add(text));
        },
      };
      if (byName && patterns.every((p) => !/[*?[\\]/.test(p))) {
        // "name" ignores files and folders of that name, "name/" only folders.
        const files = new Set(patterns.filter((p) => !p.endsWith('/')));
        const dirs = new Set([...files, ...patterns.filter((p) => p.endsWith('/')).map((p) => p.replace(/\/+$/, ''))]);
        rules.names = { files, dirs };
      }
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    this.byDir.set(dirRel, rules);
    return rules;
  }

  /**
   * A matcher for the entries of one directory (repository-relative, '' for the root). The applicable
   * rule sets and each one's path prefix are worked out once per directory, not once per file.
   * `hasIgnoreFile`: whether the directory itself holds a .dvsignore, when the caller has just listed it.
   */
  matcher(dirRel: string, hasIgnoreFile?: boolean): DirectoryMatcher {
    const parts = dirRel === '' ? [] : dirRel.split('/');
    const tests: DirectoryMatcher[] = [];
    for (let i = 0; i <= parts.length; i++) {
      const set = this.rulesFor(parts.slice(0, i).join('/'), i === parts.length ? hasIgnoreFile : undefined);
      if (!set) continue;
      const names = set.names;
      if (names) {
        tests.push((name, isDir) => (isDir ? names.dirs : names.files).has(name));
        continue;
      }
      const rest = parts.slice(i).join('/');
      const prefix = rest && !set.byName ? rest + '/' : '';
      tests.push((name, isDir) => set.rules.ignores(prefix + name + (isDir ? '/' : '')));
    }
    if (tests.length === 0) return () => false;
    if (tests.length === 1) return tests[0];
    return (name, isDir) => tests.some((t) => t(name, isDir));
  }

  /** Whether a repository-relative path is ignored. */
  ignores(rel: string, isDir: boolean): boolean {
    const slash = rel.lastIndexOf('/');
    return this.matcher(slash < 0 ? '' : rel.slice(0, slash))(rel.slice(slash + 1), isDir);
  }
}
