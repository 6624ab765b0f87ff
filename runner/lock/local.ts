/**
 * One run per target and document at a time on this machine, whatever the working directory: the lock lives in the
 * user's state folder (`$XDG_STATE_HOME/runbook/locks`, else `~/.local/state/runbook/locks`; folders 700, files 600),
 * keyed by the target and the document's real path.
 *
 * Taking a lock is `link(2)` of a fully written file (atomic: one winner, and no reader sees half a holder). Taking
 * over a stale lock is where two holders used to appear: two contenders both read the dead holder, one replaces it,
 * the other then removes the new lock. So removing a stale lock needs a claim on that very holder first: a file named
 * after the holder (`KEY.lock.break-RUNID-PID`), created exclusively, so one contender per stale holder checks that the
 * lock still is that holder and removes it. A claim whose own maker died is stale in turn and broken the same way.
 */
import { createHash } from 'node:crypto';
import { linkSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive } from '../../common/pid.ts';
import { privateDir } from '../../common/private-files.ts';
import { LockedError, thisHolder, type LockHolder } from './holder.ts';

export { LockedError, type LockHolder } from './holder.ts';

/** `$XDG_STATE_HOME/runbook`, else `~/.local/state/runbook` (XDG: a relative XDG_STATE_HOME is ignored). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_STATE_HOME'];
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state'), 'runbook');
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** Readable and unique: `TARGET-NAME-HASH`, the hash over the target and the document's real path. */
export function lockKey(target: string | undefined, file: string): string {
  const real = realPath(file);
  const hash = createHash('sha256').update(`${target ?? ''}\0${real}`).digest('hex').slice(0, 12);
  return `${target ?? 'local'}-${path.basename(real).replace(/[^\w.-]/g, '_')}-${hash}`;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
  } catch {
    return undefined; // Gone (released or broken) between listing and reading.
  }
}

function alive(holder: LockHolder): boolean {
  // A holder on another host cannot be probed; it is assumed alive, which errs on the safe side.
  return holder.host !== os.hostname() || isAlive(holder.pid);
}

const same = (a: LockHolder, b: LockHolder) => a.runId === b.runId && a.pid === b.pid && a.host === b.host;
const claimName = (file: string, holder: LockHolder) => `${file}.break-${holder.runId.replace(/[^\w.-]/g, '_')}-${holder.pid}`;

function tryUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** Creates `file` holding `holder`, only if it does not exist (link of a complete temp file). */
function createExclusive(file: string, holder: LockHolder): boolean {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, JSON.stringify(holder), { mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Removes `file` if it still holds `stale` (a holder found dead), under an exclusive claim on that holder; `me` signs
 * the claim. Returns once the file no longer holds `stale` (whoever removed it).
 */
function breakStale(file: string, stale: LockHolder, me: LockHolder, depth = 0): void {
  const claim = claimName(file, stale);
  if (!createExclusive(claim, me)) {
    const claimer = readHolder(claim);
    // Someone else is breaking it right now; the caller reads the lock again. A claimer that died mid-way leaves a
    // stale claim: break that first (bounded: each level needs another death inside a few system calls).
    if (claimer && !alive(claimer) && depth < 8) {
      breakStale(claim, claimer, me, depth + 1);
      breakStale(file, stale, me, depth + 1);
    }
    return;
  }
  try {
    const current = readHolder(file);
    if (current && same(current, stale)) tryUnlink(file);
  } finally {
    tryUnlink(claim);
  }
}

export interface LocalLock {
  key: string;
  file: string;
  release(): void;
}

/**
 * Takes the lock for `key` in `stateDir` for run `runId`, or throws LockedError naming the live holder. A holder whose
 * process is gone (or a zombie) is stale and taken over.
 */
export function acquireLock(stateDir: string, key: string, runId: string, about: { document?: string; target?: string } = {}): LocalLock {
  privateDir(stateDir);
  const dir = path.join(stateDir, 'locks');
  privateDir(dir);
  const file = path.join(dir, `${key}.lock`);
  const me = thisHolder(runId, about.document ?? '', about.target);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (createExclusive(file, me)) {
      return {
        key,
        file,
        release() {
          const current = readHolder(file);
          if (current && same(current, me)) tryUnlink(file);
        },
      };
    }
    const existing = readHolder(file);
    if (!existing) continue; // Released between our link and our read: try again.
    if (alive(existing)) throw new LockedError(key, existing);
    breakStale(file, existing, me);
  }
  throw new Error(`could not take the lock ${file}: it kept changing hands`);
}
