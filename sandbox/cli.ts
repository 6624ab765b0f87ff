import { controlRequest } from './client.ts';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from './clock.ts';
import { FAULT_KINDS, isFaultKind } from './faults.ts';
import { defaultSandboxDir } from './index.ts';
import { isAlive, readState, removeState, runningSandbox, type SandboxState } from './state.ts';
import { repoPath } from '../runner/repo.ts';

const USAGE = `usage: runbook sandbox up | down | status [--json]
       runbook sandbox clock advance <duration>     (e.g. 12h, 181d)
       runbook sandbox fault <kind> [--count N] [--status S] [--retry-after SECONDS]
       runbook sandbox fault clear
fault kinds:
${Object.entries(FAULT_KINDS).map(([kind, what]) => `  ${kind.padEnd(20)} ${what}`).join('\n')}
options: --dir DIR (default .runbook/sandbox), --watch-pid PID (up: stop when PID exits)`;

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
const UP_TIMEOUT_MS = 15_000;

type Out = (line: string) => void;

function printFacts(facts: Record<string, string>, out: Out): void {
  const width = Math.max(...Object.keys(facts).map((key) => key.length));
  for (const [key, value] of Object.entries(facts)) out(`${key.padEnd(width)}  ${value}`);
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

async function up(dir: string, watchPid: number | undefined, out: Out, err: Out): Promise<number> {
  const existing = runningSandbox(dir);
  if (existing) {
    out(`sandbox already running (pid ${existing.pid})`);
    printFacts(existing.facts, out);
    return EXIT.ok;
  }
  removeState(dir);
  mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  const logPath = join(dir, 'logs', 'daemon.log');
  const logFd = openSync(logPath, 'a', 0o600);
  const daemon = repoPath('sandbox', 'daemon.ts');
  const child = spawn(process.execPath, ['--import', tsxLoader(), daemon, '--dir', dir, ...(watchPid ? ['--watch-pid', String(watchPid)] : [])], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: process.env,
  });
  closeSync(logFd);
  let exited: number | null = null;
  child.once('exit', (code) => {
    exited = code ?? 1;
  });
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = readState(dir);
    if (state && state.pid === child.pid) {
      child.unref();
      out(`sandbox up (pid ${state.pid}, log ${join(dir, 'logs', 'sandbox.log')})`);
      printFacts(state.facts, out);
      return EXIT.ok;
    }
    if (exited !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (exited === null && child.pid) process.kill(child.pid, 'SIGKILL');
  err(`sandbox failed to start; see ${logPath}`);
  for (const line of readFileSync(logPath, 'utf8').trim().split('\n').slice(-10)) err(`  ${line}`);
  return EXIT.failed;
}

async function down(dir: string, out: Out): Promise<number> {
  const state = readState(dir);
  if (!state || !isAlive(state.pid)) {
    removeState(dir);
    out('sandbox not running');
    return EXIT.ok;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (isAlive(state.pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
  removeState(dir, state.pid);
  out(`sandbox stopped (pid ${state.pid})`);
  return EXIT.ok;
}

async function status(dir: string, json: boolean, out: Out): Promise<number> {
  const state = runningSandbox(dir);
  if (!state) {
    out(json ? JSON.stringify({ running: false }) : 'sandbox not running');
    return EXIT.failed;
  }
  const live = (await callControl(state, 'GET', '/status')) as { clock: { now: string; offsetMs: number }; faults: unknown[] };
  if (json) {
    out(JSON.stringify({ running: true, pid: state.pid, startedAt: state.startedAt, facts: state.facts, clock: live.clock, faults: live.faults }));
    return EXIT.ok;
  }
  out(`sandbox running (pid ${state.pid}, since ${state.startedAt})`);
  printFacts(state.facts, out);
  out(`clock ${live.clock.now} (offset ${live.clock.offsetMs}ms), ${live.faults.length} fault(s) armed`);
  return EXIT.ok;
}

/** `runbook sandbox ...`: exit 0 on success, 1 when the sandbox is not running or a call failed, 2 on usage errors. */
export async function sandboxCommand(args: string[], out: Out = (l) => process.stdout.write(`${l}\n`), err: Out = (l) => process.stderr.write(`${l}\n`)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        json: { type: 'boolean' },
        count: { type: 'string' },
        status: { type: 'string' },
        'retry-after': { type: 'string' },
        'watch-pid': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    err(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const dir = resolve(values.dir ?? defaultSandboxDir());
  const [command = 'status', ...rest] = positionals;
  if (values.help) {
    out(USAGE);
    return EXIT.ok;
  }
  try {
    switch (command) {
      case 'up':
        return await up(dir, values['watch-pid'] ? Number(values['watch-pid']) : undefined, out, err);
      case 'down':
        return await down(dir, out);
      case 'status':
        return await status(dir, values.json ?? false, out);
      case 'clock': {
        const state = runningSandbox(dir);
        if (!state) return (err('sandbox not running'), EXIT.failed);
        if (rest[0] === undefined) {
          out(JSON.stringify(await callControl(state, 'GET', '/clock')));
          return EXIT.ok;
        }
        if (rest[0] !== 'advance' || !rest[1]) return (err(USAGE), EXIT.usage);
        parseDuration(rest[1]);
        const clock = (await callControl(state, 'POST', '/clock/advance', { duration: rest[1] })) as { now: string };
        out(`sandbox clock now ${clock.now}`);
        return EXIT.ok;
      }
      case 'fault': {
        if (!rest[0]) return (err(USAGE), EXIT.usage);
        if (rest[0] !== 'clear' && !isFaultKind(rest[0])) {
          err(`Unexpected fault kind \`${rest[0]}\`, expected one of: clear, ${Object.keys(FAULT_KINDS).join(', ')}`);
          return EXIT.usage;
        }
        for (const [flag, value] of [['--count', values.count], ['--status', values.status], ['--retry-after', values['retry-after']]] as const) {
          if (value !== undefined && !/^\d+$/.test(value)) return (err(`Unexpected ${flag} ${value}, expected a whole number`), EXIT.usage);
        }
        const state = runningSandbox(dir);
        if (!state) return (err('sandbox not running'), EXIT.failed);
        if (rest[0] === 'clear') {
          await callControl(state, 'DELETE', '/faults');
          out('faults cleared');
          return EXIT.ok;
        }
        const armed = (await callControl(state, 'POST', '/faults', {
          kind: rest[0],
          count: values.count === undefined ? 1 : Number(values.count),
          ...(values.status !== undefined ? { status: Number(values.status) } : {}),
          ...(values['retry-after'] !== undefined ? { retryAfter: Number(values['retry-after']) } : {}),
        })) as unknown[];
        out(`fault ${rest[0]} armed; ${armed.length} fault(s) armed`);
        return EXIT.ok;
      }
      default:
        err(`Unexpected sandbox command "${command}"\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (error) {
    err(error instanceof Error ? error.message : String(error));
    return error instanceof RangeError ? EXIT.usage : EXIT.failed;
  }
}
