/**
 * The lock on the target itself, for targets that say `lock: ssh`: two operators on two laptops share no state folder,
 * but they share the VPS. The lock is a folder made with `mkdir` over the target's own `ssh` and `ssh-options` (mkdir
 * is atomic: one winner), holding `owner.json` (operator, host, pid, run id, time, document), removed at the end of
 * the run by its holder only.
 *
 * Another laptop's process cannot be probed, so a remote lock is never taken over silently: a holder from this machine
 * whose process is gone is stale and taken over with a notice; any other holder refuses the run, naming the holder
 * and how to take the lock over (`--take-over-lock RUN_ID`, which must name that very holder). A takeover claims the
 * holder first with a second `mkdir` (`NAME.lock.break-RUNID`), so two operators taking over at once cannot both win.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import { isAlive } from '../../common/pid.ts';
import type { Runbook } from '../model.ts';
import type { ResolvedTarget } from '../target.ts';
import { LockedError, LockUnavailableError, type LockHolder } from './holder.ts';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `ssh ARGS...`; injected by tests that exercise the protocol without a server. */
export type SshRunner = (args: readonly string[]) => Promise<CommandResult>;

export const runSsh: SshRunner = (args) =>
  new Promise((resolve) => {
    execFile('ssh', [...args], { timeout: 30_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });

export interface RemoteLock {
  /** Where it is, for messages: `HOST:PATH`. */
  where: string;
  release(): Promise<void>;
}

/** The words a lock path may be made of: it is spliced into a remote shell command. */
const SAFE_PATH = /^[\w.\/~-]+$/;

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'runbook';
}

/**
 * The lock's name on the target: the document's title (the same on every laptop, wherever the clone is), else its
 * file name. Targets that share a VPS share the lock, which is the point.
 */
export function remoteLockName(runbook: Runbook): string {
  const title = runbook.frontMatter.data['title'];
  return slug(typeof title === 'string' && title.trim() ? title : (runbook.file.split('/').pop() ?? 'runbook').replace(/\.md$/i, ''));
}

function sshArgs(target: ResolvedTarget): { host: string; options: string[] } {
  const host = target.get('ssh');
  const raw = target.settings['ssh-options'];
  const options = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' && raw.trim() ? raw.trim().split(/\s+/) : [];
  return { host, options };
}

function lockPath(target: ResolvedTarget, name: string): string {
  const dir = target.maybe('lock-dir') ?? '.runbook/locks';
  const full = `${dir.replace(/\/+$/, '')}/${name}.lock`;
  if (!SAFE_PATH.test(full)) throw new LockUnavailableError(`target ${target.name}: lock-dir \`${dir}\` may hold only letters, digits and . / ~ - _`);
  // Relative to the remote home; `~/` as the shell would, without leaving the path unquoted.
  return full.startsWith('/') ? `'${full}'` : `"$HOME"/'${full.replace(/^~\//, '')}'`;
}

const SAFE_ID = /^[\w.-]+$/;

const b64 = (holder: LockHolder) => Buffer.from(JSON.stringify(holder)).toString('base64');

/** mkdir the lock and write its owner, or print who holds it. One remote shell: nothing between the two. */
function takeScript(path: string, holder: LockHolder): string {
  return [
    'umask 077',
    `d=${path}`,
    'mkdir -p "$(dirname "$d")" || exit 3',
    `if mkdir "$d" 2>/dev/null; then echo '${b64(holder)}' | base64 -d > "$d/owner.json" && echo ACQUIRED; else echo HELD; cat "$d/owner.json" 2>/dev/null; fi`,
  ].join('\n');
}

/** Removes the lock only if it still is `staleRunId`'s (or has no owner file, for `unknown`), under a claim. */
function takeOverScript(path: string, staleRunId: string, holder: LockHolder): string {
  const owned = staleRunId === 'unknown' ? '! test -s "$d/owner.json"' : `grep -qF '"runId":"${staleRunId}"' "$d/owner.json" 2>/dev/null`;
  return [
    'umask 077',
    `d=${path}`,
    `b="$d.break-${staleRunId}"`,
    'if ! mkdir "$b" 2>/dev/null; then echo BUSY; exit 0; fi',
    `if ${owned}; then rm -rf "$d"; fi`,
    `if mkdir "$d" 2>/dev/null; then echo '${b64(holder)}' | base64 -d > "$d/owner.json" && echo ACQUIRED; else echo HELD; cat "$d/owner.json" 2>/dev/null; fi`,
    'rmdir "$b"',
  ].join('\n');
}

function releaseScript(path: string, runId: string): string {
  return [`d=${path}`, `if grep -qF '"runId":"${runId}"' "$d/owner.json" 2>/dev/null; then rm -rf "$d"; fi`].join('\n');
}

type Answer = { kind: 'acquired' } | { kind: 'held'; holder?: LockHolder } | { kind: 'busy' };

function answerOf(result: CommandResult, where: string): Answer {
  const [first, ...rest] = result.stdout.trim().split('\n');
  if (result.code === 0 && first === 'ACQUIRED') return { kind: 'acquired' };
  if (result.code === 0 && first === 'BUSY') return { kind: 'busy' };
  if (result.code === 0 && first === 'HELD') {
    try {
      return { kind: 'held', holder: JSON.parse(rest.join('\n')) as LockHolder };
    } catch {
      return { kind: 'held' };
    }
  }
  const why = result.stderr.trim().split('\n').at(-1) || `exit ${result.code ?? 'signal'}`;
  throw new LockUnavailableError(`cannot take the lock ${where} over ssh: ${why}`);
}

const UNKNOWN: LockHolder = { pid: 0, host: 'unknown', user: 'unknown', runId: 'unknown', since: 'unknown' };

/** Same machine, process gone: the only remote holder known to be stale without asking the operator. */
function provablyStale(holder: LockHolder): boolean {
  return holder.host === os.hostname() && holder.pid > 0 && !isAlive(holder.pid);
}

export interface RemoteLockRequest {
  target: ResolvedTarget;
  name: string;
  holder: LockHolder;
  /** `--take-over-lock RUN_ID`: the operator states that this holder is gone. */
  takeOver?: string;
  notice?: (message: string) => void;
  ssh?: SshRunner;
}

/** Takes the target's lock, or throws LockedError naming the holder (exit 75). */
export async function acquireRemoteLock(request: RemoteLockRequest): Promise<RemoteLock> {
  const { target, holder } = request;
  const ssh = request.ssh ?? runSsh;
  const { host, options } = sshArgs(target);
  const path = lockPath(target, request.name);
  const where = `${host}:${path.replace(/"\$HOME"\//, '~/').replace(/'/g, '')}`;
  const run = async (script: string) => answerOf(await ssh([...options, host, script]), where);
  const lock: RemoteLock = {
    where,
    async release() {
      await ssh([...options, host, releaseScript(path, holder.runId)]);
    },
  };

  let answer = await run(takeScript(path, holder));
  if (answer.kind === 'acquired') return lock;
  const found = answer.kind === 'held' ? (answer.holder ?? UNKNOWN) : UNKNOWN;
  const named = request.takeOver !== undefined && request.takeOver === found.runId;
  // The run id goes into a remote shell command: only one made of safe characters can be taken over.
  if ((named || provablyStale(found)) && SAFE_ID.test(found.runId)) {
    request.notice?.(`taking over the lock ${where} from ${named ? 'the run named by --take-over-lock' : 'a run of this machine that is gone'}: run ${found.runId} (${found.user}, pid ${found.pid} on ${found.host}, since ${found.since})`);
    answer = await run(takeOverScript(path, found.runId, holder));
    if (answer.kind === 'acquired') return lock;
  }
  const current = answer.kind === 'held' ? (answer.holder ?? UNKNOWN) : found;
  const hint =
    answer.kind === 'busy'
      ? 'someone is taking it over right now'
      : request.takeOver !== undefined && request.takeOver !== current.runId
        ? `--take-over-lock names run ${request.takeOver}, but the holder is run ${current.runId}`
        : `the lock is on the target, so it holds for every operator; if that run is gone for good (its machine crashed), take the lock over with \`--take-over-lock ${current.runId}\``;
  throw new LockedError(`target ${target.name} (${where})`, current, hint);
}
