import { renderCache } from './cache.js';
import { renderCheckout } from './checkout.js';
import { renderConfig } from './config.js';
import { renderDiff } from './diff.js';
import { renderFetch } from './fetch.js';
import { renderGc } from './gc.js';
import { renderHook, renderMergeDriver } from './hook.js';
import { renderInit } from './init.js';
import { renderInstall, renderUninstall } from './install.js';
import { renderPull } from './pull.js';
import { renderPush } from './push.js';
import { renderRemote } from './remote.js';
import { renderRemove } from './remove.js';
import { renderStatus } from './status.js';
import { renderTrack } from './track.js';
import type { Renderer } from './types.js';
import { renderUnprotect } from './unprotect.js';
import { renderVerify } from './verify.js';
import { renderTransform } from './transform.js';
import { renderLineage } from './lineage.js';
import { renderRun } from './run.js';
import { renderAudit } from './audit.js';

/** Renderer per command name (CommandDef.name). */
export const renderers: Record<string, Renderer<any>> = {
  init: renderInit,
  track: renderTrack,
  status: renderStatus,
  checkout: renderCheckout,
  push: renderPush,
  fetch: renderFetch,
  pull: renderPull,
  remote: renderRemote,
  diff: renderDiff,
  transform: renderTransform,
  lineage: renderLineage,
  run: renderRun,
  audit: renderAudit,
  gc: renderGc,
  verify: renderVerify,
  remove: renderRemove,
  config: renderConfig,
  cache: renderCache,
  unprotect: renderUnprotect,
  install: renderInstall,
  uninstall: renderUninstall,
  hook: renderHook,
  'merge-driver': renderMergeDriver,
};
