import { reviveMessage, type Diagnostic } from '../../common/diagnostics.ts';
import type { Role, Span } from '../model.ts';

/**
 * A run failure is a diagnostic like a lint finding (`runner/diagnostics.ts`): place (the failing line or the block's
 * span), reason, rule id (`run-verify`, `run-expect`, `run-timeout`, `run-command`, `run-error`, `run-declined`,
 * `run-interrupted`, `run-refused`), note (the lines that explain it), actual/expected. Already redacted when emitted.
 */
export type RunMessage = Diagnostic;

export type StepStatus = 'passed' | 'failed' | 'skipped' | 'interrupted';
export type RunStatus = 'passed' | 'failed' | 'interrupted';

/** Step counts of a run: every reporter prints these, so they agree. `unreached`: planned, not run (the run stopped). */
export type StepCounts = Record<StepStatus | 'unreached', number>;
/** Rollbacks that ran (passed or failed) and those left undone because an earlier one failed (skipped). */
export type RollbackCounts = Record<'passed' | 'failed' | 'skipped', number>;

export interface PlannedStepInfo {
  id: string;
  title: string;
  line: number;
  /** Why the plan leaves the step out (`when=`, `--only`, `--from`, on demand); undefined when it is to run. */
  skip?: string;
}

/** A runnable block as the reports need it: its id, its step, its role and where it is in the document. */
export interface BlockInfo {
  id: string;
  stepId: string;
  role: Role;
  /** The whole fence; offsets index `RunDocument.source`. */
  span: Span;
}

/** The document a run executes, carried by `run-begin` so no reporter reads or parses the file again. */
export interface RunDocument {
  /** The path as given. */
  file: string;
  /** The path from the repository root (GitHub annotations need it), else as given. */
  repoPath: string;
  /** sha256 of the document as read. */
  digest: string;
  /** The text every offset refers to (line endings normalised). */
  source: string;
  /** Offset just after the front matter's closing fence; 0 without front matter. */
  frontMatterEnd: number;
  blocks: BlockInfo[];
}

/** Who ran the run: the operator and how they were identified (OS user, `git config user.email`). */
export interface Operator {
  name: string;
  email?: string;
  identifiedBy: string;
}

/** Facts an auditor needs about the run itself. */
export interface RunProvenance {
  operator: Operator;
  host: string;
  tool: string;
  node: string;
}

/** Who or what gave an answer to a confirm or manual step. */
export type AnsweredBy =
  | { kind: 'operator'; operator: Operator }
  | { kind: 'yes-flag' }
  | { kind: 'automate-flag' }
  | { kind: 'sandbox' };

/**
 * The one stream of facts a run produces. Reporters, the journal and the JSON reporter all read these; every field is
 * plain data (a message is a VFileMessage, plain fields too) and already redacted, so nothing downstream can leak a
 * secret. Blocks are named by id (`create-secret/verify-1`); titles and positions are in `run-begin`'s document.
 */
export type RunEvent =
  | {
      kind: 'run-begin';
      runId: string;
      file: string;
      target: string;
      sandbox: boolean;
      steps: PlannedStepInfo[];
      document: RunDocument;
      provenance: RunProvenance;
      time: string;
      resumed: boolean;
    }
  | { kind: 'step-begin'; stepId: string; attempt: number; time: string }
  | { kind: 'step-skip'; stepId: string; reason: string }
  | { kind: 'block-begin'; blockId: string; stepId: string; role: Role; time: string }
  | { kind: 'output'; blockId: string; stepId: string; role: Role; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'block-end'; blockId: string; stepId: string; role: Role; status: 'passed' | 'failed'; durationMs: number; failure?: RunMessage }
  | { kind: 'step-retry'; stepId: string; attempt: number; delayMs: number; failure: RunMessage }
  | {
      kind: 'operator';
      stepId: string;
      action: 'confirm' | 'manual';
      prose: string;
      /** '' while waiting for the operator; then yes / no (confirm) or done / automate / abort (manual). */
      answer: '' | 'yes' | 'no' | 'done' | 'automate' | 'abort';
      by: AnsweredBy;
      time: string;
    }
  | { kind: 'step-end'; stepId: string; status: StepStatus; durationMs: number; failure?: RunMessage; value?: unknown }
  | { kind: 'state'; stepId: string; state: Record<string, unknown>; secrets: string[] }
  | { kind: 'rollback-begin'; stepId: string; blockId: string; time: string }
  | { kind: 'rollback-end'; stepId: string; blockId: string; status: 'passed' | 'failed' | 'skipped'; durationMs: number; failure?: RunMessage }
  | { kind: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
  /** The run turns back: these rollbacks (newest first) are what it will undo. `runbook resume` finishes them. */
  | { kind: 'rollback-plan'; reason: 'failed' | 'interrupted'; stepIds: string[] }
  /**
   * The run cannot turn back (an irreversible step took effect, or a rollback refused): what stays in service, and
   * where `runbook resume` goes forward from (`probe`: the step whose verify decides whether it already took effect).
   */
  | { kind: 'forward-fix'; inService: string[]; probe?: string; message: string }
  | { kind: 'run-end'; status: RunStatus; exitCode: number; durationMs: number; counts: StepCounts; rollbacks: RollbackCounts };

export type EventKind = RunEvent['kind'];
export type EventOf<K extends EventKind> = Extract<RunEvent, { kind: K }>;

/** A reporter is an object of optional hooks, one per event kind, plus a catch-all and a close. */
export type Reporter = {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  close?(): void | Promise<void>;
} & { [K in EventKind as `on:${K}`]?: (event: EventOf<K>) => void };

/** An event read back from JSON (journal, redaction): its message is a VFileMessage again. */
export function reviveEvent(event: RunEvent): RunEvent {
  if ('failure' in event && event.failure) return { ...event, failure: reviveMessage(event.failure) } as RunEvent;
  return event;
}

/** How a person reads who answered: "operator alice <a@example.com> (OS user, git config user.email)", "--yes", ... */
export function describeAnswerer(by: AnsweredBy): string {
  switch (by.kind) {
    case 'operator': {
      const { name, email, identifiedBy } = by.operator;
      return `operator ${name}${email ? ` <${email}>` : ''} (identified by ${identifiedBy})`;
    }
    case 'yes-flag':
      return '--yes';
    case 'automate-flag':
      return '--automate';
    case 'sandbox':
      return 'sandbox automation';
  }
}
