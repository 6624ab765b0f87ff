// The thread blocks run in (see runtime.ts; its entry is worker.ts): it loads the compiled module and gives each block its names. The runner
// can terminate it at any moment (a timeout, Ctrl-C), `for(;;){}` included; whatever a block does to its runtime
// (process.exit, an uncaught error, a throwing timer) ends this thread, never the runner.
import { readTargetAuth, withTargetAuth } from '../../common/net/auth.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { diagnostic } from '../../common/diagnostics.ts';
import type { RunMessage } from '../report/events.ts';
import { createTarget } from '../target.ts';
import { OutputCapture } from './capture.ts';
import { loadCompiled, type BlockFunction } from './compile.ts';
import { createBlockContext, createRunScope, type ContextDeps, type Net, type StepResult } from './context.ts';
import { describeError } from './failure.ts';
import { loadZxLibrary } from './libraries.ts';
import { Redactor } from './redact.ts';
import { REFUSED } from './refuse.ts';
import { onPid, spawner } from './thread-spawner.ts';
import type { PreloadMessage, RunRequest, SeedMessage, ThreadData, WorkerMessage, WorkerSeed } from './runtime.ts';

const port = parentPort!;
const data = workerData as ThreadData;
const post = (message: WorkerMessage) => port.postMessage(message);

// A thread may be started before its run knows the seed (runtime.ts, preloadBlockThread): the seed is then the first
// message. Requests for blocks wait here until the setup has run; one listener from the start, so none is lost.
let deliver: ((request: RunRequest) => void) | undefined;
const inbox: RunRequest[] = [];
let seeded!: (seed: WorkerSeed) => void;
const seedMessage = new Promise<WorkerSeed>((resolve) => (seeded = resolve));
// The heavy modules the document names load while the seed is on its way (an import is loaded once per thread).
const preload = (modules: string[]) => {
  if (modules.includes('zx')) {
    try {
      loadZxLibrary();
    } catch {
      // The block runtime loads it again as the seed arrives, and reports what went wrong.
    }
  }
  if (modules.includes('msal')) void import('@azure/msal-node').catch(() => undefined);
  if (modules.includes('graph')) void import('@microsoft/microsoft-graph-client').catch(() => undefined);
};
port.on('message', (message: RunRequest | SeedMessage | PreloadMessage) => {
  if ('seed' in message) seeded(message.seed);
  else if ('preload' in message) preload(message.preload);
  else if (deliver) deliver(message);
  else inbox.push(message);
});
preload(data.modules);
const seed = data.seed ?? (await seedMessage);

// Anything written straight to the thread's stdout/stderr is part of the running block's output: it travels the same
// ordered channel as secrets, so the runner knows every secret before it sees output that could hold one.
for (const stream of ['stdout', 'stderr'] as const) {
  process[stream].write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    post({ type: 'output', stream, data: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof process.stdout.write;
}

/** Tells the runner of every secret at once: its redactor must know a value before any output carrying it. */
class SharedRedactor extends Redactor {
  override add(name: string, value: string): void {
    super.add(name, value);
    post({ type: 'secret', name, value });
  }
}
const redactor = new SharedRedactor();
const secretNames = new Set<string>();
for (const [name, value] of seed.secrets) {
  Redactor.prototype.add.call(redactor, name, value);
  secretNames.add(name);
}

/**
 * The shared state. Top-level writes reach the runner as they happen, so a block stopped mid-way (a timeout) leaves
 * the runner the state its rollback needs (`state.envBackup = ...` before the failure point).
 */
const state = new Proxy<Record<string, unknown>>(seed.state, {
  set(target, key, value) {
    target[key as string] = value;
    if (typeof key === 'string') {
      try {
        post({ type: 'state-set', key, json: JSON.stringify(value) });
      } catch {
        // Not serialisable: the block's end reports it as the step's failure.
      }
    }
    return true;
  },
  deleteProperty(target, key) {
    delete target[key as string];
    if (typeof key === 'string') post({ type: 'state-set', key, json: undefined });
    return true;
  },
});

const target = createTarget(seed.target.name, seed.target.sandbox, seed.target.settings);
const compiled = await loadCompiled(seed.modulePath);
const runtime = await blockRuntime(seed.caPem, seed.modules);
const { net, modules } = runtime;
// The target's header (the sandbox's credential) rides on blocks' fetch to its origins only; it prints as a secret.
const auth = await readTargetAuth(seed.target.settings);
if (auth) redactor.add('TARGET_AUTH', auth.value.replace(/^bearer\s+/i, ''));
const fetch = withTargetAuth(runtime.fetch, auth);
const deps: ContextDeps = { cwd: seed.cwd, env: seed.env, target, state, redactor, secretNames, fetch, modules, net, spawn: spawner.spawn, detached: true, onPid };
/** A RunMessage as plain data for the trip to the runner (which revives it). */
const plain = (message: RunMessage): unknown => JSON.parse(JSON.stringify(message));
/** What steps returned, as they returned it (a Date stays a Date for its verify): the runner holds only JSON. */
const values = new Map<string, unknown>();

/**
 * Clients bound to the target's trust. The TLS and client helpers (undici above all) are loaded only by a runbook
 * that talks to a service: every module the runtime holds makes each command a block starts slower to fork.
 */
async function blockRuntime(caPem: string | undefined, names: string[]): Promise<{ net: Net; fetch: typeof globalThis.fetch; modules: Record<string, unknown> }> {
  const modules: Record<string, unknown> = {};
  if (names.includes('zx')) modules['zx'] = loadZxLibrary();
  if (names.includes('msal')) modules['msal'] = await import('@azure/msal-node');
  if (names.includes('graph')) modules['graph'] = await import('@microsoft/microsoft-graph-client');
  const tls = caPem ? await import('../../common/net/tls.ts') : undefined;
  const msal = modules['msal'] ? await import('../../common/net/msal.ts') : undefined;
  const graph = modules['graph'] ? await import('../../common/net/graph.ts') : undefined;
  const unavailable = (name: string) => () => {
    throw new Error(`trust.${name}() needs the ${name === 'msalNetworkClient' ? 'msal' : 'graph'} module: use it in a block of this runbook`);
  };
  return {
    modules,
    // Node loads its fetch (undici, tens of milliseconds) when `globalThis.fetch` is first read: not before a block calls it.
    fetch: tls ? (tls.createFetch(caPem) as typeof globalThis.fetch) : (input, init) => globalThis.fetch(input, init),
    net: {
      caPem,
      msalNetworkClient: msal ? () => msal.createMsalNetworkClient(caPem) : unavailable('msalNetworkClient'),
      graphFetchOptions: graph ? () => graph.createGraphFetchOptions(caPem) : unavailable('graphFetchOptions'),
    },
  };
}

/** JSON as the journal will hold it; a value it cannot hold is the block's failure, named. */
function toJson(what: string, value: unknown): { json?: string; error?: string } {
  try {
    return { json: JSON.stringify(value) };
  } catch (error) {
    return { error: `${what} cannot be recorded in the journal: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function run(request: RunRequest): Promise<void> {
  const { block, step } = request;
  const capture = new OutputCapture(() => {});
  // Output goes to the runner as it comes, a chunk at a time; the runner splits lines and redacts.
  capture.write = (stream, chunk) => post({ type: 'output', stream, data: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') });
  let exitCode: number | null = null;
  let commandStack: Error = new Error();
  const result: StepResult | undefined = request.result && values.has(step.id) ? { ...request.result, value: values.get(step.id) } : request.result;
  const controller = new AbortController();
  const context = createBlockContext(
    deps,
    block,
    step,
    capture,
    controller.signal,
    { result, attempt: step.attempt, onCommandEnd: (code) => (exitCode = code), onCommandStart: (origin) => (commandStack = origin) },
  );
  const fn = blocks[block.index];
  if (request.announce) post({ type: 'started', id: request.id });
  let value: unknown;
  let failure: RunMessage | undefined;
  try {
    if (!fn) throw new Error(`block on line ${block.span.start.line} was not compiled`);
    value = await fn(context);
  } catch (error) {
    const rule = error instanceof Error && error.name === REFUSED ? 'run-refused' : undefined;
    failure = describeError(error, request.file, block, redactor, rule, commandStack.stack ?? '', compiled);
  }
  if (block.role === 'step') values.set(step.id, value);
  const valueJson = failure ? {} : toJson(`the value step ${step.id} returned`, value);
  const stateJson = toJson('the shared state', seed.state);
  const unrecordable = valueJson.error ?? stateJson.error;
  if (unrecordable && !failure) failure = diagnostic(`Unexpected value, expected plain data: ${unrecordable}`, { file: request.file, place: block.span, ruleId: 'run-error' });
  post({ type: 'done', id: request.id, value: valueJson.json, state: stateJson.json, exitCode, failure: failure && plain(failure) });
}

// The document's setup runs as the thread starts: every block of this thread sees what it defines.
let blocks: BlockFunction[] = [];
let setupFailure: RunMessage | undefined;
try {
  blocks = await compiled.instantiate(createRunScope(deps));
} catch (error) {
  const at = seed.setup;
  setupFailure = at
    ? describeError(error, seed.file, at, redactor, 'run-error', '', compiled)
    : diagnostic(`Unexpected failure of the setup: ${String(error)}`, { file: seed.file, ruleId: 'run-error' });
}

deliver = (request) => void run(request);
for (const request of inbox.splice(0)) deliver(request);
post({ type: 'ready', setupFailure: setupFailure && plain(setupFailure) });
