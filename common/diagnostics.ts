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
}

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
  const rule = message.ruleId ? ` [${message.ruleId}]` : '';
  const level = severityOf(message) === 'error' ? '' : `${severityOf(message)}: `;
  return `${message.file ?? ''}:${formatPlace(message.place)}: ${level}${message.reason}${rule}`;
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
