import { diagnostic, severityOf, type Diagnostic, type Severity } from '../../common/diagnostics.ts';
import type { Point, Span } from '../model.ts';

/** A diagnostic as plain data, for crossing a thread (an Error subclass loses its fields in a structured clone). */
export interface PlainDiagnostic {
  reason: string;
  file: string;
  place?: Span | Point;
  ruleId: string;
  severity: Severity;
  source?: string;
  actual?: string;
  expected?: string[];
}

export function toPlainDiagnostic(message: Diagnostic): PlainDiagnostic {
  return {
    reason: message.reason,
    file: message.file ?? '',
    ...(message.place ? { place: message.place as Span | Point } : {}),
    ruleId: message.ruleId ?? 'runbook',
    severity: severityOf(message),
    ...(message.source ? { source: message.source } : {}),
    ...(message.actual !== undefined ? { actual: message.actual } : {}),
    ...(message.expected !== undefined ? { expected: message.expected } : {}),
  };
}

export function fromPlainDiagnostic(plain: PlainDiagnostic): Diagnostic {
  const { reason, ...init } = plain;
  return diagnostic(reason, init);
}
