import os from 'node:os';

/** Who holds a lock: enough for the refusal to name them and for a takeover to know it breaks the right one. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The operator: login name on the holder's machine. */
  user: string;
  runId: string;
  since: string;
  /** The document's real path on the holder's machine. */
  document?: string;
  target?: string;
}

export function thisHolder(runId: string, document: string, target: string | undefined): LockHolder {
  return { pid: process.pid, host: os.hostname(), user: os.userInfo().username, runId, since: new Date().toISOString(), document, target };
}

export function describeHolder(holder: LockHolder): string {
  return `run ${holder.runId} (${holder.user ?? 'unknown'}, pid ${holder.pid} on ${holder.host}, since ${holder.since})`;
}

/** A refused lock: exit 75 (EXIT.locked), the message naming the holder and what to do. */
export class LockedError extends Error {
  constructor(
    readonly key: string,
    readonly holder: LockHolder,
    hint = `wait for it, or resume it with \`runbook resume ${holder.runId}\``,
  ) {
    super(`${key} is locked by ${describeHolder(holder)}; ${hint}`);
    this.name = 'LockedError';
  }
}

/** The lock on the target could not be asked for (ssh failed, a bad `lock-dir`): exit 1, one line. */
export class LockUnavailableError extends Error {
  override name = 'LockUnavailableError';
}
