import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../../common/pid.ts';

export interface LockHolder {
  pid: number;
  host: string;
  runId: string;
  since: string;
}

export class LockedError extends Error {
  constructor(readonly key: string, readonly holder: LockHolder) {
    super(`${key} is locked by run ${holder.runId} (pid ${holder.pid} on ${holder.host}, since ${holder.since}); wait for it, or resume it with \`runbook resume ${holder.runId}\``);
    this.name = 'LockedError';
  }
}

function alive(holder: LockHolder): boolean {
  // A holder on another host cannot be probed; it is assumed alive, which errs on the safe side.
  return holder.host !== os.hostname() || isAlive(holder.pid);
}

export function lockKey(target: string | undefined, file: string): string {
  return target ? `target-${target}` : `runbook-${createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 12)}`;
}

/**
 * One run per target at a time. The lock is a file created by hard-linking a fully written temp file (atomic: no
 * reader ever sees a half-written holder). A holder whose process is gone is stale and taken over.
 */
export function acquireLock(workspace: string, key: string, runId: string): () => void {
  const dir = path.join(workspace, '.runbook', 'locks');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(dir, `${key}.lock`);
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), runId, since: new Date().toISOString() };
  const temp = path.join(dir, `${key}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(temp, JSON.stringify(holder), { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        linkSync(temp, lockPath);
        return () => {
          try {
            const current = JSON.parse(readFileSync(lockPath, 'utf8')) as LockHolder;
            if (current.pid === holder.pid && current.runId === runId) unlinkSync(lockPath);
          } catch {
            // Already gone: nothing to release.
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let existing: LockHolder;
      try {
        existing = JSON.parse(readFileSync(lockPath, 'utf8')) as LockHolder;
      } catch {
        continue; // Released between our link and our read: try again.
      }
      if (alive(existing)) throw new LockedError(key, existing);
      // Stale: move it aside (only one contender wins the rename) and try again.
      try {
        renameSync(lockPath, `${lockPath}.stale-${existing.pid}`);
      } catch {
        // Another contender took it over first; the next link attempt decides.
      }
    }
    throw new Error(`could not acquire lock ${key}`);
  } finally {
    unlinkSync(temp);
  }
}
