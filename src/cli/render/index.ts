import type { Renderer } from './types.js';

/**
 * Renderer per command name (CommandDef.name), each loaded only when its command ran: `dvs status` must
 * not pay for loading the content-diff renderer (and the engine behind it).
 */
export const renderers: Record<string, () => Promise<Renderer<any>>> = {
  init: async () => (await import('./init.js')).renderInit,
  track: async () => (await import('./track.js')).renderTrack,
  checkpoint: async () => (await import('./checkpoint.js')).renderCheckpoint,
  lock: async () => (await import('./lock.js')).renderLock,
  unlock: async () => (await import('./lock.js')).renderUnlock,
  locks: async () => (await import('./lock.js')).renderLocks,
  status: async () => (await import('./status.js')).renderStatus,
  checkout: async () => (await import('./checkout.js')).renderCheckout,
  push: async () => (await import('./push.js')).renderPush,
  fetch: async () => (await import('./fetch.js')).renderFetch,
  pull: async () => (await import('./pull.js')).renderPull,
  remote: async () => (await import('./remote.js')).renderRemote,
  diff: async () => (await import('./diff.js')).renderDiff,
  hash: async () => (await import('./hash.js')).renderHash,
  transform: async () => (await import('./transform.js')).renderTransform,
  lineage: async () => (await import('./lineage.js')).renderLineage,
  repro: async () => (await import('./repro.js')).renderRepro,
  run: async () => (await import('./run.js')).renderRun,
  audit: async () => (await import('./audit.js')).renderAudit,
  list: async () => (await import('./registry.js')).renderList,
  get: async () => (await import('./registry.js')).renderGet,
  import: async () => (await import('./registry.js')).renderImport,
  update: async () => (await import('./registry.js')).renderUpdate,
  gc: async () => (await import('./gc.js')).renderGc,
  verify: async () => (await import('./verify.js')).renderVerify,
  remove: async () => (await import('./remove.js')).renderRemove,
  move: async () => (await import('./move.js')).renderMove,
  config: async () => (await import('./config.js')).renderConfig,
  cache: async () => (await import('./cache.js')).renderCache,
  unprotect: async () => (await import('./unprotect.js')).renderUnprotect,
  install: async () => (await import('./install.js')).renderInstall,
  uninstall: async () => (await import('./install.js')).renderUninstall,
  hook: async () => (await import('./hook.js')).renderHook,
  completion: async () => (await import('./completion.js')).renderCompletion,
  'merge-driver': async () => (await import('./hook.js')).renderMergeDriver,
};
