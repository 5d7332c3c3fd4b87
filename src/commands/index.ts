import type { CommandDef } from './types.js';
import { cacheCommand } from './cache.js';
import { checkoutCommand } from './checkout.js';
import { configCommand } from './config.js';
import { diffCommand } from './diff.js';
import { hashCommand } from './hash.js';
import { fetchCommand } from './fetch.js';
import { gcCommand } from './gc.js';
import { hookCommand, mergeDriverCommand } from './hook.js';
import { initCommand } from './init.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { remoteCommand } from './remote.js';
import { installCommand, uninstallCommand } from './install.js';
import { removeCommand } from './remove.js';
import { moveCommand } from './move.js';
import { statusCommand } from './status.js';
import { trackCommand } from './track.js';
import { checkpointCommand } from './checkpoint.js';
import { lockCommand, unlockCommand, locksCommand } from './lock.js';
import { unprotectCommand } from './unprotect.js';
import { verifyCommand } from './verify.js';
import { transformCommand } from './transform.js';
import { lineageCommand } from './lineage.js';
import { reproCommand } from './repro.js';
import { runCommand } from './run.js';
import { auditCommand } from './audit.js';
import { listCommand } from './list.js';
import { getCommand } from './get.js';
import { importCommand } from './import.js';
import { updateCommand } from './update.js';
import { completionCommand } from './completion.js';

/** Every verb, in the order `dvs --help` lists them. */
export const commands: CommandDef<any, any>[] = [
  initCommand,
  trackCommand,
  checkpointCommand,
  lockCommand,
  unlockCommand,
  locksCommand,
  statusCommand,
  checkoutCommand,
  pushCommand,
  fetchCommand,
  pullCommand,
  diffCommand,
  hashCommand,
  listCommand,
  getCommand,
  importCommand,
  updateCommand,
  transformCommand,
  lineageCommand,
  reproCommand,
  runCommand,
  auditCommand,
  removeCommand,
  moveCommand,
  unprotectCommand,
  gcCommand,
  verifyCommand,
  configCommand,
  cacheCommand,
  remoteCommand,
  installCommand,
  uninstallCommand,
  completionCommand,
  hookCommand,
  mergeDriverCommand,
];
