import type { LockResult, LocksResult, PartitionLock, UnlockResult } from '../../ops/remote/locks.js';
import type { Renderer } from './types.js';

const since = (l: PartitionLock) => l.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export const renderLock: Renderer<LockResult> = (r) => ({
  text: `${r.created ? 'locked' : 'already locked by you'}  ${r.lock.path} on remote "${r.remote.name}" (since ${since(r.lock)})\n`,
});

export const renderUnlock: Renderer<UnlockResult> = (r) => ({
  text: `unlocked  ${r.lock.path} on remote "${r.remote.name}"${r.forced ? ` (the lock of ${r.lock.owner || 'an unreadable record'}, broken with --force)` : ''}\n`,
});

export const renderLocks: Renderer<LocksResult> = (r) => {
  if (r.locks.length === 0) return { text: `No locks on remote "${r.remote.name}".\n` };
  const lines = r.locks.map((l) => `${l.path}  ${l.owner}${l.mine ? ' (you)' : ''}  ${l.host}  since ${since(l)}`);
  return { text: lines.join('\n') + '\n' };
};
