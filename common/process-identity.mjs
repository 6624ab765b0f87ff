// Which process a pid names, shared by the command host (spawn-host.mjs), the runner (runtime.ts) and pid.ts. Plain
// JavaScript with Node's own imports only: the host loads it as it is.
//
// A pid is reused once its process is gone (and, for a process group's id, once the whole group is gone): on a busy
// machine with Linux's default of 32,768 pids that takes minutes, and a block that polls for half an hour starts
// hundreds of commands. A pid and the moment its process started name one process for good, so whoever signals a
// pid it recorded earlier checks that moment first.
import { existsSync, readFileSync } from 'node:fs';

const HAS_PROC = existsSync('/proc/self/stat');

/**
 * A process's state letter (`R`, `S`, `Z`...) and start time (clock ticks after boot, /proc/PID/stat's 22nd field);
 * `gone` when there is no such process; undefined where there is no /proc (macOS), where nothing can be told.
 */
export function processStat(pid) {
  if (!HAS_PROC) return undefined;
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return 'gone';
  }
  // `PID (COMM) STATE PPID ...`: COMM may hold spaces and parentheses, so the fields start after the last `)`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], started: fields[19] };
}

/** The process's state letter (`Z`: exited, not yet reaped); undefined when it is gone or cannot be told. */
export function processState(pid) {
  const stat = processStat(pid);
  return typeof stat === 'object' ? stat.state : undefined;
}

/** When the process with this pid started, to record beside the pid; undefined when that cannot be told. */
export function startTime(pid) {
  const stat = processStat(pid);
  return typeof stat === 'object' ? stat.started : undefined;
}

/**
 * Signals the process group `group` led, when first seen, by the process that started at `started`. A process with
 * that pid and another start time means the group is long gone and its number now names someone else's process: it is
 * left alone. A leader that is gone may have left members (a background job): the number cannot name another group
 * while they live, so they are signalled. Returns whether the signal was sent.
 */
export function signalGroup(group, started, signal) {
  if (started !== undefined) {
    const now = processStat(group);
    if (typeof now === 'object' && now.started !== started) return false;
  }
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false; // The group is gone.
  }
}
