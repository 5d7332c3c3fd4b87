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

export class IgnoreRules {
  private readonly byDir = new Map<string, Ignore | null>();

  constructor(private readonly root: string) {}

  private rulesFor(dirRel: string): Ignore | null {
    let rules = this.byDir.get(dirRel);
    if (rules !== undefined) return rules;
    rules = null;
    try {
      const text = readFileSync(join(this.root, dirRel, IGNORE_FILE), 'utf8');
      rules = ignore().add(text);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'ENOTDIR') throw err;
    }
    this.byDir.set(dirRel, rules);
    return rules;
  }

  /**
   * Whether a repository-relative path is ignored, by the root rules or by any `.dvsignore` in its
   * ancestor directories. `isDir` matters for patterns ending in "/".
   */
  ignores(rel: string, isDir: boolean): boolean {
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const rules = this.rulesFor(dir);
      if (!rules) continue;
      const sub = parts.slice(i).join('/') + (isDir ? '/' : '');
      if (rules.ignores(sub)) return true;
    }
    return false;
  }
}
