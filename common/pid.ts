import { processStat } from './process-identity.mjs';

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
  const stat = processStat(pid);
  return stat === undefined || (stat !== 'gone' && stat.state !== 'Z');
}

