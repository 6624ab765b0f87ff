import { VFileMessage } from 'vfile-message';
import type { Point, Span } from './position.ts';

/**
 * Every problem a user can fix in their document or invocation is a `VFileMessage` (the unified ecosystem's
 * diagnostic) with a place, a rule id and a severity; the CLI prints them one a line and never a stack trace.
 */
export type Diagnostic = VFileMessage;
export type Severity = 'error' | 'warning' | 'info';

export interface DiagnosticInit {
  file: string;
  place?: Span | Point;
  ruleId: string;
  severity?: Severity;
  source?: string;
  actual?: string;
  expected?: string[];
  /** Lines that explain the reason (a command's stderr lines, an assertion's diff); printed under it, indented. */
  note?: string;
}

/**
 * What can go wrong while a document runs. Each is a message like any other diagnostic (a place, a reason, a rule id),
 * so a run failure prints, serialises and reaches `check --replay` exactly as a lint or drift finding does.
 */
export const RUN_RULES = ['run-verify', 'run-expect', 'run-timeout', 'run-command', 'run-error', 'run-declined', 'run-interrupted', 'run-refused'] as const;
export type RunRule = (typeof RUN_RULES)[number];

export function diagnostic(reason: string, init: DiagnosticInit): Diagnostic {
  const message = new VFileMessage(reason, {
    place: init.place,
    ruleId: init.ruleId,
    source: init.source ?? 'runbook',
  });
  message.file = init.file;
  const severity = init.severity ?? 'error';
  message.fatal = severity === 'error' ? true : severity === 'warning' ? false : undefined;
  if (init.actual !== undefined) message.actual = init.actual;
  if (init.expected !== undefined) message.expected = init.expected;
  if (init.note !== undefined && init.note !== '') message.note = init.note;
  return message;
}

/**
 * A message read back from JSON (a journal line, a JSON report): the same fields on a real VFileMessage again. A
 * message that is still one is returned as it is.
 */
export function reviveMessage(data: unknown): Diagnostic {
  if (data instanceof VFileMessage) return data;
  const fields = (data ?? {}) as Partial<Record<'reason' | 'ruleId' | 'source' | 'file' | 'note' | 'actual', string>> & {
    place?: Span | Point;
    fatal?: boolean | null;
    expected?: string[];
  };
  const message = new VFileMessage(fields.reason ?? '', { place: fields.place, ruleId: fields.ruleId, source: fields.source });
  message.file = fields.file ?? '';
  message.fatal = fields.fatal ?? undefined;
  if (fields.note !== undefined) message.note = fields.note;
  if (fields.actual !== undefined) message.actual = fields.actual;
  if (fields.expected !== undefined) message.expected = fields.expected;
  return message;
}

export function severityOf(message: Diagnostic): Severity {
  return message.fatal === true ? 'error' : message.fatal === false ? 'warning' : 'info';
}

function formatPlace(place: Diagnostic['place']): string {
  if (!place) return '1:1';
  if ('start' in place) {
    const { start, end } = place;
    const head = `${start.line}:${start.column}`;
    return end && (end.line !== start.line || end.column !== start.column) ? `${head}-${end.line}:${end.column}` : head;
  }
  return `${place.line}:${place.column}`;
}

/** `FILE:LINE:COL[-LINE:COL]: message [rule-id]`, the format editors and CI annotations understand. */
export function formatDiagnostic(message: Diagnostic): string {
  return formatAs(message, message.file ?? '');
}

function formatAs(message: Diagnostic, file: string): string {
  const rule = message.ruleId ? ` [${message.ruleId}]` : '';
  const level = severityOf(message) === 'error' ? '' : `${severityOf(message)}: `;
  return `${file}:${formatPlace(message.place)}: ${level}${message.reason}${rule}`;
}

/**
 * The formatted line and, beneath it, the note's lines indented: what a person reads for one message. `file` replaces
 * the message's path for display (a report names the document relative to the repository).
 */
export function messageLines(message: Diagnostic, file?: string): string[] {
  const head = formatAs(message, file ?? message.file ?? '');
  const note = message.note ? message.note.split('\n').map((line) => `    ${line}`) : [];
  return [head, ...note];
}

export function startOf(message: Diagnostic): Point {
  const place = message.place;
  if (!place) return { line: 1, column: 1 };
  return 'start' in place ? place.start : place;
}

/** Thrown by phases for a mistake in the user's input; the CLI turns it into diagnostics and exit code 2. */
export class RunbookInputError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'RunbookInputError';
  }
}

export function hasErrors(messages: readonly Diagnostic[]): boolean {
  return messages.some((m) => m.fatal === true);
}
