import { DvsError } from '../../errors.js';
import { isAbsolute, resolve } from 'node:path';
import { coerceValue, keySpec, unknownKeyError, writeConfigValue, type ConfigSource } from '../../repo/config.js';
import type { Repo } from '../../repo/repo.js';
import { parseRemoteUrl } from '../../remotes/url.js';

export interface ConfigOptions {
  key?: string;
  value?: string;
  unset?: boolean;
  /** Write to .dvs/config.local instead of the committed .dvs/config. */
  local?: boolean;
}

export type ConfigResult =
  | { action: 'list'; values: Array<{ key: string; value: unknown; source: ConfigSource }> }
  | { action: 'get'; key: string; value: unknown; isDefault: boolean }
  | { action: 'set'; key: string; value: unknown; file: string }
  | { action: 'unset'; key: string; file: string };

/** Read or change one configuration key (see repo/config.ts for the keys). */
export function config(repo: Repo, options: ConfigOptions): ConfigResult {
  const { key } = options;
  if (key === undefined) return { action: 'list', values: repo.config.entries() };
  const spec = keySpec(key);
  if (!spec) throw unknownKeyError(key);
  const file = options.local ? repo.config.local : repo.config.shared;
  const fileName = options.local ? '.dvs/config.local' : '.dvs/config';
  if (options.unset) {
    writeConfigValue(file, key, undefined);
    return { action: 'unset', key, file: fileName };
  }
  if (options.value === undefined) {
    return { action: 'get', key, value: repo.config.get(key), isDefault: !repo.config.has(key) };
  }
  if (spec.secret && !options.local) {
    throw new DvsError('SECRET_IN_SHARED_CONFIG', `${key} is a secret and would be committed with .dvs/config`, {
      hint: `Store it in the ignored local file: dvs config --local ${key} <value>`,
    });
  }
  if (spec.machine && !options.local) {
    throw new DvsError('MACHINE_ONLY_SETTING', `${key} is chosen by each machine, not by the repository; it would be committed with .dvs/config`, {
      hint: `Store it in the ignored local file: dvs config --local ${key} <value> (or in your user config)`,
    });
  }
  const value = coerceValue(key, options.value);
  writeSetting(repo, key, value, options.local === true);
  return { action: 'set', key, value, file: fileName };
}

/**
 * Write a setting to the committed config or to config.local. A path outside the repository written to
 * the committed config is also written to config.local: whoever typed it has confirmed it for this
 * machine, which is what lets dvs use it (teammates confirm it on theirs: Repo.confirmOutsidePath).
 */
export function writeSetting(repo: Repo, key: string, value: unknown, local: boolean): void {
  writeConfigValue(local ? repo.config.local : repo.config.shared, key, value);
  if (local || typeof value !== 'string') return;
  const path = pathMeant(repo, key, value);
  if (path !== undefined && !repo.insideWorkTree(path)) writeConfigValue(repo.config.local, key, value);
}

/** The local path a setting's value means, for the settings that name one. */
function pathMeant(repo: Repo, key: string, value: string): string | undefined {
  if (key === 'cache.dir' || /^remote\.[^.]+\.credentials_file$/.test(key)) return isAbsolute(value) ? value : resolve(repo.root, value);
  if (/^remote\.[^.]+\.url$/.test(key)) {
    const location = parseRemoteUrl(value, repo.root, key);
    return location.scheme === 'local' ? location.path : undefined;
  }
  return undefined;
}
