import { diagnostic, type RunRule } from '../diagnostics.ts';
import type { Block, Runbook, Step } from '../model.ts';
import { parseDuration } from '../parse/duration.ts';
import type { AnsweredBy, Operator, RollbackCounts, RunEvent, RunMessage, RunStatus, StepCounts, StepStatus } from '../report/events.ts';
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
  /** Who answers the interaction's questions, as the record names them. */
  operator: Operator;
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
  failure?: RunMessage;
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
  readonly #rollbacks: RollbackCounts = { passed: 0, failed: 0, skipped: 0 };
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
      if (resume?.completed.has(step.id)) {
        const value = resume.completed.get(step.id);
        this.#effective.push({ step, result: emptyResult(value) });
        this.#statuses.set(step.id, 'skipped');
        emit({ kind: 'step-skip', stepId: step.id, reason: 'completed before the interruption' });
        continue;
      }
      if (planned.skip) {
        this.#statuses.set(step.id, 'skipped');
        emit({ kind: 'step-skip', stepId: step.id, reason: planned.skip });
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
    const counts: StepCounts = { passed: 0, failed: 0, skipped: 0, interrupted: 0, unreached: 0 };
    for (const planned of plan) counts[this.#statuses.get(planned.step.id) ?? 'unreached'] += 1;
    const exitCode = status === 'passed' ? 0 : status === 'interrupted' ? 130 : 1;
    emit({ kind: 'run-end', status, exitCode, durationMs: performance.now() - started, counts, rollbacks: { ...this.#rollbacks } });
    return { status, exitCode, steps: this.#statuses };
  }

  async #runStep(step: Step, probeFirst: boolean): Promise<StepStatus> {
    const { emit, target, interaction, yes, automate, runbook, operator } = this.#options;
    const started = performance.now();
    const end = (status: StepStatus, failure?: RunMessage, value?: unknown) => {
      emit({ kind: 'step-end', stepId: step.id, status, durationMs: performance.now() - started, failure, value });
      return status;
    };
    const declined = (reason: string): RunMessage => diagnostic(reason, { file: runbook.file, place: step.block.span, ruleId: 'run-declined' });
    const answered = (action: 'confirm' | 'manual', answer: Extract<RunEvent, { kind: 'operator' }>['answer'], by: AnsweredBy) =>
      emit({ kind: 'operator', stepId: step.id, action, prose: step.intro, answer, by, time: new Date().toISOString() });
    const byOperator: AnsweredBy = { kind: 'operator', operator };

    emit({ kind: 'step-begin', stepId: step.id, attempt: 1, time: new Date().toISOString() });

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

    // Every question is answered on the record, by whom or what: a sandbox answers its own (and says so), a flag
    // answers for the operator, a person answers at the terminal.
    let runBlock = true;
    if (step.options.confirm) {
      if (target.sandbox) answered('confirm', 'yes', { kind: 'sandbox' });
      else if (yes) answered('confirm', 'yes', { kind: 'yes-flag' });
      else if (!interaction.interactive) return end('failed', declined(`Unexpected confirm step \`${step.id}\` without a terminal, expected a terminal or --yes`));
      else {
        answered('confirm', '', byOperator);
        const confirmed = await interaction.confirm(step);
        answered('confirm', confirmed ? 'yes' : 'no', byOperator);
        if (!confirmed) return end('failed', declined(`Step \`${step.id}\` was declined by the operator`));
      }
    }
    if (step.options.manual) {
      const operatorDoesIt = this.#options.manualSteps === 'operator' || (!target.sandbox && !automate);
      if (!operatorDoesIt) answered('manual', 'automate', target.sandbox ? { kind: 'sandbox' } : { kind: 'automate-flag' });
      else if (!interaction.interactive) {
        return end('failed', declined(`Unexpected operator action \`${step.id}\` without a terminal, expected a terminal, or --automate to let its block do it`));
      } else {
        answered('manual', '', byOperator);
        const answer = await interaction.manual(step);
        answered('manual', answer, byOperator);
        if (answer === 'abort') return end('failed', declined(`Step \`${step.id}\` was aborted by the operator`));
        runBlock = answer === 'automate';
      }
    }

    const attempts = step.options.retries + 1;
    let lastFailure: RunMessage | undefined;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) {
        emit({ kind: 'step-retry', stepId: step.id, attempt, delayMs: step.options.retryDelayMs, failure: lastFailure! });
        await new Promise((resolve) => setTimeout(resolve, step.options.retryDelayMs * (attempt - 1)));
      }
      let result: StepResult;
      if (runBlock) {
        const outcome = await this.#runBlock(step.block, step, attempt, step.options.timeoutMs);
        if (outcome.failure?.ruleId === 'run-interrupted') return end('interrupted', outcome.failure);
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
      if (lastFailure?.ruleId === 'run-interrupted') return end('interrupted', lastFailure);
      if (!lastFailure) return end('passed', undefined, result.value);
    }
    return end('failed', lastFailure);
  }

  #rememberEffect(step: Step, result: StepResult): void {
    const index = this.#effective.findIndex((entry) => entry.step === step);
    if (index >= 0) this.#effective.splice(index, 1);
    this.#effective.push({ step, result });
  }

  #checkExpects(step: Step, outcome: BlockOutcome): RunMessage | undefined {
    const { emit, redactor, runbook } = this.#options;
    const printed = redactor.redact(outcome.capture.text());
    for (const block of step.expects) {
      const started = performance.now();
      emit({ kind: 'block-begin', blockId: block.id, stepId: step.id, role: 'expect', time: new Date().toISOString() });
      const mismatch = matchExpected(block.code, printed);
      let failure: RunMessage | undefined;
      if (mismatch) {
        const line = block.codeLine + Math.min(mismatch.expectedIndex, Math.max(0, block.span.end.line - block.codeLine - 1));
        const actual = mismatch.actual ?? '(end of output)';
        failure = diagnostic('Unexpected output, expected what the expect block documents', {
          file: runbook.file,
          place: { line, column: 1 },
          ruleId: 'run-expect',
          actual,
          expected: [mismatch.expected],
          note: [`expected: ${mismatch.expected}`, `actual:   ${actual}`].join('\n'),
        });
      }
      emit({ kind: 'block-end', blockId: block.id, stepId: step.id, role: 'expect', status: failure ? 'failed' : 'passed', durationMs: performance.now() - started, failure });
      if (failure) return failure;
    }
    return undefined;
  }

  async #checkVerifies(step: Step, result: StepResult, attempt: number): Promise<RunMessage | undefined> {
    for (const block of step.verifies) {
      const outcome = await this.#runBlock(block, step, attempt, timeoutOf(block, step.options.timeoutMs), result);
      if (outcome.failure) return outcome.failure;
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
    emit({ kind: 'block-begin', blockId: block.id, stepId: step.id, role: block.role, time: new Date().toISOString() });
    const capture = new OutputCapture((line) => {
      emit({ kind: 'output', blockId: block.id, stepId: step.id, role: block.role, stream: line.stream, text: redactor.redact(line.text) });
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
    let failure: RunMessage | undefined;
    try {
      if (!fn) throw new Error(`block on line ${block.span.start.line} was not compiled`);
      value = await race(fn(context), timeoutMs, controller, interrupt);
    } catch (error) {
      const rule: RunRule | undefined = error instanceof Interrupted ? 'run-interrupted' : error instanceof Error && error.name === 'TimeoutError' ? 'run-timeout' : undefined;
      failure = describeError(error, runbook.file, block, redactor, rule, commandStack.stack ?? '', options.compiled);
      if (rule === 'run-timeout') {
        failure = diagnostic(`Unexpected ${block.role} still running after ${timeoutMs / 1000}s, expected it to end within its timeout (raise it with timeout=)`, {
          file: runbook.file,
          place: failure.place,
          ruleId: 'run-timeout',
        });
      }
    }
    capture.flush();
    const durationMs = performance.now() - started;
    emit({ kind: 'block-end', blockId: block.id, stepId: step.id, role: block.role, status: failure ? 'failed' : 'passed', durationMs, failure });
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
      if (stopped) {
        this.#rollbacks.skipped += 1;
        emit({ kind: 'rollback-end', stepId: step.id, blockId: rollback.id, status: 'skipped', durationMs: 0 });
        continue;
      }
      emit({ kind: 'rollback-begin', stepId: step.id, blockId: rollback.id, time: new Date().toISOString() });
      const outcome = await this.#runBlock(rollback, step, 1, timeoutOf(rollback, step.options.timeoutMs), result, new AbortController().signal);
      this.#rollbacks[outcome.failure ? 'failed' : 'passed'] += 1;
      emit({ kind: 'rollback-end', stepId: step.id, blockId: rollback.id, status: outcome.failure ? 'failed' : 'passed', durationMs: outcome.durationMs, failure: outcome.failure });
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
