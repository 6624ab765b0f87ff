import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTarget, type ResolvedTarget } from './target.ts';

/**
 * One SSH handshake per run and host. Every `ssh`/`scp` a block runs would otherwise open a connection of its own
 * (a handshake of several round trips each, 14 per rotation); with OpenSSH's connection sharing the first command opens
 * a master connection and the others ride on it. The run owns the master: it closes it when the run ends, however it
 * ends. A master that drops (network, `ssh-drop` fault) takes its socket with it, and `ControlMaster=auto` opens a new
 * one on the next command, so a step's retry works as it would without sharing.
 */
export interface SharedConnections {
  /** The target whose `ssh-options` carry the sharing options; the same target when sharing does not apply. */
  target: ResolvedTarget;
  /** Ends the master connection and removes the socket folder; never throws. */
  close(): Promise<void>;
}

/**
 * How long an idle master outlives its last command. The run closes it anyway; this bounds what a run killed with
 * `kill -9` leaves behind, and an operator step longer than this only costs one more handshake.
 */
const PERSIST_SECONDS = 300;
/** `ssh -O exit` talks to a local socket; if that takes longer, the master is wedged and left to ControlPersist. */
const EXIT_TIMEOUT_MS = 5_000;

/**
 * Unix socket paths are limited to about 104 bytes, and macOS's TMPDIR alone is ~50: the folder goes in /tmp
 * (where OpenSSH users keep theirs) whenever there is one. `%C` (a 40-character hash of host, port and user) keeps
 * one socket per destination. mkdtemp makes the folder mode 700: no other user can reach the master through it.
 */
function socketFolder(): string {
  const base = process.platform !== 'win32' && existsSync('/tmp') ? '/tmp' : os.tmpdir();
  return mkdtempSync(path.join(base, 'rb-ssh-'));
}

/**
 * Applies when the target has an `ssh` setting and its `ssh-options` is a list (or absent); `ssh-reuse: false` in the
 * target turns it off (e.g. a jump host whose policy forbids multiplexing). Windows' OpenSSH has no ControlMaster.
 */
function applies(target: ResolvedTarget): boolean {
  if (process.platform === 'win32') return false;
  const settings = target.settings;
  if (settings['ssh-reuse'] === false || settings['ssh-reuse'] === 'false') return false;
  if (!target.maybe('ssh')) return false;
  const options = settings['ssh-options'];
  return options === undefined || options === null || Array.isArray(options);
}

export function shareConnections(target: ResolvedTarget): SharedConnections {
  if (!applies(target)) return { target, close: async () => {} };
  const dir = socketFolder();
  const userOptions = ((target.settings['ssh-options'] as unknown[] | undefined) ?? []).map(String);
  const sharing = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${dir}/%C`, '-o', `ControlPersist=${PERSIST_SECONDS}`];
  // The user's own options first: a `-F` config stays in force, and the sharing options are given on the command line
  // so they win over any ControlMaster/ControlPath the user's config has for that host.
  const sshOptions = [...userOptions, ...sharing];
  const shared = createTarget(target.name, target.sandbox, { ...target.settings, 'ssh-options': sshOptions });
  const host = target.get('ssh');
  let closed = false;
  return {
    target: shared,
    async close() {
      if (closed) return;
      closed = true;
      if (hasSocket(dir)) {
        await new Promise<void>((resolve) => {
          execFile('ssh', [...sshOptions, '-O', 'exit', host], { timeout: EXIT_TIMEOUT_MS }, () => resolve());
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A master exists only if some block connected: its socket is the folder's one entry. */
function hasSocket(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}
