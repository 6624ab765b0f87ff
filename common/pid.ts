import { readFileSync } from 'node:fs';

/**
 * True while a process with this pid runs on this machine (EPERM: it exists, but belongs to someone else). A zombie
 * (killed or exited, not yet reaped, as under a container's PID 1 that never reaps) has stopped running: it is gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return processState(pid) !== 'Z';
}

/**
 * The one-letter state of a process from /proc (`R`, `S`, `Z`, ...); undefined where there is no /proc (macOS), where
 * `kill(pid, 0)` alone decides.
 */
export function processState(pid: number, proc = '/proc'): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `PID (COMM) STATE ...`: COMM may hold spaces and parentheses, so the state follows the last `)`.
  return stat.slice(stat.lastIndexOf(')') + 2).charAt(0) || undefined;
}
