import { single } from './options.js';
import { defineCommand } from './types.js';
import type { LockResult, LocksResult, UnlockResult } from '../ops/remote/locks.js';

const remoteOption = single('string', 'remote that holds the locks (default: core.remote, or the only remote)', { alias: 'r' });

export const lockCommand = defineCommand<{ partition: string; remote?: string }, LockResult>({
  name: 'lock',
  command: 'lock <partition>',
  describe: 'Lock a partition of an append-only directory on the remote, so that nobody else tracks or pushes changes to it',
  builder: (y) =>
    y
      .positional('partition', { type: 'string', describe: 'a folder (or file) inside an append-only tracked directory, or the directory' })
      .option('remote', remoteOption)
      .example('dvs lock data/stream/2024-09', 'take the partition for yourself; exactly one of two clones asking at once gets it'),
  async run(args, env) {
    const { lock } = await import('../ops/remote/locks.js');
    return lock(await env.context(), { target: args.partition, remote: args.remote });
  },
});

export const unlockCommand = defineCommand<{ partition: string; remote?: string; force: boolean }, UnlockResult>({
  name: 'unlock',
  command: 'unlock <partition>',
  describe: 'Release a partition lock (someone else\'s only with --force)',
  builder: (y) =>
    y
      .positional('partition', { type: 'string', describe: 'the locked path, as `dvs locks` shows it' })
      .option('remote', remoteOption)
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'break a lock someone else holds' })
      .example('dvs unlock data/stream/2024-09', 'release your lock')
      .example('dvs unlock --force data/stream/2024-09', 'break the lock of a colleague who left'),
  async run(args, env) {
    const { unlock } = await import('../ops/remote/locks.js');
    return unlock(await env.context(), { target: args.partition, remote: args.remote, force: args.force });
  },
});

export const locksCommand = defineCommand<{ remote?: string }, LocksResult>({
  name: 'locks',
  command: 'locks',
  describe: 'List the partition locks on the remote',
  builder: (y) =>
    y
      .option('remote', remoteOption)
      .example('dvs locks', 'who holds which partition, since when'),
  async run(args, env) {
    const { listLocks } = await import('../ops/remote/locks.js');
    return listLocks(await env.context(), { remote: args.remote });
  },
});
