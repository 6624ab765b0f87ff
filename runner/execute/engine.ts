import type { Block, Runbook, Step } from '../model.ts';
import { parseDuration } from '../../common/duration.ts';
import { EXIT } from '../../common/exit.ts';
import type { Failure, RunEvent, RunStatus, StepStatus } from '../report/events.ts';
import type { PlannedStep } from '../plan/index.ts';
import type { ResolvedTarget } from '../target.ts';
import { OutputCapture } from './capture.ts';
import type { CompiledRunbook } from './compile.ts';
import { createBlockContext, type Net, type StepResult } from './context.ts';
import { matchExpected } from './expect-text.ts';
import { describeError } from './failure.ts';
import type { Redactor } from './redact.ts';

/** How the engine talks to the person at the keyboard; the CLI provides prompts, tests provide scripted answers. */
export interface Interaction {
  readonly interactive: boolean;
  confirm(step: Step): Promise<boolean>;
  /** Shows the operator action (the prose) and waits: did they do it, should the automation do it, or abort? */
  manual(step: Step): Promise<'done' | 'automate' | 'abort'>;
}

export const nonInteractive: Interaction = {
  interactive: false,
  confirm: async () => false,
  manual: async () => 'abort',
};

/** What an earlier, interrupted run of the same document left behind (from its journal). */
export interface ResumePoint {
  /** Steps that finished; their values are restored and their rollbacks still run if this run fails. */
  completed: Map<string, unknown>;
  /** A step that began but never ended: its verifies decide whether it already took effect. */
  unfinished?: string;
}

export interface RunOptions {
  runId: string;
  runbook: Runbook;
  compiled: CompiledRunbook;
  plan: PlannedStep[];
  target: ResolvedTarget;
  /** Receives every event, already redacted. */
  emit: (event: RunEvent) => void;
  redactor: Redactor;
  interaction: Interaction;
  yes: boolean;
  automate: boolean;
  /**
   * Who performs `manual` steps. Default: their automation on a sandbox or with --automate, the operator otherwise.
   * 'operator' sends them to the interaction even on a sandbox (the browser replay acts as the operator).
   */
  manualSteps?: 'default' | 'operator';
  interrupt: AbortSignal;
  cwd: string;
  env: NodeJS.ProcessEnv;
  state: Record<string, unknown>;
  secretNames: Set<string>;
  fetch: typeof fetch;
  modules: Record<string, unknown>;
  net: Net;
  /** Starts block commands (see spawner.ts). */
  spawn?: typeof import('node:child_process').spawn;
  resume?: ResumePoint;
}

export interface RunSummary {
  status: RunStatus;
  exitCode: number;
  steps: Map<string, StepStatus>;
}

interface BlockOutcome {
  value: unknown;
  capture: OutputCapture;
  durationMs: number;
  exitCode: number | null;
  failure?: Failure;
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Resolves with the block's result, or rejects on timeout or interrupt; the attempt's signal kills its commands. */
function race<T>(promise: Promise<T>, timeoutMs: number, controller: AbortController, interrupt: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new Error(`timed out after ${timeoutMs / 1000}s`);
      error.name = 'TimeoutError';
      controller.abort(error);
      reject(error);
    }, timeoutMs);
    const onInterrupt = () => {
      controller.abort(new Interrupted());
      reject(new Interrupted());
    };
    if (interrupt.aborted) onInterrupt();
    interrupt.addEventListener('abort', onInterrupt, { once: true });
    promise.then(
      (value) => {
        clearTimeout(timer);
        interrupt.removeEventListener('abort', onInterrupt);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        interrupt.removeEventListener('abort', onInterrupt);
        reject(error);
      },
    );
  });
}

export class Engine {
  readonly #options: RunOptions;
  readonly #statuses = new Map<string, StepStatus>();
  /** Steps whose action took effect, most recent last: what rollbacks undo. */
  readonly #effective: { step: Step; result: StepResult }[] = [];

  constructor(options: RunOptions) {
    this.#options = options;
  }

  async run(): Promise<RunSummary> {
    const { plan, emit, interrupt, resume } = this.#options;
    const started = performance.now();
    let status: RunStatus = 'passed';

    for (const planned of plan) {
      const { step } = planned;
      const line = step.block.span.start.line;
      const title = step.heading?.text ?? step.id;
      if (resume?.completed.has(step.id)) {
        const value = resume.completed.get(step.id);
        this.#effective.push({ step, result: emptyResult(value) });
        this.#statuses.set(step.id, 'skipped');
        emit({ kind: 'step-skip', stepId: step.id, title, line, reason: 'completed before the interruption' });
        continue;
      }
      if (planned.skip) {
        this.#statuses.set(step.id, 'skipped');
        emit({ kind: 'step-skip', stepId: step.id, title, line, reason: planned.skip });
        continue;
      }
      if (interrupt.aborted) {
        status = 'interrupted';
        break;
      }
      const outcome = await this.#runStep(step, resume?.unfinished === step.id);
      this.#statuses.set(step.id, outcome);
      // The snapshot after each finished step is what `runbook resume` restores (the emitter redacts it).
      if (outcome === 'passed') emit({ kind: 'state', stepId: step.id, state: snapshot(this.#options.state), secrets: [...this.#options.secretNames] });
      if (outcome !== 'passed') {
        status = outcome === 'interrupted' ? 'interrupted' : 'failed';
        break;
      }
    }

    if (status !== 'passed') await this.#rollback();
    const counts: Record<StepStatus, number> = { passed: 0, failed: 0, skipped: 0, interrupted: 0 };
    for (const value of this.#statuses.values()) counts[value] += 1;
    const exitCode = status === 'passed' ? EXIT.ok : status === 'interrupted' ? EXIT.interrupted : EXIT.failed;
    emit({ kind: 'run-end', status, exitCode, durationMs: performance.now() - started, counts });
    return { status, exitCode, steps: this.#statuses };
  }

  async #runStep(step: Step, probeFirst: boolean): Promise<StepStatus> {
    const { emit, target, interaction, yes, automate, runbook } = this.#options;
    const line = step.block.span.start.line;
    const title = step.heading?.text ?? step.id;
    const started = performance.now();
    const end = (status: StepStatus, failure?: Failure, value?: unknown) => {
      emit({ kind: 'step-end', stepId: step.id, title, line, status, durationMs: performance.now() - started, failure, value });
      return status;
    };
    const stepFailure = (kind: string, message: string): Failure => ({
      kind,
      message,
      details: [],
      location: { file: runbook.file, line, column: 1 },
    });

    emit({ kind: 'step-begin', stepId: step.id, title, line, attempt: 1 });

    // A step interrupted mid-way in an earlier run may already have taken effect: its verifies decide.
    if (probeFirst && step.verifies.length > 0) {
      const probe = emptyResult(undefined);
      const failure = await this.#checkVerifies(step, probe, 1);
      if (!failure) {
        this.#effective.push({ step, result: probe });
        emit({ kind: 'notice', level: 'info', message: `${step.id}: already took effect before the interruption (its verify passed); not run again` });
        return end('passed');
      }
    }

    let runBlock = true;
    if (step.options.confirm && !target.sandbox && !yes) {
      if (!interaction.interactive) {
        return end('failed', stepFailure('declined', `step ${step.id} asks for confirmation: rerun in a terminal or with --yes`));
      }
      emit({ kind: 'operator', stepId: step.id, line, action: 'confirm', prose: step.intro, answer: '' });
      const confirmed = await interaction.confirm(step);
      emit({ kind: 'operator', stepId: step.id, line, action: 'confirm', prose: step.intro, answer: confirmed ? 'yes' : 'no' });
      if (!confirmed) return end('failed', stepFailure('declined', `step ${step.id} was declined by the operator`));
    }
    const operatorDoesIt = this.#options.manualSteps === 'operator' || (!target.sandbox && !automate);
    if (step.options.manual && operatorDoesIt) {
      if (!interaction.interactive) {
        return end('failed', stepFailure('declined', `step ${step.id} is an operator action: run in a terminal, or pass --automate to let its block do it`));
      }
      emit({ kind: 'operator', stepId: step.id, line, action: 'manual', prose: step.intro, answer: '' });
      const answer = await interaction.manual(step);
      emit({ kind: 'operator', stepId: step.id, line, action: 'manual', prose: step.intro, answer });
      if (answer === 'abort') return end('failed', stepFailure('declined', `step ${step.id} was aborted by the operator`));
      runBlock = answer === 'automate';
    }

    const attempts = step.options.retries + 1;
    let lastFailure: Failure | undefined;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) {
        emit({ kind: 'step-retry', stepId: step.id, attempt, delayMs: step.options.retryDelayMs, failure: lastFailure! });
        await new Promise((resolve) => setTimeout(resolve, step.options.retryDelayMs * (attempt - 1)));
      }
      let result: StepResult;
      if (runBlock) {
        const outcome = await this.#runBlock(step.block, step, attempt, step.options.timeoutMs);
        if (outcome.failure?.kind === 'interrupted') return end('interrupted', outcome.failure);
        result = toResult(outcome);
        if (outcome.failure) {
          lastFailure = outcome.failure;
          continue;
        }
        // The action ran: from here on, a failure must undo it.
        this.#rememberEffect(step, result);
        lastFailure = this.#checkExpects(step, outcome);
      } else {
        result = emptyResult(undefined);
        this.#rememberEffect(step, result);
        lastFailure = undefined;
      }
      lastFailure ??= await this.#checkVerifies(step, result, attempt);
      if (lastFailure?.kind === 'interrupted') return end('interrupted', lastFailure);
      if (!lastFailure) return end('passed', undefined, result.value);
    }
    return end('failed', lastFailure);
  }

  #rememberEffect(step: Step, result: StepResult): void {
    const index = this.#effective.findIndex((entry) => entry.step === step);
    if (index >= 0) this.#effective.splice(index, 1);
    this.#effective.push({ step, result });
  }

  #checkExpects(step: Step, outcome: BlockOutcome): Failure | undefined {
    const { emit, redactor, runbook } = this.#options;
    const printed = redactor.redact(outcome.capture.text());
    for (const block of step.expects) {
      const started = performance.now();
      const mismatch = matchExpected(block.code, printed);
      let failure: Failure | undefined;
      if (mismatch) {
        const line = block.codeLine + Math.min(mismatch.expectedIndex, Math.max(0, block.span.end.line - block.codeLine - 1));
        failure = {
          kind: 'expect',
          message: 'output differs from the documented expect block',
          location: { file: runbook.file, line, column: 1 },
          details: [`expected: ${mismatch.expected}`, `actual:   ${mismatch.actual ?? '(end of output)'}`],
        };
      }
      emit({ kind: 'block-end', stepId: step.id, role: 'expect', line: block.span.start.line, status: failure ? 'failed' : 'passed', durationMs: performance.now() - started, failure });
      if (failure) return failure;
    }
    return undefined;
  }

  async #checkVerifies(step: Step, result: StepResult, attempt: number): Promise<Failure | undefined> {
    for (const block of step.verifies) {
      const outcome = await this.#runBlock(block, step, attempt, timeoutOf(block, step.options.timeoutMs), result);
      if (outcome.failure) return { ...outcome.failure, kind: outcome.failure.kind === 'error' ? 'verify' : outcome.failure.kind };
    }
    return undefined;
  }

  /** `interrupt` is the run's signal, except for rollbacks: they must run even after an interrupt. */
  async #runBlock(
    block: Block,
    step: Step,
    attempt: number,
    timeoutMs: number,
    result?: StepResult,
    interrupt: AbortSignal = this.#options.interrupt,
  ): Promise<BlockOutcome> {
    const options = this.#options;
    const { emit, redactor, runbook } = options;
    emit({ kind: 'block-begin', stepId: step.id, role: block.role, line: block.span.start.line });
    const capture = new OutputCapture((line) => {
      emit({ kind: 'output', stepId: step.id, role: block.role, stream: line.stream, text: redactor.redact(line.text) });
    });
    const controller = new AbortController();
    let exitCode: number | null = null;
    // The Error of the latest command start; its stack is only formatted if that command fails.
    let commandStack: Error = new Error();
    const context = createBlockContext(
      {
        cwd: options.cwd,
        env: options.env,
        target: options.target,
        state: options.state,
        redactor,
        secretNames: options.secretNames,
        fetch: options.fetch,
        modules: options.modules,
        net: options.net,
        spawn: options.spawn,
      },
      block,
      step,
      capture,
      controller.signal,
      { result, attempt, onCommandEnd: (code) => (exitCode = code), onCommandStart: (origin) => (commandStack = origin) },
    );
    const fn = options.compiled.blocks[block.index];
    const started = performance.now();
    let value: unknown;
    let failure: Failure | undefined;
    try {
      if (!fn) throw new Error(`block on line ${block.span.start.line} was not compiled`);
      value = await race(fn(context), timeoutMs, controller, interrupt);
    } catch (error) {
      const kind = error instanceof Interrupted ? 'interrupted' : error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'error';
      failure = describeError(error, runbook.file, block, redactor, kind, commandStack.stack ?? '', options.compiled);
      if (kind === 'timeout') failure.message = `${block.role} timed out after ${timeoutMs / 1000}s (raise it with timeout=)`;
    }
    capture.flush();
    const durationMs = performance.now() - started;
    emit({ kind: 'block-end', stepId: step.id, role: block.role, line: block.span.start.line, status: failure ? 'failed' : 'passed', durationMs, failure });
    return { value, capture, durationMs, exitCode, failure };
  }

  /** Undoes what took effect, newest first. A rollback that fails stops the rest: running an earlier step's undo on
   * top of a half-undone later one is how both secrets end up dead. */
  async #rollback(): Promise<void> {
    const { emit } = this.#options;
    const pending = [...this.#effective].reverse();
    let stopped = false;
    for (const { step, result } of pending) {
      const rollback = step.rollback;
      if (!rollback) continue;
      const line = rollback.span.start.line;
      if (stopped) {
        emit({ kind: 'rollback-end', stepId: step.id, line, status: 'skipped', durationMs: 0 });
        continue;
      }
      emit({ kind: 'rollback-begin', stepId: step.id, line });
      const outcome = await this.#runBlock(rollback, step, 1, timeoutOf(rollback, step.options.timeoutMs), result, new AbortController().signal);
      emit({ kind: 'rollback-end', stepId: step.id, line, status: outcome.failure ? 'failed' : 'passed', durationMs: outcome.durationMs, failure: outcome.failure });
      if (outcome.failure) {
        stopped = true;
        emit({ kind: 'notice', level: 'error', message: `rollback of ${step.id} failed; earlier rollbacks were not run — finish them by hand` });
      }
    }
  }
}

function timeoutOf(block: Block, fallback: number): number {
  const value = block.attributes['timeout'];
  return (typeof value === 'string' ? parseDuration(value) : undefined) ?? fallback;
}

/** A JSON-safe copy of the shared state; values that cannot be serialised are dropped, not thrown on. */
function snapshot(state: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(state) ?? '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

function emptyResult(value: unknown): StepResult {
  return { value, stdout: '', stderr: '', output: '', exitCode: null, durationMs: 0 };
}

function toResult(outcome: BlockOutcome): StepResult {
  return {
    value: outcome.value,
    stdout: outcome.capture.text('stdout'),
    stderr: outcome.capture.text('stderr'),
    output: outcome.capture.text(),
    exitCode: outcome.exitCode,
    durationMs: outcome.durationMs,
  };
}

export async function runEngine(options: RunOptions): Promise<RunSummary> {
  return new Engine(options).run();
}
