import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { errnoCode } from '../errors.js';

/**
 * Which process made a lock or a temp file, told well enough to decide, on the same host, that the
 * process is gone: its pid is not running, is a zombie (killed, not yet reaped by its parent), or now
 * belongs to a process started at another time (the pid was reused). Another host's processes cannot
 * be seen from here: they are never declared gone.
 */
export interface ProcessOwner {
  host: string;
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), when known. */
  start?: string;
}

let self: ProcessOwner | undefined;

export function currentOwner(): ProcessOwner {
  return (self ??= { host: hostname(), pid: process.pid, start: startTimeOf(process.pid) });
}

export function isGone(owner: ProcessOwner): boolean {
  if (owner.host !== hostname() || !Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (owner.pid === process.pid) return owner.start !== undefined && owner.start !== currentOwner().start;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return errnoCode(err) === 'ESRCH';
  }
  const stat = procStat(owner.pid);
  if (stat === undefined) return false;
  if (stat.state === 'Z' || stat.state === 'X') return true;
  return owner.start !== undefined && stat.start !== owner.start;
}

function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** State and start time from /proc/<pid>/stat; undefined where there is no /proc. */
function procStat(pid: number): { state: string; start: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields 3 (state) and 22 (start time) of proc(5), counted from the one after the name.
  return fields.length > 19 ? { state: fields[0], start: fields[19] } : undefined;
}
