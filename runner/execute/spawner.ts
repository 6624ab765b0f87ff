import { fork, spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { repoPath } from '../repo.ts';

/**
 * Starts the commands of a run's blocks from a small helper process instead of from the runner itself.
 *
 * Why: Node forks the whole process to start a child, and the cost grows with the parent's memory. The runner holds
 * the parser, zx, expect, the compiled runbook (well over 100 MB), so each command paid several milliseconds more than
 * it does from a 40 MB process; a long runbook is mostly commands. The helper (spawn-host.mjs) forks from its small
 * footprint and streams output back over IPC. To zx this is its `spawn` option: a function returning something that
 * behaves like a ChildProcess (stdio streams, pid, kill, `exit`/`close`/`error` events).
 */
export interface Spawner {
  spawn: typeof nodeSpawn;
  close(): void;
}

type HostMessage =
  | { type: 'pid'; id: number; pid: number }
  | { type: 'stdout' | 'stderr'; id: number; data: Uint8Array }
  | { type: 'error'; id: number; message: string; code?: string }
  | { type: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

const hostPath = repoPath('runner', 'execute', 'spawn-host.mjs');

/** A ChildProcess as zx uses it, fed by the host's messages. */
class RemoteChild extends EventEmitter {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin: Writable;
  readonly stdio: [Writable, PassThrough, PassThrough];
  #pendingKill: NodeJS.Signals | undefined;

  constructor(
    readonly id: number,
    private readonly send: (message: object) => void,
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
    // Asked before the host reported the pid: it is sent along as soon as the host knows the child.
    if (this.pid === undefined) this.#pendingKill = signal;
    this.send({ type: 'kill', id: this.id, signal });
    return true;
  }

  receive(message: HostMessage): void {
    switch (message.type) {
      case 'pid':
        this.pid = message.pid;
        if (this.#pendingKill) this.send({ type: 'kill', id: this.id, signal: this.#pendingKill });
        break;
      case 'stdout':
        this.stdout.write(Buffer.from(message.data));
        break;
      case 'stderr':
        this.stderr.write(Buffer.from(message.data));
        break;
      case 'error':
        this.emit('error', Object.assign(new Error(message.message), { code: message.code }));
        break;
      case 'close':
        this.exitCode = message.code;
        this.signalCode = message.signal;
        this.stdout.end();
        this.stderr.end();
        this.emit('exit', message.code, message.signal);
        // After the streams have delivered what they hold, as a real ChildProcess does.
        setImmediate(() => this.emit('close', message.code, message.signal));
        break;
    }
  }
}

function pipesOnly(options: SpawnOptions): boolean {
  const stdio = options.stdio ?? 'pipe';
  return stdio === 'pipe' || (Array.isArray(stdio) && stdio.every((entry) => entry === 'pipe' || entry === undefined || entry === null));
}

export function createSpawner(): Spawner {
  let host: ChildProcess | undefined;
  let nextId = 0;
  const live = new Map<number, RemoteChild>();

  const send = (message: object) => host?.send(message);
  const ensureHost = (): ChildProcess => {
    if (host?.connected) return host;
    host = fork(hostPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', execArgv: [] });
    host.on('message', (message: HostMessage) => {
      const child = live.get(message.id);
      if (!child) return;
      if (message.type === 'close') live.delete(message.id);
      child.receive(message);
      if (live.size === 0) host?.channel?.unref();
    });
    host.on('exit', () => {
      // The host died under us: fail what was running instead of hanging.
      for (const child of live.values()) child.receive({ type: 'close', id: child.id, code: null, signal: 'SIGKILL' });
      live.clear();
      host = undefined;
    });
    return host;
  };

  const spawn = ((command: string, args: readonly string[] | SpawnOptions = [], options: SpawnOptions = {}) => {
    const argv = Array.isArray(args) ? args : [];
    const opts = (Array.isArray(args) ? options : args) as SpawnOptions;
    // Anything but plain pipes (inherit, a file descriptor, IPC) keeps Node's own spawn.
    if (!pipesOnly(opts)) return nodeSpawn(command, argv, opts);
    const current = ensureHost();
    current.channel?.ref();
    const id = nextId++;
    const child = new RemoteChild(id, send);
    live.set(id, child);
    const { signal, stdio: _stdio, ...transferable } = opts;
    if (signal) {
      const onAbort = () => child.kill((opts.killSignal as NodeJS.Signals | undefined) ?? 'SIGTERM');
      if (signal.aborted) queueMicrotask(onAbort);
      else signal.addEventListener('abort', onAbort, { once: true });
      child.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    send({ type: 'spawn', id, command, args: argv, options: transferable });
    return child as unknown as ChildProcess;
  }) as typeof nodeSpawn;

  return {
    spawn,
    close() {
      if (host?.connected) host.disconnect();
      host = undefined;
    },
  };
}
