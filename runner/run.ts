import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readTargetAuth } from '../common/net/auth.ts';
import { privateDir } from '../common/private-files.ts';
import { Journal, type RunMeta } from './journal/journal.ts';
import { acquireLock, defaultStateDir, lockKey } from './lock/local.ts';
import { thisHolder } from './lock/holder.ts';
import { acquireRemoteLock, remoteLockName, type RemoteLock } from './lock/remote.ts';
import { compileRunbook, globalsUsedBy, ZX_LIBRARY_GLOBALS } from './execute/compile.ts';
import { preloadBlockThread, takeEarlyBlockThread, type PreloadedThread } from './execute/runtime.ts';
import { runEngine, nonInteractive, questionsOf, type Interaction, type ResumePoint, type RunSummary } from './execute/engine.ts';
import { diagnostic, RunbookInputError } from '../common/diagnostics.ts';
import { Redactor } from './execute/redact.ts';
import type { Runbook } from './model.ts';
import { loadRunbook } from './load.ts';
import { planRun, type PlannedStep } from './plan/index.ts';
import { reviveEvent, type Reporter, type RunDocument, type RunEvent } from './report/events.ts';
import { repositoryPath, runProvenance } from './provenance.ts';
import { Multiplexer } from './report/multiplexer.ts';
import { commandSandbox } from './sandbox-command.ts';
import { chooseTarget, resolveTarget, type ResolvedTarget } from './target.ts';
import { shareConnections, type SharedConnections } from './connections.ts';

/** A running sandbox tenant as the runner needs it: its facts, and a way to stop it if this run started it. */
export interface SandboxLease {
  facts: Record<string, string>;
  release(): Promise<void>;
}

export type SandboxProvider = (workspace: string) => Promise<SandboxLease>;

export interface RunRequest {
  file: string;
  /** A target name, or how to pick one from the document (validation picks its sandbox target). */
  target?: string | ((runbook: Runbook) => string);
  yes?: boolean;
  automate?: boolean;
  /** 'operator': manual steps go to `interaction` even on a sandbox (the Playwright replay clicks them). */
  manualSteps?: 'default' | 'operator';
  from?: string;
  only?: string;
  reporters: Reporter[];
  interaction?: Interaction;
  /** Folder holding `.runbook/` (journals, cache, sandbox state); default: the runbook's folder. */
  workspace?: string;
  env?: NodeJS.ProcessEnv;
  sandbox?: SandboxProvider;
  /** Aborting it interrupts the run (rollbacks still run); the CLI wires SIGINT and SIGTERM to it. */
  interrupt?: AbortSignal;
  /** Aborting it stops the rollbacks too (a second Ctrl-C): the journal keeps them for `runbook resume`. */
  stop?: AbortSignal;
  runId?: string;
  /** Extra sinks that see every redacted event; unlike reporters, their failure fails the run. */
  sinks?: Array<(event: RunEvent) => void>;
  /** Keep an fsynced journal under `.runbook/runs/<id>/` (default true): what `runbook resume` reads. */
  journal?: boolean;
  resume?: { point: ResumePoint; state: Record<string, unknown> };
  /** The per-user state folder holding the run locks; default `$XDG_STATE_HOME/runbook` (tests give their own). */
  stateDir?: string;
  /** `--take-over-lock RUN_ID`: the operator states that the run holding the target's own lock is gone. */
  takeOverLock?: string;
}

export interface RunResult extends RunSummary {
  runId: string;
  runbook: Runbook;
  target: ResolvedTarget;
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')}-${randomBytes(3).toString('hex')}`;
}

/** The CA the target names (`ca-file`), so block clients trust the sandbox; production names none. */
async function targetCa(target: ResolvedTarget): Promise<string | undefined> {
  const caFile = target.maybe('ca-file');
  return caFile ? readFile(caFile, 'utf8') : undefined;
}

/**
 * `msal`, `graph` and the whole of zx (for `fs`, `glob`, `YAML`, `sleep`, `retry`) are heavy to load; a run pays for
 * them only when its blocks name them, by the same reading that decides what each block receives (compile.ts). The
 * block thread loads them (runtime.ts, libraries.ts).
 */
function blockModules(runbook: Runbook): string[] {
  const named = new Set(runbook.blocks.flatMap((block) => globalsUsedBy(block.code)));
  const modules = ['msal', 'graph'].filter((name) => named.has(name));
  return ZX_LIBRARY_GLOBALS.some((name) => named.has(name)) ? [...modules, 'zx'] : modules;
}

/** The document as the reports need it, carried by `run-begin`: no reporter reads or parses the file again. */
function runDocument(runbook: Runbook, repoPath: string): RunDocument {
  return {
    file: runbook.file,
    repoPath,
    digest: runbook.digest,
    source: runbook.source,
    frontMatterEnd: runbook.frontMatter.span?.end.offset ?? 0,
    blocks: runbook.blocks.flatMap((block) => (block.stepId ? [{ id: block.id, stepId: block.stepId, role: block.role, span: block.span }] : [])),
  };
}

/**
 * A run with no one to answer must not stop half-way at a question: it is refused before the first step, naming every
 * `confirm` and operator step it would meet.
 */
function refuseUnanswerable(runbook: Runbook, plan: PlannedStep[], request: RunRequest, sandbox: boolean): void {
  const questions = questionsOf(plan, {
    sandbox,
    yes: request.yes ?? false,
    automate: request.automate ?? false,
    manualSteps: request.manualSteps ?? 'default',
    completed: new Set(request.resume?.point.completed.keys() ?? []),
  });
  if (questions.length === 0) return;
  throw new RunbookInputError(
    questions.map(({ step, question }) =>
      diagnostic(
        question === 'confirm'
          ? `Unexpected \`confirm\` step \`${step.id}\` in a run without a terminal, expected --yes (or a run in a terminal)`
          : `Unexpected operator step \`${step.id}\` in a run without a terminal, expected --automate to let its block do it (or a run in a terminal)`,
        { file: runbook.file, place: step.block.span, ruleId: 'unanswerable-step' },
      ),
    ),
  );
}

/** parse -> plan -> (sandbox) -> compile -> execute, reporting through the reporters. */
export async function runFile(request: RunRequest): Promise<RunResult> {
  // The block thread loads (zx, expect: the largest part of a run's start) while the document is parsed and planned,
  // the sandbox starts and the locks are taken; nothing of the document runs in it before the engine seeds it. A run
  // that stops before its first block ends it unused. The one bin/runbook.js started, loading since the process began.
  const preloaded = takeEarlyBlockThread() ?? preloadBlockThread();
  try {
    return await runPreloaded(request, preloaded);
  } finally {
    await preloaded.dispose();
  }
}

async function runPreloaded(request: RunRequest, preloaded: PreloadedThread): Promise<RunResult> {
  const workspace = path.resolve(request.workspace ?? path.dirname(request.file));
  // Asked of git now, answered while the document loads (a process start costs milliseconds on every machine).
  const provenancePending = runProvenance(workspace);
  const repoPathPending = repositoryPath(request.file, workspace);
  // Awaited below; a run refused before then must not leave a rejection unhandled.
  provenancePending.catch(() => undefined);
  // Journals, locks, caches and an embedded sandbox's keys live here: this user's alone.
  privateDir(path.join(workspace, '.runbook'));
  const cacheDir = path.join(workspace, '.runbook', 'cache');
  const runbook = await loadRunbook(request.file, cacheDir);
  const targetName = chooseTarget(runbook, typeof request.target === 'function' ? request.target(runbook) : request.target);
  const plan: PlannedStep[] = planRun(runbook, { target: targetName, from: request.from, only: request.only });
  const profile = targetName !== undefined ? runbook.frontMatter.targets[targetName] : undefined;
  const interaction = request.interaction ?? nonInteractive;
  if (!interaction.interactive && !request.resume?.point.rollback) refuseUnanswerable(runbook, plan, request, profile?.sandbox === true);
  const runId = request.runId ?? newRunId();
  const document = path.resolve(request.file);
  const localLock = acquireLock(request.stateDir ?? defaultStateDir(), lockKey(targetName, request.file), runId, { document, target: targetName });
  const meta: RunMeta = {
    runId,
    file: path.resolve(request.file),
    target: targetName,
    yes: request.yes ?? false,
    automate: request.automate ?? false,
    from: request.from,
    only: request.only,
    startedAt: new Date().toISOString(),
  };
  let journal: Journal | undefined;
  let lease: SandboxLease | undefined;
  let connections: SharedConnections | undefined;
  let remoteLock: RemoteLock | undefined;
  const mux = new Multiplexer(request.reporters);
  // What the document names of msal, graph and zx loads in the thread while the sandbox starts and the locks are taken.
  preloaded.load(blockModules(runbook));
  try {
    if (profile?.sandboxCommand) {
      mux.emit({ kind: 'notice', level: 'info', message: `starting the sandbox of target ${targetName}: ${profile.sandboxCommand}` });
      lease = await commandSandbox(profile.sandboxCommand, path.dirname(path.resolve(request.file)));
    } else if (profile?.sandbox) {
      if (!request.sandbox) throw new Error(`target ${targetName} asks for the sandbox, but no sandbox provider was given`);
      mux.emit({ kind: 'notice', level: 'info', message: `starting the sandbox tenant for target ${targetName} (loopback only)…` });
      lease = await request.sandbox(workspace);
    }
    // Blocks (and the lock on the target) build their ssh/scp commands from the target's `ssh-options`: sharing one
    // connection is an option there.
    connections = shareConnections(resolveTarget(runbook, targetName, lease?.facts));
    const target = connections.target;
    // The lock on the target itself comes before the journal: a refused run leaves no run to resume.
    if (target.maybe('lock') === 'ssh') {
      remoteLock = await acquireRemoteLock({
        target,
        name: remoteLockName(runbook),
        holder: thisHolder(runId, document, targetName),
        takeOver: request.takeOverLock,
        notice: (message) => mux.emit({ kind: 'notice', level: 'warning', message }),
      });
    }
    journal = request.journal === false ? undefined : new Journal(workspace, meta);
    const sinks = [...(request.sinks ?? []), ...(journal ? [(event: RunEvent) => journal!.append(event)] : [])];
    const caPem = await targetCa(target);
    const compiled = await compileRunbook(runbook, cacheDir);
    const redactor = new Redactor();
    const provenance = await provenancePending;
    const auth = await readTargetAuth(target.settings);
    // The credential is a secret like any other: marked before anything of the run is emitted.
    if (auth) redactor.add('TARGET_AUTH', auth.value.replace(/^bearer\s+/i, ''));
    const emit = (event: RunEvent) => {
      const clean = reviveEvent(redactor.redactValue(event));
      for (const sink of sinks) sink(clean);
      mux.emit(clean);
    };
    emit({
      kind: 'run-begin',
      runId,
      file: runbook.file,
      target: target.name,
      sandbox: target.sandbox,
      steps: plan.map(({ step, skip }) => ({ id: step.id, title: step.title, line: step.block.span.start.line, skip })),
      document: runDocument(runbook, await repoPathPending),
      provenance,
      time: new Date().toISOString(),
      resumed: request.resume !== undefined,
    });
    // An internal error's text may quote what a block handled: it leaves the runner redacted like any event.
    const summary = await redactedErrors(redactor, () =>
      runEngine({
        runId,
        runbook,
        compiled,
        plan,
        target,
        emit,
        redactor,
        interaction,
        operator: provenance.operator,
        yes: request.yes ?? false,
        automate: request.automate ?? false,
        manualSteps: request.manualSteps ?? 'default',
        interrupt: request.interrupt ?? new AbortController().signal,
        stop: request.stop,
        cwd: workspace,
        env: { ...process.env, ...request.env },
        state: request.resume?.state ?? {},
        secretNames: new Set(),
        caPem,
        modules: blockModules(runbook),
        preloaded,
        resume: request.resume?.point,
      }),
    );
    if (journal && journal.foreignBytes > 0) {
      // Something else (a block) wrote to the run's journal: the record is no longer the runner's own.
      const message = `the journal of run ${runId} was appended to by something other than the runner (${journal.foreignBytes} bytes): the record is broken; see runbook audit ${runId}`;
      mux.emit({ kind: 'notice', level: 'error', message });
      return { ...summary, exitCode: Math.max(summary.exitCode, 1), status: summary.status === 'passed' ? 'failed' : summary.status, runId, runbook, target };
    }
    return { ...summary, runId, runbook, target };
  } finally {
    // Released while the target is still there (an embedded sandbox's VPS goes with its lease).
    await remoteLock?.release().catch(() => mux.emit({ kind: 'notice', level: 'warning', message: `could not release the lock ${remoteLock?.where}; it names run ${runId}` }));
    // After the lock's release (which rides on it), before the sandbox stops under the master.
    await connections?.close();
    await mux.close();
    await lease?.release();
    journal?.close();
    localLock.release();
  }
}

async function redactedErrors<T>(redactor: Redactor, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof Error) {
      error.message = redactor.redact(error.message);
      if (error.stack) error.stack = redactor.redact(error.stack);
    }
    throw error;
  }
}
