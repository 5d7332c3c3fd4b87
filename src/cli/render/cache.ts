import type { CacheDirResult } from '../../ops/setup/cache-dir.js';
import type { Renderer } from './types.js';

export const renderCache: Renderer<CacheDirResult> = (r) => ({
  text: r.changed ? `Cache directory set to ${r.dir}\n(existing objects stay where they were; copy them over or fetch again)\n` : `${r.dir}\n`,
});
