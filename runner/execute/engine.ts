import path from 'node:path';
import { diagnostic, startOf, type RunRule } from '../../common/diagnostics.ts';
import type { Block, Runbook, Step } from '../model.ts';
import { parseDuration } from '../../common/duration.ts';
import { EXIT } from '../../common/exit.ts';
import type { AnsweredBy, Operator, RollbackCounts, RunEvent, RunMessage, RunStatus, StepCounts, StepStatus } from '../report/events.ts';
import type { PlannedStep } from '../plan/index.ts';
import type { ResolvedTarget } from '../target.ts';
import { OutputCapture } from './capture.ts';
import type { CompiledRunbook } from './compile.ts';
import type { StepResult } from './context.ts';
import { matchExpected } from './expect-text.ts';
import { describeCrash } from './locate.ts';
import type { Redactor } from './redact.ts';
import { BlockRuntime, type BlockEnd, type PreloadedThread, type WorkerSeed } from './runtime.ts';

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
  /** The run had begun rolling back: only these rollbacks remain (newest first), and the run never goes forward. */
  rollback?: { pending: string[]; reason: 'failed' | 'interrupted' };
}

export interface RunOptions {
  runId: string;
  runbook: Runbook;
  compiled: CompiledRunbook;
  plan: PlannedStep[];
  target: ResolvedTarget;
  /** A block thread started ahead of the run (it loads while the sandbox starts); adopted as the first thread. */
  preloaded?: PreloadedThread;
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
  /** A second interrupt: stops the rollbacks too (the journal keeps what is left for `runbook resume`). */
  stop?: AbortSignal;
  cwd: string;
  env: NodeJS.ProcessEnv;
  state: Record<string, unknown>;
  secretNames: Set<string>;
  /** The CA the target trusts (blocks' clients add it to the default roots). */
  caPem?: string;
  /** Heavy modules the document's blocks name (`msal`, `graph`). */
  modules: string[];
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

/**
 * Waits for the block, or for its timeout or the interrupt, whichever comes first. It never waits on a block that was
 * given up on: the caller stops the thread before anything else happens.
 */
function race(pending: { started: Promise<void>; end: Promise<BlockEnd> }, timeoutMs: number, interrupt: AbortSignal): Promise<BlockEnd | 'timeout' | 'interrupted'> {
  return new Promise((resolve) => {
    let done = false;
    // The timeout is the block's own time: it counts from the moment the block begins, not while a thread loads.
    let timer: NodeJS.Timeout | undefined;
    void pending.started.then(() => {
      if (!done) timer = setTimeout(() => finish('timeout'), timeoutMs);
    });
    const onInterrupt = () => finish('interrupted');
    const finish = (outcome: BlockEnd | 'timeout' | 'interrupted') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      interrupt.removeEventListener('abort', onInterrupt);
      resolve(outcome);
    };
    if (interrupt.aborted) return finish('interrupted');
    interrupt.addEventListener('abort', onInterrupt, { once: true });
    void pending.end.then(finish);
  });
}

/** One step whose action began (and so may have taken effect), with what a rollback or verify sees of it. */
interface Effect {
  step: Step;
  result: StepResult;
}

/** How the rollback phase ended: all done, or stopped at `at` with `left` (newest first, `at` included) not done. */
type RollbackOutcome =
  | { stopped: false; undone: Step[] }
  | { stopped: 'failed' | 'refused' | 'interrupted'; undone: Step[]; at: Step; failure: RunMessage; left: Step[] };

/** A `manual` step is done by the operator unless the run automates it (sandbox, --automate). */
function operatorDoesManualSteps(options: Pick<RunOptions, 'manualSteps' | 'automate'> & { sandbox: boolean }): boolean {
  return options.manualSteps === 'operator' || (!options.sandbox && !options.automate);
}

/** The questions a run will have to ask: `confirm` steps (unless --yes or a sandbox) and operator actions. */
export function questionsOf(
  plan: readonly PlannedStep[],
  options: Pick<RunOptions, 'manualSteps' | 'automate' | 'yes'> & { sandbox: boolean; completed?: ReadonlySet<string> },
): { step: Step; question: 'confirm' | 'manual' }[] {
  const questions: { step: Step; question: 'confirm' | 'manual' }[] = [];
  for (const { step, skip } of plan) {
    if (skip || options.completed?.has(step.id)) continue;
    if (step.options.confirm && !options.sandbox && !options.yes) questions.push({ step, question: 'confirm' });
    else if (step.options.manual && operatorDoesManualSteps(options)) questions.push({ step, question: 'manual' });
  }
  return questions;
}

const stepList = (steps: readonly Step[]) => steps.map((step) => `${step.id} (line ${step.block.span.start.line})`).join(', ');

export class Engine {
  readonly #options: RunOptions;
  readonly #statuses = new Map<string, StepStatus>();
  readonly #rollbackCounts: RollbackCounts = { passed: 0, failed: 0, skipped: 0 };
  /** Steps whose action began, most recent last: what rollbacks undo. */
  readonly #effective: Effect[] = [];
  /** Secrets blocks marked, for a fresh thread to know them too. */
  readonly #secrets: [string, string][] = [];
  /** The thread the blocks run in (runtime.ts); it runs the document's setup each time it starts. */
  readonly #runtime: BlockRuntime;
  /** Where the running block's output goes. */
  #capture: OutputCapture | undefined;

  constructor(options: RunOptions) {
    this.#options = options;
    this.#runtime = new BlockRuntime(
      {
      seed: () => this.#seed(),
      onSecret: (name, value) => {
        options.redactor.add(name, value);
        options.secretNames.add(name);
        this.#secrets.push([name, value]);
      },
      onOutput: (stream, data) => this.#capture?.write(stream, data),
      onState: (update) => {
        const state = options.state;
        if ('all' in update) {
          for (const key of Object.keys(state)) delete state[key];
          Object.assign(state, JSON.parse(update.all) as Record<string, unknown>);
        } else if (update.json === undefined) delete state[update.key];
        else state[update.key] = JSON.parse(update.json);
      },
      },
      options.preloaded,
    );
  }

  #seed(): WorkerSeed {
    const { compiled, cwd, env, target, caPem, modules, state, runbook } = this.#options;
    return {
      modulePath: compiled.modulePath,
      file: runbook.file,
      setup: runbook.blocks.find((block) => block.role === 'setup') ?? runbook.blocks[0],
      cwd,
      env,
      target: { name: target.name, sandbox: target.sandbox, settings: { ...target.settings } },
      caPem,
      modules,
      state,
      secrets: this.#secrets,
    };
  }

  async run(): Promise<RunSummary> {
    try {
      return await this.#run();
    } finally {
      this.#runtime.close();
    }
  }

  async #run(): Promise<RunSummary> {
    const { emit, resume } = this.#options;
    // Setup first, whatever follows: a resumed rollback relies on its helpers as much as a step does. The thread
    // runs it as it loads, before the first step, so no step's time includes it.
    const setupFailure = await this.#runtime.ready();
    const started = performance.now();
    if (setupFailure) {
      emit({ kind: 'notice', level: 'error', message: `${setupFailure.file}:${setupFailure.line}:${setupFailure.column}: setup failed: ${setupFailure.reason}` });
      const counts: StepCounts = { passed: 0, failed: 0, skipped: 0, interrupted: 0, unreached: this.#options.plan.length };
      emit({ kind: 'run-end', status: 'failed', exitCode: EXIT.failed, durationMs: performance.now() - started, counts, rollbacks: { ...this.#rollbackCounts } });
      return { status: 'failed', exitCode: EXIT.failed, steps: this.#statuses };
    }
    const status = resume?.rollback ? await this.#resumeRollback(resume.rollback) : await this.#forward();
    const counts: StepCounts = { passed: 0, failed: 0, skipped: 0, interrupted: 0, unreached: 0 };
    // A step the plan leaves out (`when=`, on demand) is skipped wherever the run stopped; only a step that was to run
    // and never did is "not reached".
    for (const planned of this.#options.plan) counts[this.#statuses.get(planned.step.id) ?? (planned.skip ? 'skipped' : 'unreached')] += 1;
    const exitCode = status === 'passed' ? EXIT.ok : status === 'interrupted' ? EXIT.interrupted : EXIT.failed;
    emit({ kind: 'run-end', status, exitCode, durationMs: performance.now() - started, counts, rollbacks: { ...this.#rollbackCounts } });
    return { status, exitCode, steps: this.#statuses };
  }

  async #forward(): Promise<RunStatus> {
    const { plan, emit, interrupt, resume } = this.#options;
    let status: RunStatus = 'passed';
    let failed: { step: Step; failure?: RunMessage } | undefined;
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
      this.#statuses.set(step.id, outcome.status);
      // The snapshot after each finished step is what `runbook resume` restores (the emitter redacts it).
      if (outcome.status === 'passed') emit({ kind: 'state', stepId: step.id, state: snapshot(this.#options.state), secrets: [...this.#options.secretNames] });
      if (outcome.status !== 'passed') {
        status = outcome.status === 'interrupted' ? 'interrupted' : 'failed';
        failed = { step, failure: outcome.failure };
        break;
      }
    }
    if (status === 'passed') return status;
    return this.#turnBack(status, failed);
  }

  /**
   * After a failure or an interrupt: undo what took effect, newest first, but never past the point of no return (the
   * newest irreversible step that began: from there, undoing earlier steps would take away what is now in service).
   */
  async #turnBack(status: RunStatus, failed: { step: Step; failure?: RunMessage } | undefined): Promise<RunStatus> {
    const { emit } = this.#options;
    const newestFirst = [...this.#effective].reverse();
    const pointIndex = newestFirst.findIndex(({ step }) => step.options.irreversible);
    const undoable = pointIndex >= 0 ? newestFirst.slice(0, pointIndex + 1) : newestFirst;
    const toUndo = undoable.filter(({ step }) => step.rollback);
    emit({ kind: 'rollback-plan', reason: status === 'interrupted' ? 'interrupted' : 'failed', stepIds: toUndo.map(({ step }) => step.id) });
    // A fresh thread, seeded with the last state: nothing the failed block left running can act during the rollbacks.
    await this.#runtime.restart();
    if (toUndo.length > 0) await this.#runtime.ready();
    const outcome = await this.#rollbacks(toUndo);
    if (outcome.stopped === 'interrupted') return 'interrupted';
    const point = pointIndex >= 0 ? newestFirst[pointIndex]!.step : undefined;
    if (point || outcome.stopped === 'refused') this.#forwardFix(failed, outcome, point);
    return status;
  }

  /** Continues the rollbacks an earlier run of this journal had begun: only those, never a step forward. */
  async #resumeRollback(rollback: NonNullable<ResumePoint['rollback']>): Promise<RunStatus> {
    const { plan, emit, resume } = this.#options;
    const byId = new Map(plan.map(({ step }) => [step.id, step]));
    for (const { step } of plan) {
      this.#statuses.set(step.id, 'skipped');
      emit({ kind: 'step-skip', stepId: step.id, reason: 'the run was rolling back' });
    }
    const toUndo = rollback.pending.flatMap((id) => {
      const step = byId.get(id);
      return step ? [{ step, result: emptyResult(resume?.completed.get(id)) }] : [];
    });
    emit({ kind: 'notice', level: 'info', message: `resuming the rollbacks this run had begun: ${stepList(toUndo.map(({ step }) => step)) || 'none left'}` });
    emit({ kind: 'rollback-plan', reason: rollback.reason, stepIds: toUndo.map(({ step }) => step.id) });
    const outcome = await this.#rollbacks(toUndo);
    if (outcome.stopped === 'interrupted') return 'interrupted';
    if (outcome.stopped === 'refused') this.#forwardFix(undefined, outcome, undefined);
    return rollback.reason === 'interrupted' ? 'interrupted' : 'failed';
  }

  /**
   * Runs rollbacks newest first. One that fails, refuses or is stopped ends the phase: running an earlier step's undo
   * on top of a half-undone later one is how both secrets end up dead.
   */
  async #rollbacks(toUndo: Effect[]): Promise<RollbackOutcome> {
    const { emit, runId } = this.#options;
    const stop = this.#options.stop ?? new AbortController().signal;
    const undone: Step[] = [];
    for (let index = 0; index < toUndo.length; index += 1) {
      const { step, result } = toUndo[index]!;
      const rollback = step.rollback!;
      let failure: RunMessage | undefined;
      if (stop.aborted) {
        failure = diagnostic('Unexpected second interrupt, the rollback was stopped before it began', { file: this.#options.runbook.file, place: rollback.span, ruleId: 'run-interrupted' });
      } else {
        emit({ kind: 'rollback-begin', stepId: step.id, blockId: rollback.id, time: new Date().toISOString() });
        const outcome = await this.#runBlock(rollback, step, 1, timeoutOf(rollback, step.options.timeoutMs), result, stop);
        failure = outcome.failure;
        this.#rollbackCounts[failure ? 'failed' : 'passed'] += 1;
        emit({ kind: 'rollback-end', stepId: step.id, blockId: rollback.id, status: failure ? 'failed' : 'passed', durationMs: outcome.durationMs, failure });
      }
      if (!failure) {
        undone.push(step);
        continue;
      }
      const left = toUndo.slice(index).map((effect) => effect.step);
      for (const skipped of left.slice(1)) {
        this.#rollbackCounts.skipped += 1;
        emit({ kind: 'rollback-end', stepId: skipped.id, blockId: skipped.rollback!.id, status: 'skipped', durationMs: 0 });
      }
      const stopped = failure.ruleId === 'run-interrupted' ? 'interrupted' : failure.ruleId === 'run-refused' ? 'refused' : 'failed';
      if (stopped === 'interrupted') {
        emit({ kind: 'notice', level: 'error', message: `stopped during the rollbacks; still to do, newest first: ${stepList(left)}. \`runbook resume ${runId}\` does them` });
      } else if (stopped === 'failed') {
        emit({
          kind: 'notice',
          level: 'error',
          message: `rollback of ${step.id} failed; ${left.length > 1 ? `the rollbacks of ${stepList(left.slice(1))} were not run` : 'no earlier rollback was left'}. Fix the cause, then \`runbook resume ${runId}\` runs ${stepList(left)} again, newest first`,
        });
      }
      return { stopped, undone, at: step, failure, left };
    }
    return { stopped: false, undone };
  }

  /** The run cannot turn back: say what is in service and how to go forward from here. */
  #forwardFix(failed: { step: Step; failure?: RunMessage } | undefined, outcome: RollbackOutcome, point: Step | undefined): void {
    const { emit, runId, runbook } = this.#options;
    const undone = new Set(outcome.undone);
    const inService = this.#effective.map(({ step }) => step).filter((step) => !undone.has(step));
    const why = point
      ? `${point.id} (line ${point.block.span.start.line}) is irreversible and took effect: the rollbacks of the steps before it were not run`
      : `the rollback of ${outcome.stopped === 'refused' ? outcome.at.id : '?'} refused: ${outcome.stopped === 'refused' ? outcome.failure.reason : ''}; the earlier rollbacks were not run`;
    const at = failed?.failure ? startOf(failed.failure) : undefined;
    const where = failed?.failure && at ? ` ${failed.step.id} failed at ${failed.failure.file}:${at.line}:${at.column}.` : '';
    // The failed step itself is probed on resume when it was not undone: its effect may stand.
    const probe = failed && !undone.has(failed.step) ? failed.step.id : undefined;
    const last = inService.at(-1);
    const message = [
      `forward fix needed: ${why}.${where}`,
      `In service: ${inService.length ? `what ${inService.map((step) => step.id).join(', ')} did (up to ${last!.id}, line ${last!.block.span.start.line})` : 'nothing this run changed'}${undone.size ? `; rolled back: ${[...undone].map((step) => step.id).join(', ')}` : ''}.`,
      `Next: fix the cause, then \`runbook resume ${runId}\` (goes forward: finished steps are not run again${probe ? `, ${probe}'s verify decides whether it already took effect` : ''}), or \`runbook run ${path.basename(runbook.file)}${this.#options.target.name !== 'local' ? ` --target ${this.#options.target.name}` : ''} --from ${probe ?? failed?.step.id ?? inService[0]?.id ?? '<step>'}\`.`,
    ].join(' ');
    emit({ kind: 'forward-fix', inService: inService.map((step) => step.id), probe, message });
    emit({ kind: 'notice', level: 'error', message });
  }

  async #runStep(step: Step, probeFirst: boolean): Promise<{ status: StepStatus; failure?: RunMessage }> {
    const { emit, target, interaction, yes, automate, runbook, operator } = this.#options;
    const started = performance.now();
    const end = (status: StepStatus, failure?: RunMessage, value?: unknown) => {
      emit({ kind: 'step-end', stepId: step.id, status, durationMs: performance.now() - started, failure, value });
      return { status, failure };
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
        this.#rememberEffect(step, probe);
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
      if (!operatorDoesManualSteps({ ...this.#options, sandbox: target.sandbox, automate })) {
        answered('manual', 'automate', target.sandbox ? { kind: 'sandbox' } : { kind: 'automate-flag' });
      } else if (!interaction.interactive) {
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
        // A retry starts from where the step started: the attempt before may have done part of its work.
        const undo = await this.#undoAttempt(step);
        if (undo) return end('failed', undo);
        await new Promise((resolve) => setTimeout(resolve, step.options.retryDelayMs * (attempt - 1)));
      }
      let result: StepResult;
      if (runBlock) {
        // From the moment the block begins, the step may have taken effect (part of it, at least): its own rollback
        // runs if the run turns back, whatever happens to the block.
        this.#rememberEffect(step, emptyResult(undefined));
        const outcome = await this.#runBlock(step.block, step, attempt, step.options.timeoutMs);
        result = toResult(outcome);
        this.#rememberEffect(step, result);
        if (outcome.failure?.ruleId === 'run-interrupted') return end('interrupted', outcome.failure);
        if (outcome.failure) {
          lastFailure = outcome.failure;
          continue;
        }
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

  /** Between two attempts of a step with a rollback, that rollback undoes what the failed attempt did. */
  async #undoAttempt(step: Step): Promise<RunMessage | undefined> {
    const { emit } = this.#options;
    const rollback = step.rollback;
    if (!rollback) return undefined;
    const effect = this.#effective.find((entry) => entry.step === step);
    emit({ kind: 'rollback-begin', stepId: step.id, blockId: rollback.id, time: new Date().toISOString() });
    const outcome = await this.#runBlock(rollback, step, 1, timeoutOf(rollback, step.options.timeoutMs), effect?.result ?? emptyResult(undefined));
    this.#rollbackCounts[outcome.failure ? 'failed' : 'passed'] += 1;
    emit({ kind: 'rollback-end', stepId: step.id, blockId: rollback.id, status: outcome.failure ? 'failed' : 'passed', durationMs: outcome.durationMs, failure: outcome.failure });
    if (!outcome.failure) return undefined;
    const failure = outcome.failure;
    return diagnostic(`Unexpected failure of the rollback between attempts, expected it to undo the failed attempt (no retry): ${failure.reason}`, {
      file: failure.file ?? '',
      place: failure.place,
      ruleId: failure.ruleId ?? 'run-error',
      note: failure.note,
    });
  }

  #rememberEffect(step: Step, result: StepResult): void {
    const index = this.#effective.findIndex((entry) => entry.step === step);
    if (index >= 0) this.#effective.splice(index, 1);
    this.#effective.push({ step, result });
  }

  #checkExpects(step: Step, outcome: BlockOutcome): RunMessage | undefined {
    const { emit, redactor, runbook } = this.#options;
    // Line by line, as the output was shown: a secret form that ends in a newline must not swallow a line break.
    const printed = outcome.capture.lines.map((line) => `${redactor.redact(line.text)}\n`).join('');
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
    this.#capture = capture;
    let started = performance.now();
    const pending = this.#runtime.run({ file: runbook.file, block, step: { id: step.id, title: step.title, role: block.role, attempt }, result });
    void pending.started.then(() => (started = performance.now()));
    const end = await race(pending, timeoutMs, interrupt);
    let value: unknown;
    let exitCode: number | null = null;
    let failure: RunMessage | undefined;
    if (end === 'timeout' || end === 'interrupted') {
      // Stopped before anything else happens (above all, before any rollback): its JavaScript and its commands.
      await this.#runtime.stop();
      failure =
        end === 'timeout'
          ? diagnostic(`Unexpected ${block.role} still running after ${timeoutMs / 1000}s, expected it to end within its timeout (raise it with timeout=)`, { file: runbook.file, place: block.span, ruleId: 'run-timeout' })
          : diagnostic(`Unexpected interrupt, the ${block.role} was stopped`, { file: runbook.file, place: block.span, ruleId: 'run-interrupted' });
    } else if (end.kind === 'crashed') {
      failure = describeCrash(end.error, runbook.file, block, redactor, options.compiled);
      if (end.exitCode !== undefined) {
        failure = diagnostic(`Unexpected process.exit(${end.exitCode}) in a ${block.role} block, expected it to end by returning or throwing: it ended the block's runtime`, {
          file: runbook.file,
          place: block.span,
          ruleId: 'run-error',
        });
      }
    } else {
      ({ value, exitCode, failure } = end);
    }
    // Whatever a failed block left running in its thread (timers, unawaited promises) must not act later.
    if (failure && end !== 'timeout' && end !== 'interrupted') await this.#runtime.restart();
    this.#capture = undefined;
    capture.flush();
    const durationMs = performance.now() - started;
    emit({ kind: 'block-end', blockId: block.id, stepId: step.id, role: block.role, status: failure ? 'failed' : 'passed', durationMs, failure });
    return { value, capture, durationMs, exitCode, failure };
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
