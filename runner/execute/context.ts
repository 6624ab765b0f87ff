import { spawn } from 'node:child_process';
import { Console } from 'node:console';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import nodePath from 'node:path';
import { writePrivateFile } from '../../common/private-files.ts';
import type { LogEntry } from 'zx';
import { expect, zxCore } from './libraries.ts';
import type { Block } from '../model.ts';
import type { OutputCapture } from './capture.ts';
import type { Redactor } from './redact.ts';
import { refuse } from './refuse.ts';
import type { OnPid } from '../../common/spawn/spawner.ts';
import type { ResolvedTarget } from '../target.ts';

/** What a verify (and a rollback) sees of the step it belongs to. */
export interface StepResult {
  value: unknown;
  stdout: string;
  stderr: string;
  /** Everything the block printed, both streams in order. */
  output: string;
  /** Exit code of the last command the block ran; null when it ran none. */
  exitCode: number | null;
  durationMs: number;
}

/** The API blocks use to keep secrets out of every artifact (see README "Secrets"). */
export interface Secrets {
  /** Marks `value` secret under `name`: from now on it prints as `[secret:NAME]` everywhere. Returns the value. */
  mark(name: string, value: string): string;
  /** Reads a secret file (never printed) and marks its content (and its trimmed content) secret. */
  read(file: string, name: string): Promise<string>;
  /** Writes `value` to `file` with mode 600, atomically (temp file then rename); the value is marked secret. */
  write(file: string, value: string, name: string): Promise<void>;
  /**
   * Runs a shell command whose standard output IS a secret (a clipboard paste, a token command) and returns it,
   * marked. The output never passes through the block's captured output, so it is never printed or journaled.
   */
  fromCommand(command: string, name: string): Promise<string>;
  /** Pipes `value` into a command's standard input (a clipboard copy): the value is never on a command line. */
  toCommand(command: string, value: string): Promise<void>;
  /** The names marked so far. */
  names(): string[];
}

/** Clients for Microsoft's services, bound to the target's trust (the sandbox CA; none in production). */
export interface Net {
  /** PEM of the extra CA the target trusts, if any. */
  caPem?: string;
  /** Pass as msal-node's `system.networkClient`. */
  msalNetworkClient(): unknown;
  /** Pass as the Graph client's `fetchOptions`. */
  graphFetchOptions(): unknown;
}

export interface ContextDeps {
  /** Starts the commands of `$` (spawner.ts); Node's own spawn when absent. */
  spawn?: typeof import('node:child_process').spawn;
  /**
   * Modules blocks use by name, loaded once per run and only when the document uses them: `msal`, `graph`, and `zx`
   * (the whole of zx, for `fs`, `glob`, `YAML`, `sleep`, `retry`; see libraries.ts).
   */
  modules: Record<string, unknown>;
  net: Net;
  cwd: string;
  env: NodeJS.ProcessEnv;
  target: ResolvedTarget;
  state: Record<string, unknown>;
  redactor: Redactor;
  secretNames: Set<string>;
  fetch: typeof fetch;
  /**
   * Commands lead process groups of their own, so stopping a block stops their whole trees (background jobs too);
   * `onPid` hears of each (secrets.fromCommand's included).
   */
  detached?: boolean;
  onPid?: OnPid;
}

const { $: zx$, quote, which } = zxCore;
type Shell = typeof zx$;

/**
 * zx runs a command after the template call returns, so its error carries no frame of the block. Recording the
 * stack at each template call (and through `$(options)` derivations) keeps the runbook line of the command.
 */
function trackCommandOrigins(shell: Shell, onStart: (origin: Error) => void): Shell {
  return new Proxy(shell, {
    apply(target, self, args: unknown[]) {
      const first = args[0];
      if (Array.isArray(first) && 'raw' in first) onStart(new Error('command'));
      const result: unknown = Reflect.apply(target, self, args);
      return typeof result === 'function' ? trackCommandOrigins(result as Shell, onStart) : result;
    },
  });
}

/** What a shell block sees of the target: `RUNBOOK_TARGET` and each plain setting as `TARGET_<KEY>` (`ssh-options`
 * becomes `TARGET_SSH_OPTIONS`; a list is joined with spaces). */
export function targetEnvironment(target: ResolvedTarget): Record<string, string> {
  const env: Record<string, string> = { RUNBOOK_TARGET: target.name };
  for (const [key, value] of Object.entries(target.settings)) {
    const name = `TARGET_${key.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
    if (['string', 'number', 'boolean'].includes(typeof value)) env[name] = String(value);
    else if (Array.isArray(value)) env[name] = value.map(String).join(' ');
  }
  return env;
}

export function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') ? nodePath.join(os.homedir(), file.slice(1)) : file;
}

type QuietDeps = Pick<ContextDeps, 'redactor' | 'cwd' | 'detached' | 'onPid'> & { env?: NodeJS.ProcessEnv };

export function createSecrets(deps: Pick<ContextDeps, 'secretNames'> & QuietDeps): Secrets {
  const mark = (name: string, value: string) => {
    deps.redactor.add(name, value);
    deps.secretNames.add(name);
    return value;
  };
  return {
    mark,
    async read(file, name) {
      const value = await readFile(nodePath.resolve(deps.cwd, expandHome(file)), 'utf8');
      mark(name, value);
      if (value.trim() !== value) mark(name, value.trim());
      return value;
    },
    async write(file, value, name) {
      mark(name, value);
      const target = nodePath.resolve(deps.cwd, expandHome(file));
      await mkdir(nodePath.dirname(target), { recursive: true });
      await writePrivateFile(target, value);
    },
    async fromCommand(command, name) {
      const { stdout } = await runQuiet(command, deps, undefined);
      return mark(name, stdout);
    },
    async toCommand(command, value) {
      await runQuiet(command, deps, value);
    },
    names: () => [...deps.secretNames],
  };
}

/** Runs `command` under sh with its output kept off every log; a failure reports its (redacted) stderr. */
function runQuiet(command: string, deps: QuietDeps, input: string | undefined): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: deps.cwd, env: deps.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: deps.detached });
    if (child.pid !== undefined) deps.onPid?.(child.pid);
    // A command that exits without reading its input (EPIPE) is judged by its exit code, not by the broken pipe.
    child.stdin.on('error', () => {});
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout: Buffer.concat(stdout).toString('utf8') });
      else reject(new Error(`\`${command}\` exited with code ${code}: ${deps.redactor.redact(Buffer.concat(stderr).toString('utf8').trim())}`));
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * Builds the names one block execution sees. `$` is a zx instance scoped to this run and this attempt (cwd, env,
 * abort signal, a logger that captures command output into the block's output): nothing global is mutated.
 */
export function createBlockContext(
  deps: ContextDeps,
  block: Block,
  step: { id: string; title: string },
  capture: OutputCapture,
  signal: AbortSignal,
  extra: {
    result?: StepResult;
    attempt: number;
    onCommandEnd: (exitCode: number | null) => void;
    /** Receives an Error made at every command start (its stack is formatted only if needed), so a failed command
     * is reported at the line that ran it. */
    onCommandStart: (origin: Error) => void;
  },
): Record<string, unknown> {
  const log = (entry: LogEntry) => {
    // zx marks output `verbose` unless the command was made `.quiet()` (or its stdout is piped on): the block's
    // author decides what becomes part of the step's output, exactly as with zx's own printing.
    if ((entry.kind === 'stdout' || entry.kind === 'stderr') && entry.verbose) capture.write(entry.kind, entry.data);
    else if (entry.kind === 'end') extra.onCommandEnd(entry.exitCode);
  };
  let shell: Shell | undefined;
  let blockConsole: Console | undefined;
  let secrets: Secrets | undefined;
  // Made on first use: a block destructures only the names it uses (compile.ts), and most use few of these.
  return {
    get $() {
      return (shell ??= trackCommandOrigins(
        zx$({
          cwd: deps.cwd,
          env: deps.env,
          signal,
          quiet: false,
          verbose: true,
          log: log as typeof zx$.log,
          detached: deps.detached ?? false,
          ...(deps.spawn ? { spawn: deps.spawn } : {}),
        }),
        extra.onCommandStart,
      ));
    },
    /** A shell block (`bash step`): the script runs through this block's `$`, so its output, timeout and kill are a
     * step's; `-e` (and `pipefail` in bash) make a failing command fail the block, as a thrown error does. */
    runScript(this: { $: Shell }, lang: string, script: string): Promise<undefined> {
      const shell = this.$({ env: { ...deps.env, ...targetEnvironment(deps.target) } });
      if (lang !== 'bash') return shell`${lang} -e -c ${script}`.then(() => undefined);
      return runBashScript(shell, script);
    },
    get console() {
      return (blockConsole ??= new Console({ stdout: capture.stream('stdout'), stderr: capture.stream('stderr'), colorMode: false }));
    },
    get secrets() {
      return (secrets ??= createSecrets(deps));
    },
    ...sharedNames(deps),
    result: extra.result,
    step: { id: step.id, title: step.title, role: block.role, attempt: extra.attempt },
    signal,
  };
}

/**
 * Runs a bash block so that a failure names its line: an ERR trap (inherited by functions and subshells, `-E`) writes
 * `$LINENO` of the failing command to a private file, and the error carries it as `scriptLine` (see locate.ts). The
 * trap goes on the script's first line, before the user's first command, so every line keeps its number. `sh` has no
 * ERR trap: a failed `sh` block points at its whole block.
 */
async function runBashScript(shell: (pieces: TemplateStringsArray, ...args: unknown[]) => PromiseLike<unknown>, script: string): Promise<undefined> {
  const dir = await mkdtemp(nodePath.join(os.tmpdir(), 'runbook-line-'));
  const lineFile = nodePath.join(dir, 'line');
  const trap = `trap 'echo "$LINENO" > ${quote(lineFile)}' ERR; `;
  try {
    await shell`bash -e -E -o pipefail -c ${trap + script}`;
    return undefined;
  } catch (error) {
    const line = Number((await readFile(lineFile, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(line) && line > 0 && error instanceof Error) Object.assign(error, { scriptLine: line });
    throw error;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Setup runs on every run, resume, --from and --only: an effect there would repeat each time, so none is allowed. */
function noEffectInSetup(name: string): never {
  throw new Error(`setup blocks run on every run, resume, --from and --only, so they may not use \`${name}\` at their top level: call it inside a function, or move it into a step`);
}

/**
 * The names setup blocks see when they run (once per run, before the first step). What belongs to a single block
 * (`$`, `console`, `result`, `step`, `signal`) does not exist yet: a setup helper that uses `$` uses the one of the
 * block that calls it, and calling `$` or printing at the top of a setup block is refused.
 */
export function createRunScope(deps: ContextDeps): Record<string, unknown> {
  const refused = (name: string) => () => noEffectInSetup(name);
  const setupConsole = new Proxy({}, { get: (_, key) => refused(`console.${String(key)}`) });
  return {
    $: refused('$'),
    console: setupConsole,
    result: undefined,
    step: undefined,
    signal: undefined,
    secrets: createSecrets(deps),
    ...sharedNames(deps),
  };
}

/** The names every block and setup block see alike: the run's state and target, and the libraries. */
function sharedNames(deps: ContextDeps) {
  const zx = deps.modules['zx'] as typeof import('zx') | undefined;
  return {
    state: deps.state,
    target: deps.target,
    expect,
    fs: zx?.fs,
    path: nodePath,
    os,
    sleep: zx?.sleep,
    retry: zx?.retry,
    YAML: zx?.YAML,
    glob: zx?.glob,
    which,
    quote,
    fetch: deps.fetch,
    msal: deps.modules['msal'],
    graph: deps.modules['graph'],
    trust: deps.net,
    refuse,
  };
}
