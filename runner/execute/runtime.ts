import { existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { repoRoot } from '../../common/repo.ts';
import { sourceKey } from '../../common/source-key.mjs';
import type { Block } from '../model.ts';
import { reviveMessage } from '../../common/diagnostics.ts';
import type { RunMessage } from '../report/events.ts';
import type { StepResult } from './context.ts';
import { signalGroup } from '../../common/process-identity.mjs';

/** What a fresh block thread starts from: the compiled module, the target, the last good state, the known secrets. */
export interface WorkerSeed {
  modulePath: string;
  file: string;
  /** Where a failure of the document's setup is placed. */
  setup?: Block;
  cwd: string;
  env: NodeJS.ProcessEnv;
  target: { name: string; sandbox: boolean; settings: Record<string, unknown> };
  caPem?: string;
  /** Heavy modules the document names (`msal`, `graph`): loaded only then. */
  modules: string[];
  state: Record<string, unknown>;
  secrets: [string, string][];
}

export interface RunRequest {
  id: number;
  /** Post `started` when the block begins: asked only of a thread still loading (a loaded one begins it at once). */
  announce: boolean;
  file: string;
  block: Block;
  step: { id: string; title: string; role: Block['role']; attempt: number };
  result?: StepResult;
}

export type WorkerMessage =
  /** Loaded, and the document's setup ran (its failure, as plain data, if it failed). */
  | { type: 'ready'; setupFailure?: unknown }
  /** The block begins now (its thread is loaded): its timeout counts from here. */
  | { type: 'started'; id: number }
  | { type: 'secret'; name: string; value: string }
  | { type: 'output'; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'pid'; pid: number; started?: string }
  | { type: 'state-set'; key: string; json: string | undefined }
  /** `failure` is a RunMessage as plain data (a VFileMessage does not survive the thread boundary whole). */
  | { type: 'done'; id: number; value?: string; state?: string; exitCode: number | null; failure?: unknown };

/** How one block ended, as the runner sees it. */
export type BlockEnd =
  | { kind: 'done'; value: unknown; exitCode: number | null; failure?: RunMessage }
  /** The thread ended under the block: process.exit, an uncaught error, an unhandled rejection, a throwing timer. */
  | { kind: 'crashed'; error: unknown; exitCode?: number };

export interface RuntimeHooks {
  seed(): WorkerSeed;
  onSecret(name: string, value: string): void;
  onOutput(stream: 'stdout' | 'stderr', data: string): void;
  /** The state as the thread holds it now (after a block, or a top-level write during one). */
  onState(update: { key: string; json: string | undefined } | { all: string }): void;
}

/** What the thread is created with: the heavy modules to load while it waits for its seed (which may come later). */
export interface ThreadData {
  modules: string[];
  seed?: WorkerSeed;
}

/** The message that seeds a thread started before its seed was known (see preloadBlockThread). */
export interface SeedMessage {
  seed: WorkerSeed;
}

/** The heavy modules a thread started before its document was read loads ahead of its seed (`msal`, `graph`, `zx`). */
export interface PreloadMessage {
  preload: string[];
}

function newThread(data: ThreadData): Worker {
  return new Worker(workerUrl(), { workerData: data, stdout: true, stderr: true });
}

/**
 * A block thread started before the run knows its seed: it loads zx, expect and the modules the document names (the
 * largest part of a thread's start) while the runner starts the sandbox and takes its locks. The run's BlockRuntime
 * adopts it; `dispose` ends it when the run never got that far.
 */
export interface PreloadedThread {
  /** Starts loading the heavy modules the document names (a thread started before the document was read). */
  load(modules: string[]): void;
  /** From now on the thread keeps the process alive (an early thread does not until a run adopts it; the runtime's
   * listeners would hold it too, but a run may wait on other things before its first block). */
  adopt(): void;
  take(): Worker | undefined;
  dispose(): Promise<void>;
}

/**
 * The thread bin/runbook.js starts as a `run` or `resume` process starts, so that it loads beside the CLI itself; the
 * process's first run adopts it (takeEarlyBlockThread). Until then it holds nothing open: a command that never gets
 * to run a document (a usage error, `--help`) exits as it would without it.
 */
let early: PreloadedThread | undefined;

export function startEarlyBlockThread(): void {
  early ??= preloadBlockThread([], { early: true });
}

/** The thread startEarlyBlockThread started, if no run took it yet; it keeps the process alive from now on. */
export function takeEarlyBlockThread(): PreloadedThread | undefined {
  const taken = early;
  early = undefined;
  taken?.adopt();
  return taken;
}

export function preloadBlockThread(modules: string[] = [], options: { early?: boolean } = {}): PreloadedThread {
  let worker: Worker | undefined = newThread({ modules });
  if (options.early) worker.unref();
  // Nothing of a thread no run adopted is worth reporting: it ran nothing of the document.
  worker.on('error', () => {});
  // A thread that ended before it was adopted (it failed to load) is not handed on: its listeners would wait for a
  // message it can no longer send. The runtime starts a fresh one instead, which reports what went wrong.
  let ended = false;
  worker.once('exit', () => (ended = true));
  return {
    load(modules) {
      if (modules.length > 0) worker?.postMessage({ preload: modules } satisfies PreloadMessage);
    },
    adopt() {
      worker?.ref();
    },
    take() {
      const taken = ended ? undefined : worker;
      worker = undefined;
      return taken;
    },
    async dispose() {
      const left = worker;
      worker = undefined;
      await left?.terminate();
    },
  };
}


/**
 * The worker entry: the bundle's own chunk when running bundled. From the TypeScript sources (the tests, a library
 * use), a bundle of the worker built once per source change: a thread that registers tsx and loads the sources takes
 * about three times as long to start (seconds on a loaded machine), and a rollback waits for its fresh thread. The
 * sources through tsx only when that build fails.
 */
function workerUrl(): URL {
  const bundled = new URL('./block-worker.mjs', import.meta.url);
  if (!import.meta.url.endsWith('.ts') && existsSync(bundled)) return bundled;
  return (sourceWorker ??= buildSourceWorker());
}

let sourceWorker: URL | undefined;

function buildSourceWorker(): URL {
  const fallback = new URL('./worker-source.mjs', import.meta.url);
  try {
    const root = repoRoot();
    // Keyed by every source the worker may import and the lock file.
    const outdir = path.join(root, 'node_modules', '.cache', 'runbook-worker', sourceKey(root, ['runner', 'common']));
    const entry = path.join(outdir, 'block-worker.mjs');
    if (!existsSync(entry)) {
      // Built aside and renamed into place: test files running side by side never load half a bundle.
      const temp = `${outdir}.${process.pid}.tmp`;
      const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
      esbuild.buildSync({
        entryPoints: { 'block-worker': path.join(root, 'runner', 'execute', 'worker.ts') },
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        tsconfig: path.join(root, 'tsconfig.json'),
        outdir: temp,
        outExtension: { '.js': '.mjs' },
        logLevel: 'silent',
      });
      try {
        renameSync(temp, outdir);
      } catch {
        rmSync(temp, { recursive: true, force: true });
      }
    }
    return existsSync(entry) ? pathToFileURL(entry) : fallback;
  } catch {
    return fallback;
  }
}

const KILL_GRACE_MS = 100;

/**
 * Runs blocks in a worker thread that can be stopped at any moment. The runner keeps the journal, events, redaction
 * and prompts; the thread holds the blocks' runtime (zx, state, clients). After a stop or a crash, the next block
 * gets a fresh thread seeded from the last state the runner saw. The commands blocks start lead process groups of
 * their own, reported here, so a stop takes down their whole trees, background jobs included.
 */
export class BlockRuntime {
  #worker: Worker | undefined;
  #pending: { id: number; resolve: (end: BlockEnd) => void; started: () => void } | undefined;
  /** The thread died between blocks: the next block reports it. */
  #crashed: { error: unknown; exitCode?: number } | undefined;
  /** The process groups the running block's commands lead, each with its leader's start time (process-identity.mjs). */
  readonly #groups = new Map<number, string | undefined>();
  #nextId = 0;
  #ready: Promise<RunMessage | undefined> | undefined;
  /** The thread that has posted `ready` (loaded, setup run): it runs a request the moment it receives it. */
  #loaded: Worker | undefined;

  /** A thread started ahead (preloadBlockThread), used for the first block thread this runtime needs. */
  #preloaded: PreloadedThread | undefined;

  constructor(
    private readonly hooks: RuntimeHooks,
    preloaded?: PreloadedThread,
  ) {
    this.#preloaded = preloaded;
  }

  /** Starts the thread if there is none, and resolves once it has loaded and run the setup: with its failure, if any. */
  ready(): Promise<RunMessage | undefined> {
    this.#ensure();
    return this.#ready ?? Promise.resolve(undefined);
  }

  /** `started` resolves when the block begins (a fresh thread loads first), `end` when it is over. */
  run(request: Omit<RunRequest, 'id' | 'announce'>): { started: Promise<void>; end: Promise<BlockEnd> } {
    if (this.#crashed) {
      const crashed = this.#crashed;
      this.#crashed = undefined;
      return { started: Promise.resolve(), end: Promise.resolve({ kind: 'crashed', ...crashed }) };
    }
    const worker = this.#ensure();
    const id = this.#nextId++;
    // Only this block's commands are stopped with it: a background job an earlier block left on purpose stays.
    this.#groups.clear();
    let started!: () => void;
    const startedPromise = new Promise<void>((resolve) => (started = resolve));
    const end = new Promise<BlockEnd>((resolve) => {
      this.#pending = {
        id,
        started,
        resolve: (blockEnd) => {
          started();
          resolve(blockEnd);
        },
      };
      // A thread that said it is ready begins the block as it receives it: the block's time counts from now, and the
      // thread is spared a message per block. One still loading says when the block begins.
      const announce = this.#loaded !== worker;
      worker.postMessage({ ...request, id, announce } satisfies RunRequest);
      if (!announce) started();
    });
    return { started: startedPromise, end };
  }

  /** Stops the running block at once: the thread is terminated, its commands' process groups killed. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#pending = undefined;
    this.#crashed = undefined;
    // Both at once: the commands need not wait for the thread's teardown.
    await Promise.all([worker?.terminate(), this.#killGroups()]);
  }

  /** A fresh thread for what follows (the rollbacks): nothing a failed block left running in it can act any more. */
  async restart(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#pending = undefined;
    this.#crashed = undefined;
    await worker?.terminate();
  }

  /**
   * Ends the thread. Its JavaScript stops at once; the rest of its teardown (its heap, its channels to the command
   * hosts, which then take their commands down) finishes on its own, tens of milliseconds a run need not wait for.
   */
  close(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
  }

  #ensure(): Worker {
    if (this.#worker) return this.#worker;
    const preloaded = this.#preloaded?.take();
    this.#preloaded = undefined;
    const seed = this.hooks.seed();
    const worker = preloaded ?? newThread({ modules: seed.modules, seed });
    if (preloaded) preloaded.postMessage({ seed } satisfies SeedMessage);
    this.#worker = worker;
    let loaded!: (setupFailure?: RunMessage) => void;
    this.#ready = new Promise((resolve) => (loaded = resolve));
    worker.once('exit', () => loaded());
    // Whatever escapes the thread's own stdout/stderr (written below JavaScript) is still the block's output.
    worker.stdout.on('data', (chunk: Buffer) => this.hooks.onOutput('stdout', chunk.toString('utf8')));
    worker.stderr.on('data', (chunk: Buffer) => this.hooks.onOutput('stderr', chunk.toString('utf8')));
    worker.on('message', (message: WorkerMessage) => {
      if (this.#worker !== worker) return;
      switch (message.type) {
        case 'secret':
          this.hooks.onSecret(message.name, message.value);
          break;
        case 'output':
          this.hooks.onOutput(message.stream, message.data);
          break;
        case 'pid':
          this.#groups.set(message.pid, message.started);
          break;
        case 'state-set':
          this.hooks.onState({ key: message.key, json: message.json });
          break;
        case 'done': {
          if (message.state !== undefined) this.hooks.onState({ all: message.state });
          const pending = this.#pending;
          if (pending?.id !== message.id) break;
          this.#pending = undefined;
          const failure = message.failure === undefined ? undefined : reviveMessage(message.failure);
          pending.resolve({ kind: 'done', value: message.value === undefined ? undefined : JSON.parse(message.value), exitCode: message.exitCode, failure });
          break;
        }
        case 'started':
          if (this.#pending?.id === message.id) this.#pending.started();
          break;
        case 'ready':
          this.#loaded = worker;
          loaded(message.setupFailure === undefined ? undefined : reviveMessage(message.setupFailure));
          break;
      }
    });
    let error: unknown;
    worker.on('error', (thrown) => (error = thrown));
    worker.on('exit', (exitCode) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      const crash = { error: error ?? new Error(`process.exit(${exitCode}) ended the block's runtime`), exitCode: error ? undefined : exitCode };
      void this.#killGroups();
      const pending = this.#pending;
      this.#pending = undefined;
      if (pending) pending.resolve({ kind: 'crashed', ...crash });
      else this.#crashed = crash;
    });
    return worker;
  }

  /** SIGTERM to every process group a block started, then SIGKILL to what is left. */
  async #killGroups(): Promise<void> {
    const groups = [...this.#groups];
    this.#groups.clear();
    // Every group the block started, finished commands' too (their background jobs stop with the block); a group long
    // gone whose number now names another process is left alone (signalGroup).
    const signalAll = (signal: NodeJS.Signals) => {
      let any = false;
      for (const [group, started] of groups) if (signalGroup(group, started, signal)) any = true;
      return any;
    };
    if (!signalAll('SIGTERM')) return;
    await new Promise((resolve) => setTimeout(resolve, KILL_GRACE_MS));
    signalAll('SIGKILL');
  }
}
