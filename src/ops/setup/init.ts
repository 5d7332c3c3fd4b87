import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DvsError } from '../../errors.js';
import { IGNORE_FILE } from '../../repo/ignore.js';
import { DVS_DIR, layout, refuseLinksFromGit } from '../../repo/repo.js';
import { dvsDirTrust } from '../../repo/trust.js';
import { gitTopLevel, stage } from '../../scm/git.js';

export interface InitOptions {
  cwd: string;
  /** Stage the new files with git add (default true). */
  stage?: boolean;
}

export interface InitResult {
  root: string;
  created: string[];
  alreadyInitialised: boolean;
  staged: string[];
}

const CONFIG_TEMPLATE = `# dvs configuration, committed with the repository.
# Machine-specific settings and secrets belong in .dvs/config.local (ignored by Git).
# Keys: dvs config --help; reference: README.md#configuration
core:
  autostage: true
`;

const DVS_GITIGNORE = `# dvs: local state, never committed
/config.local
/cache/
/tmp/
`;

const DVSIGNORE_TEMPLATE = `# Files and folders dvs leaves out of tracked directories (gitignore syntax).
.DS_Store
Thumbs.db
`;

/**
 * Create `.dvs/` at the top of the Git work tree. Running it again adds whatever is missing and changes
 * nothing else.
 */
export async function init(options: InitOptions): Promise<InitResult> {
  const root = await gitTopLevel(options.cwd);
  if (!root) {
    throw new DvsError('NOT_A_GIT_REPO', `${options.cwd} is not inside a Git repository`, {
      hint: 'dvs versions data next to code in Git: run `git init` first, then `dvs init`.',
    });
  }
  // A clone whose .dvs (or a part of it) is a committed link would have init write wherever it points.
  refuseLinksFromGit(dvsDirTrust(root).foreign);
  const paths = layout(root);
  const alreadyInitialised = existsSync(paths.config);
  const created: string[] = [];
  const ensureFile = (path: string, content: string, rel: string) => {
    if (existsSync(path)) return;
    writeFileSync(path, content);
    created.push(rel);
  };
  mkdirSync(paths.dir, { recursive: true });
  ensureFile(paths.config, CONFIG_TEMPLATE, `${DVS_DIR}/config`);
  ensureFile(paths.gitignore, DVS_GITIGNORE, `${DVS_DIR}/.gitignore`);
  mkdirSync(paths.defaultCache, { recursive: true });
  mkdirSync(paths.tmp, { recursive: true });
  ensureFile(join(root, IGNORE_FILE), DVSIGNORE_TEMPLATE, IGNORE_FILE);
  // config.local is created on first use; .dvs/.gitignore already keeps it out of Git.
  const staged: string[] = [];
  if (options.stage !== false && created.length) {
    await stage(root, created);
    staged.push(...created);
  }
  return { root, created, alreadyInitialised, staged };
}
