import type { CommandDef } from './types.js';
import { cacheCommand } from './cache.js';
import { checkoutCommand } from './checkout.js';
import { configCommand } from './config.js';
import { gcCommand } from './gc.js';
import { initCommand } from './init.js';
import { removeCommand } from './remove.js';
import { statusCommand } from './status.js';
import { trackCommand } from './track.js';
import { unprotectCommand } from './unprotect.js';
import { verifyCommand } from './verify.js';

/** Every verb, in the order `dvs --help` lists them. */
export const commands: CommandDef<any, any>[] = [
  initCommand,
  trackCommand,
  statusCommand,
  checkoutCommand,
  removeCommand,
  unprotectCommand,
  gcCommand,
  verifyCommand,
  configCommand,
  cacheCommand,
];
