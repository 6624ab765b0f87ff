import type { AnsweredBy, EventOf, RunEvent, RunMessage, StepStatus } from './events.ts';

/** One run of one block (a retried step runs its block again). */
export interface BlockRun {
  time: string;
  durationMs?: number;
  status: 'running' | 'passed' | 'failed';
  output: string[];
  failure?: RunMessage;
  /** For a rollback: its place in the order rollbacks ran (1 = first). */
  rollbackOrder?: number;
}

export interface Answer {
  action: 'confirm' | 'manual';
  answer: string;
  by: AnsweredBy;
  time: string;
}

export interface StepRecord {
  id: string;
  title: string;
  line: number;
  /** `unreached`: planned, but the run stopped before it. `pending`: the record ends (a killed run) before it. */
  status: StepStatus | 'unreached' | 'pending' | 'running';
  time?: string;
  durationMs?: number;
  skip?: string;
  answers: Answer[];
  failure?: RunMessage;
}

export interface RollbackRecord {
  stepId: string;
  blockId: string;
  status: 'passed' | 'failed' | 'skipped' | 'running';
  time?: string;
  durationMs: number;
  failure?: RunMessage;
}

/**
 * What happened in a run, per step and per block, in plain data: built from the events alone (a live run, or a journal
 * read back by `runbook audit`), and what the executed-runbook reports (markdown, HTML) and the audit print render.
 */
export interface RunRecord {
  begin: EventOf<'run-begin'>;
  steps: Map<string, StepRecord>;
  blocks: Map<string, BlockRun[]>;
  /** In the order they ran, then those left undone. */
  rollbacks: RollbackRecord[];
  notices: EventOf<'notice'>[];
  end?: EventOf<'run-end'>;
  /** The step the run stopped at (failed or interrupted), if it did. */
  stoppedAt?: string;
}

/** Feeds events in, one at a time; `record()` is undefined until `run-begin` arrived. */
export class RecordBuilder {
  #record: RunRecord | undefined;
  #current = new Map<string, BlockRun>();

  record(): RunRecord | undefined {
    const record = this.#record;
    if (!record) return undefined;
    // A run that ended leaves its remaining steps unreached; one that was killed leaves them pending.
    for (const step of record.steps.values()) if (step.status === 'pending' && record.end) step.status = 'unreached';
    return record;
  }

  apply(event: RunEvent): void {
    if (event.kind === 'run-begin') {
      const steps = new Map<string, StepRecord>();
      for (const step of event.steps) {
        steps.set(step.id, { id: step.id, title: step.title, line: step.line, status: step.skip ? 'skipped' : 'pending', skip: step.skip, answers: [] });
      }
      this.#record = { begin: event, steps, blocks: new Map(), rollbacks: [], notices: [] };
      return;
    }
    const record = this.#record;
    if (!record) return;
    const step = 'stepId' in event ? record.steps.get(event.stepId) : undefined;
    switch (event.kind) {
      case 'step-begin':
        if (step) Object.assign(step, { status: 'running', time: step.time ?? event.time });
        break;
      case 'step-skip':
        if (step) Object.assign(step, { status: 'skipped', skip: event.reason });
        break;
      case 'block-begin': {
        const run: BlockRun = { time: event.time, status: 'running', output: [] };
        this.#current.set(event.blockId, run);
        const runs = record.blocks.get(event.blockId) ?? [];
        runs.push(run);
        record.blocks.set(event.blockId, runs);
        break;
      }
      case 'output':
        this.#current.get(event.blockId)?.output.push(event.text);
        break;
      case 'block-end': {
        const run = this.#current.get(event.blockId);
        if (run) Object.assign(run, { status: event.status, durationMs: event.durationMs, failure: event.failure });
        break;
      }
      case 'operator':
        if (step && event.answer !== '') step.answers.push({ action: event.action, answer: event.answer, by: event.by, time: event.time });
        break;
      case 'step-end':
        if (step) Object.assign(step, { status: event.status, durationMs: event.durationMs, failure: event.failure });
        if (event.status === 'failed' || event.status === 'interrupted') record.stoppedAt = event.stepId;
        break;
      case 'rollback-begin':
        record.rollbacks.push({ stepId: event.stepId, blockId: event.blockId, status: 'running', time: event.time, durationMs: 0 });
        break;
      case 'rollback-end': {
        const open = record.rollbacks.find((entry) => entry.blockId === event.blockId && entry.status === 'running');
        if (open) Object.assign(open, { status: event.status, durationMs: event.durationMs, failure: event.failure });
        else record.rollbacks.push({ stepId: event.stepId, blockId: event.blockId, status: event.status, durationMs: event.durationMs, failure: event.failure });
        const ran = record.rollbacks.filter((entry) => entry.status !== 'skipped');
        const run = record.blocks.get(event.blockId)?.at(-1);
        if (run && event.status !== 'skipped') run.rollbackOrder = ran.length;
        break;
      }
      case 'notice':
        record.notices.push(event);
        break;
      case 'run-end':
        record.end = event;
        break;
      default:
        break;
    }
  }
}

export function recordOf(events: readonly RunEvent[]): RunRecord | undefined {
  const builder = new RecordBuilder();
  for (const event of events) builder.apply(event);
  return builder.record();
}

export function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}
