import { fork, spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import { repoPath } from '../repo.ts';
import { shellSpawnArguments } from './bash-argv.mjs';

/**
 * Starts commands (a run's blocks', the embedded sandbox's SSH sessions') from a small helper process instead of from
 * the runner itself.
 *
 * Why: Node forks the whole process to start a child, and the cost grows with the parent's memory. The runner holds
 * the parser, zx, expect, the compiled runbook (well over 100 MB), so each command paid several milliseconds more than
 * it does from a small process; a long runbook is mostly commands. The helper keeps the next bash waiting (its warm
 * shell) and streams output back over IPC. To zx this is its `spawn` option: a function returning something that
 * behaves like a ChildProcess (stdio streams, pid, kill, `exit`/`close`/`error` events).
 *
 * The helper is one protocol with two implementations. On Linux it is spawn-host.py, run by the system's Python:
 * CPython starts processes with vfork, which copies nothing, where any fork (Node's, Perl's, bash's) copies the page
 * tables of the whole parent, a trip to the hypervisor per page-table operation on a virtual machine (12 ms of CPU per
 * command against 4 here, and a host that boots in 20 ms instead of 90). Elsewhere, or where that Python cannot run
 * it, it is spawn-host.mjs, in Node: the same messages, bytes as Uint8Array instead of base64.
 */
export interface Spawner {
  spawn: typeof nodeSpawn;
  /** Starts the first host now (a block thread does as it starts), so the first command finds it up. */
  warm(): void;
  close(): void;
}

/** What the host says of one command: its pid (first time), output in order, and its end, batched (spawn-host.mjs). */
type HostMessage =
  | {
      type: 'batch';
      id: number;
      pid?: number;
      /** When the command's process started (see process-identity.mjs), sent with its pid. */
      started?: string;
      /** Bytes: a Uint8Array from the Node host, base64 from the Python host (its channel is JSON). */
      output: { stream: 'stdout' | 'stderr'; data: Uint8Array | string }[];
      close?: { code: number | null; signal: NodeJS.Signals | null };
    }
  | { type: 'error'; id: number; message: string; code?: string; errno?: number };

/** What the runner tells a host: `spawn`, `stdin` (bytes in `data`), `stdin-end`, `kill`. */
interface HostRequest {
  type: 'spawn' | 'stdin' | 'stdin-end' | 'kill';
  id: number;
  data?: Buffer;
  [field: string]: unknown;
}

const hostPath = repoPath('common', 'spawn', 'spawn-host.mjs');
const pythonHostPath = repoPath('common', 'spawn', 'spawn-host.py');
/**
 * The system's own Python, by its path: one found on PATH may be a version manager's shim (pyenv's is a bash script
 * that takes 300 ms to start the real one) or a project's virtualenv.
 */
const SYSTEM_PYTHON = '/usr/bin/python3';

/** Which implementation a host runs (see above). */
export type HostKind = 'python' | 'node';

/** Pythons that could not run the host: later hosts are Node ones instead of trying again. */
const failedPythons = new Set<string>();

function hostKindFor(python: string): HostKind {
  return process.platform === 'linux' && !failedPythons.has(python) && existsSync(python) ? 'python' : 'node';
}

/** A ChildProcess as zx uses it, fed by the host's messages. */
class RemoteChild extends EventEmitter {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable;
  readonly stdio: [Writable, PassThrough, PassThrough];

  constructor(
    readonly id: number,
    private readonly send: (message: HostRequest) => void,
    private readonly onPid?: OnPid,
  ) {
    super();
    this.stdin = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        send({ type: 'stdin', id, data: chunk });
        callback();
      },
      final: (callback) => {
        send({ type: 'stdin-end', id });
        callback();
      },
    });
    this.stdio = [this.stdin, this.stdout, this.stderr];
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    // By id: the host knows the child from the spawn message, which the channel delivers first, pid or no pid yet.
    this.send({ type: 'kill', id: this.id, signal });
    return true;
  }

  receive(message: HostMessage): void {
    if (message.type === 'error') {
      this.emit('error', Object.assign(new Error(message.message), { code: message.code, errno: message.errno }));
      return;
    }
    if (message.pid !== undefined) {
      this.pid = message.pid;
      this.onPid?.(message.pid, message.started);
    }
    for (const { stream, data } of message.output) this[stream].write(typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data));
    if (message.close) this.#close(message.close.code, message.close.signal);
  }

  /** The host is gone: the command is, as far as anyone can tell, killed. */
  lost(): void {
    this.#close(null, 'SIGKILL');
  }

  #close(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', code, signal);
    // After the streams have delivered what they hold, as a real ChildProcess does.
    setImmediate(() => this.emit('close', code, signal));
  }
}

function pipesOnly(options: SpawnOptions): boolean {
  const stdio = options.stdio ?? 'pipe';
  return stdio === 'pipe' || (Array.isArray(stdio) && stdio.every((entry) => entry === 'pipe' || entry === undefined || entry === null));
}

/**
 * The host's own environment: the runner's, without the extra CA bundle (Node reads every certificate of
 * NODE_EXTRA_CA_CERTS as it boots, tens of milliseconds; a host makes no TLS connection). The commands it starts never
 * see this environment: each is sent the environment it asked for, or the runner's (see `spawn`).
 */
function hostEnvironment(): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  return env;
}

function sameEnvironment(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

/** A host process and the commands it is running. */
class Host {
  process!: ChildProcess;
  kind!: HostKind;
  readonly live = new Map<number, RemoteChild>();
  /** It has loaded and listens: until then, messages wait in its channel. */
  ready = false;
  /** The spawner was closed: a host that ends now is not replaced. */
  closing = false;
  /** What it was sent before it said it is ready: sent again to a Node host if a Python one never starts. */
  #unheard: HostRequest[] = [];

  constructor(
    kind: HostKind,
    private readonly python: string,
  ) {
    this.#start(kind);
  }

  #start(kind: HostKind): void {
    this.kind = kind;
    this.ready = false;
    const env = hostEnvironment();
    const child =
      kind === 'python'
        ? nodeSpawn(this.python, ['-I', '-S', '-X', 'utf8', pythonHostPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', env })
        : fork(hostPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', execArgv: [], env });
    this.process = child;
    child.on('message', (message: HostMessage | { type: 'ready' }) => {
      if (child !== this.process) return;
      if (message.type === 'ready') {
        this.ready = true;
        this.#unheard = [];
        if (this.live.size === 0) child.channel?.unref();
        return;
      }
      const remote = this.live.get(message.id);
      if (!remote) return;
      if (message.type === 'batch' && message.close) this.live.delete(message.id);
      remote.receive(message);
      if (this.live.size === 0) child.channel?.unref();
    });
    const lost = () => {
      if (child !== this.process) return;
      if (kind === 'python' && !this.ready && !this.closing) {
        // That Python could not run the host (too old, broken): the Node host takes its place and its messages.
        failedPythons.add(this.python);
        this.#start('node');
        for (const message of this.#unheard.splice(0)) this.send(message);
        return;
      }
      // The host died under us (or never started: a fork that failed, on a machine out of processes): fail what was
      // running instead of hanging, and never crash the thread that started it.
      for (const remote of this.live.values()) remote.lost();
      this.live.clear();
    };
    child.on('exit', lost);
    child.on('error', lost);
  }

  /** The environment this host was last sent: most commands run with the same one, sent once instead of each time. */
  #lastEnv: NodeJS.ProcessEnv | undefined;

  /** The environment for a spawn message: the whole of it, or that it is the one sent last (about 4 kB less to copy). */
  environment(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv } | { sameEnv: true } {
    if (this.#lastEnv && sameEnvironment(env, this.#lastEnv)) return { sameEnv: true };
    this.#lastEnv = { ...env };
    return { env: this.#lastEnv };
  }

  send = (message: HostRequest) => {
    if (!this.ready) this.#unheard.push(message);
    // The Python host's channel is JSON: bytes go as base64.
    const wire = this.kind === 'python' && message.data ? { ...message, data: message.data.toString('base64') } : message;
    if (this.process.connected) this.process.send(wire);
  };
}

/**
 * Two hosts take turns. A host is busy for about a millisecond (several on a virtual machine) while it starts its next
 * warm shell (the fork and exec of bash block it); taking turns, one host runs a command while the other gets its shell
 * ready. The second boots only when a second command comes: a run of one command never pays for it.
 */
const HOSTS = 2;

export interface SpawnerOptions {
  /** Told the pid of every command as soon as it is known (the runner kills the process groups of a stopped block). */
  onPid?: OnPid;
  /** Which host to run (tests run both); by default Python's on Linux, Node's elsewhere. */
  host?: HostKind;
  /** The Python that runs a Python host (tests give one that cannot). */
  python?: string;
}

/**
 * Hears of a command's pid and when its process started (the pair names it after the pid is free for reuse): the host
 * reads that before it can reap the command; for a command this process started, the listener reads it.
 */
export type OnPid = (pid: number, started?: string) => void;

export function createSpawner(spawnerOptions: SpawnerOptions = {}): Spawner {
  const hosts: Host[] = [];
  let nextId = 0;
  let turn = 0;

  let sent = 0;

  const python = spawnerOptions.python ?? SYSTEM_PYTHON;
  const fill = (count: number) => {
    for (let index = hosts.length - 1; index >= 0; index -= 1) if (!hosts[index]!.process.connected) hosts.splice(index, 1);
    // Asked for Node, Node; otherwise Python where it can run the host (a failed Python is not tried again).
    const kind = spawnerOptions.host === 'node' ? 'node' : hostKindFor(python);
    while (hosts.length < count) hosts.push(new Host(kind, python));
  };
  const pick = (): Host => {
    fill(1);
    const ready = hosts.filter((host) => host.ready);
    // Until one has started, the first takes the command and runs it once it listens. Never Node's own spawn instead:
    // a command started from here would outlive a runner killed with SIGKILL, where a host takes it down with it.
    if (ready.length === 0) return hosts[0]!;
    turn = (turn + 1) % ready.length;
    return ready[turn]!;
  };

  const spawn = ((command: string, args: readonly string[] | SpawnOptions = [], options: SpawnOptions = {}) => {
    const argv = Array.isArray(args) ? args : [];
    const opts = (Array.isArray(args) ? options : args) as SpawnOptions;
    // Anything but plain pipes (inherit, a file descriptor, IPC) keeps Node's own spawn.
    if (!pipesOnly(opts)) {
      const child = nodeSpawn(...shellSpawnArguments(command, argv, opts));
      if (child.pid !== undefined) spawnerOptions.onPid?.(child.pid);
      return child;
    }
    const host = pick();
    host.process.channel?.ref();
    const id = nextId++;
    const child = new RemoteChild(id, host.send, spawnerOptions.onPid);
    host.live.set(id, child);
    const { signal, stdio: _stdio, env, ...transferable } = opts;
    if (signal) {
      const onAbort = () => child.kill((opts.killSignal as NodeJS.Signals | undefined) ?? 'SIGTERM');
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
      child.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    // Always an explicit environment: a host's own lacks what it does not need (hostEnvironment), the command does not.
    host.send({ type: 'spawn', id, command, args: argv, options: transferable, ...host.environment(env ?? process.env) });
    // Forked after the command went out: the fork (milliseconds, on this thread) overlaps the command.
    sent += 1;
    if (sent >= 2) fill(HOSTS);
    return child as unknown as ChildProcess;
  }) as typeof nodeSpawn;

  return {
    spawn,
    warm: () => fill(1),
    close() {
      for (const host of hosts.splice(0)) {
        host.closing = true;
        if (host.process.connected) host.process.disconnect();
      }
    },
  };
}
