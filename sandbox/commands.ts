/**
 * What `runbook sandbox ...` does, one function per command over typed options; the CLI (cli/commands/sandbox.ts)
 * parses the flags. Each returns its exit code from the one table.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT } from '../common/exit.ts';
import type { CommandIO } from '../common/io.ts';
import { repoPath } from '../common/repo.ts';
import { controlRequest } from './client.ts';
import { parseClockDuration } from './clock.ts';
import { defaultSandboxDir } from './index.ts';
import { isAlive, readState, removeState, runningSandbox, type SandboxState } from './state.ts';

const UP_TIMEOUT_MS = 15_000;

export interface SandboxOptions {
  /** The sandbox's folder (default `.runbook/sandbox` under the cwd). */
  dir?: string;
}

const sandboxDir = (options: SandboxOptions): string => resolve(options.dir ?? defaultSandboxDir());

function printFacts(facts: Record<string, string>, io: CommandIO): void {
  const width = Math.max(...Object.keys(facts).map((key) => key.length));
  for (const [key, value] of Object.entries(facts)) io.stdout(`${key.padEnd(width)}  ${value}`);
}

async function callControl(state: SandboxState, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await controlRequest(state.facts, method, path, body);
  const text = await response.text();
  const parsed: unknown = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  if (!response.ok) throw new Error((parsed as { error?: string })?.error ?? `control API answered ${response.status}`);
  return parsed;
}

/** The tsx loader as a file URL, so the daemon starts even when the cwd is another project. */
function tsxLoader(): string {
  return import.meta.resolve('tsx');
}

/** A failed control call is the sandbox's failure (exit 1), printed as one line. */
async function guarded(io: CommandIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    io.stderr(error instanceof Error ? error.message : String(error));
    return EXIT.failed;
  }
}

export function sandboxUp(options: SandboxOptions & { watchPid?: number }, io: CommandIO): Promise<number> {
  return guarded(io, async () => {
    const dir = sandboxDir(options);
    const existing = runningSandbox(dir);
    if (existing) {
      io.stdout(`sandbox already running (pid ${existing.pid})`);
      printFacts(existing.facts, io);
      return EXIT.ok;
    }
    removeState(dir);
    mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
    const logPath = join(dir, 'logs', 'daemon.log');
    const logFd = openSync(logPath, 'a', 0o600);
    const daemon = repoPath('sandbox', 'daemon.ts');
    const watch = options.watchPid ? ['--watch-pid', String(options.watchPid)] : [];
    const child = spawn(process.execPath, ['--import', tsxLoader(), daemon, '--dir', dir, ...watch], {
      detached: true,
      // The channel carries the daemon's readiness notification: no polling of its state file.
      stdio: ['ignore', logFd, logFd, 'ipc'],
      env: process.env,
    });
    closeSync(logFd);
    let exited: number | null = null;
    const outcome = await new Promise<'ready' | 'ended'>((resolve) => {
      const timer = setTimeout(() => resolve('ended'), UP_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve('ready');
      });
      child.once('exit', (code) => {
        exited = code ?? 1;
        clearTimeout(timer);
        resolve('ended');
      });
    });
    const state = outcome === 'ready' ? readState(dir) : undefined;
    if (state && state.pid === child.pid) {
      if (child.connected) child.disconnect();
      child.unref();
      io.stdout(`sandbox up (pid ${state.pid}, log ${join(dir, 'logs', 'sandbox.log')})`);
      printFacts(state.facts, io);
      return EXIT.ok;
    }
    if (exited === null && child.pid) process.kill(child.pid, 'SIGKILL');
    io.stderr(`sandbox failed to start; see ${logPath}`);
    for (const line of readFileSync(logPath, 'utf8').trim().split('\n').slice(-10)) io.stderr(`  ${line}`);
    return EXIT.failed;
  });
}

export function sandboxDown(options: SandboxOptions, io: CommandIO): Promise<number> {
  return guarded(io, async () => {
    const dir = sandboxDir(options);
    const state = readState(dir);
    if (!state || !isAlive(state.pid)) {
      removeState(dir);
      io.stdout('sandbox not running');
      return EXIT.ok;
    }
    process.kill(state.pid, 'SIGTERM');
    // A poll: the daemon is not this process's child (it outlived its `up`), and Node offers no event for the exit of
    // another process (no pidfd).
    const deadline = Date.now() + 5_000;
    while (isAlive(state.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
    removeState(dir, state.pid);
    io.stdout(`sandbox stopped (pid ${state.pid})`);
    return EXIT.ok;
  });
}

export function sandboxStatus(options: SandboxOptions & { json?: boolean }, io: CommandIO): Promise<number> {
  return guarded(io, async () => {
    const state = runningSandbox(sandboxDir(options));
    if (!state) {
      io.stdout(options.json ? JSON.stringify({ running: false }) : 'sandbox not running');
      return EXIT.failed;
    }
    const live = (await callControl(state, 'GET', '/status')) as { clock: { now: string; offsetMs: number }; faults: unknown[] };
    if (options.json) {
      io.stdout(JSON.stringify({ running: true, pid: state.pid, startedAt: state.startedAt, facts: state.facts, clock: live.clock, faults: live.faults }));
      return EXIT.ok;
    }
    io.stdout(`sandbox running (pid ${state.pid}, since ${state.startedAt})`);
    printFacts(state.facts, io);
    io.stdout(`clock ${live.clock.now} (offset ${live.clock.offsetMs}ms), ${live.faults.length} fault(s) armed`);
    return EXIT.ok;
  });
}

/** Without `advance`, prints the sandbox clock; with it, moves the clock forward. A malformed duration is usage (2). */
export function sandboxClock(options: SandboxOptions & { advance?: string }, io: CommandIO): Promise<number> {
  return guarded(io, async () => {
    const state = runningSandbox(sandboxDir(options));
    if (!state) return (io.stderr('sandbox not running'), EXIT.failed);
    if (options.advance === undefined) {
      io.stdout(JSON.stringify(await callControl(state, 'GET', '/clock')));
      return EXIT.ok;
    }
    try {
      parseClockDuration(options.advance);
    } catch (error) {
      io.stderr((error as Error).message);
      return EXIT.usage;
    }
    const clock = (await callControl(state, 'POST', '/clock/advance', { duration: options.advance })) as { now: string };
    io.stdout(`sandbox clock now ${clock.now}`);
    return EXIT.ok;
  });
}

export interface FaultOptions extends SandboxOptions {
  /** A fault kind, or `clear` to disarm every fault. */
  kind: string;
  count?: number;
  status?: number;
  retryAfter?: number;
}

export function sandboxFault(options: FaultOptions, io: CommandIO): Promise<number> {
  return guarded(io, async () => {
    const state = runningSandbox(sandboxDir(options));
    if (!state) return (io.stderr('sandbox not running'), EXIT.failed);
    if (options.kind === 'clear') {
      await callControl(state, 'DELETE', '/faults');
      io.stdout('faults cleared');
      return EXIT.ok;
    }
    const armed = (await callControl(state, 'POST', '/faults', {
      kind: options.kind,
      count: options.count ?? 1,
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.retryAfter !== undefined ? { retryAfter: options.retryAfter } : {}),
    })) as unknown[];
    io.stdout(`fault ${options.kind} armed; ${armed.length} fault(s) armed`);
    return EXIT.ok;
  });
}
