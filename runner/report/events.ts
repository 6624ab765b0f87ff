import type { Role } from '../model.ts';

/** Where in the document something happened: every failure carries one. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

export interface Failure {
  /** One line saying what went wrong (already redacted). */
  message: string;
  location: Location;
  /** The lines that matter: a diff for expect, the stderr lines that look like errors for a command, ... */
  details: string[];
  /** e.g. 'error' | 'timeout' | 'verify' | 'expect' | 'declined' | 'interrupted' */
  kind: string;
}

export type StepStatus = 'passed' | 'failed' | 'skipped' | 'interrupted';
export type RunStatus = 'passed' | 'failed' | 'interrupted';

export interface PlannedStepInfo {
  id: string;
  title: string;
  line: number;
  skip?: string;
}

/**
 * The one stream of facts a run produces. Reporters, the journal and the JSON reporter all read these; every field is
 * plain data and already redacted, so nothing downstream can leak a secret.
 */
export type RunEvent =
  | {
      kind: 'run-begin';
      runId: string;
      file: string;
      target: string;
      sandbox: boolean;
      steps: PlannedStepInfo[];
      /** Where each runnable block sits in the document (first and last fence line), and where front matter ends. */
      layout: { blocks: { start: number; end: number }[]; frontMatterEnd: number };
      time: string;
      resumed: boolean;
    }
  | { kind: 'step-begin'; stepId: string; title: string; line: number; attempt: number }
  | { kind: 'step-skip'; stepId: string; title: string; line: number; reason: string }
  | { kind: 'block-begin'; stepId: string; role: Role; line: number }
  | { kind: 'output'; stepId: string; role: Role; stream: 'stdout' | 'stderr'; text: string }
  | { kind: 'block-end'; stepId: string; role: Role; line: number; status: 'passed' | 'failed'; durationMs: number; failure?: Failure }
  | { kind: 'step-retry'; stepId: string; attempt: number; delayMs: number; failure: Failure }
  | { kind: 'operator'; stepId: string; line: number; action: 'confirm' | 'manual'; prose: string; answer: string }
  | { kind: 'step-end'; stepId: string; title: string; line: number; status: StepStatus; durationMs: number; failure?: Failure; value?: unknown }
  | { kind: 'state'; stepId: string; state: Record<string, unknown>; secrets: string[] }
  | { kind: 'rollback-begin'; stepId: string; line: number }
  | { kind: 'rollback-end'; stepId: string; line: number; status: 'passed' | 'failed' | 'skipped'; durationMs: number; failure?: Failure }
  | { kind: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
  /** The run turns back: these rollbacks (newest first) are what it will undo. `runbook resume` finishes them. */
  | { kind: 'rollback-plan'; reason: 'failed' | 'interrupted'; stepIds: string[] }
  /**
   * The run cannot turn back (an irreversible step took effect, or a rollback refused): what stays in service, and
   * where `runbook resume` goes forward from (`probe`: the step whose verify decides whether it already took effect).
   */
  | { kind: 'forward-fix'; inService: string[]; probe?: string; message: string }
  | { kind: 'run-end'; status: RunStatus; exitCode: number; durationMs: number; counts: Record<StepStatus, number> };

export type EventKind = RunEvent['kind'];
export type EventOf<K extends EventKind> = Extract<RunEvent, { kind: K }>;

/** A reporter is an object of optional hooks, one per event kind, plus a catch-all and a close. */
export type Reporter = {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  close?(): void | Promise<void>;
} & { [K in EventKind as `on:${K}`]?: (event: EventOf<K>) => void };
