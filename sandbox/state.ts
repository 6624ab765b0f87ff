import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../common/pid.ts';

/** What a running background sandbox leaves under its dir so that other commands can find and talk to it. */
export interface SandboxState {
  pid: number;
  startedAt: string;
  facts: Record<string, string>;
}

export const statePath = (dir: string): string => join(dir, 'state.json');

export function readState(dir: string): SandboxState | undefined {
  const path = statePath(dir);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
}

/** Atomic (rename) so a reader never sees half a file. */
export function writeState(dir: string, state: SandboxState): void {
  const path = statePath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function removeState(dir: string, pid?: number): void {
  // Only the owner removes it: a stale daemon must not delete a newer one's state.
  if (pid !== undefined && readState(dir)?.pid !== pid) return;
  rmSync(statePath(dir), { force: true });
}

export { isAlive };

/** The state of a sandbox that is up in `dir`, or undefined (none started, or its process is gone). */
export function runningSandbox(dir: string): SandboxState | undefined {
  const state = readState(dir);
  return state && isAlive(state.pid) ? state : undefined;
}
