import { renderCache } from './cache.js';
import { renderCheckout } from './checkout.js';
import { renderConfig } from './config.js';
import { renderGc } from './gc.js';
import { renderInit } from './init.js';
import { renderRemove } from './remove.js';
import { renderStatus } from './status.js';
import { renderTrack } from './track.js';
import type { Renderer } from './types.js';
import { renderUnprotect } from './unprotect.js';
import { renderVerify } from './verify.js';

/** Renderer per command name (CommandDef.name). */
export const renderers: Record<string, Renderer<any>> = {
  init: renderInit,
  track: renderTrack,
  status: renderStatus,
  checkout: renderCheckout,
  gc: renderGc,
  verify: renderVerify,
  remove: renderRemove,
  config: renderConfig,
  cache: renderCache,
  unprotect: renderUnprotect,
};
