import { diagnostic, startOf, type Diagnostic, type Severity } from '../common/diagnostics.ts';
import type { Point, Span } from '../runner/model.ts';
import type { ParseResult } from '../runner/parse/index.ts';

/** What every check reads: the parser's output, unchanged (runbook, its messages and the mdast tree). */
export type ParsedRunbook = ParseResult;

export interface ReportOptions {
  severity?: Severity;
  actual?: string;
  expected?: string[];
  /** Only for rules that relay another phase's diagnostics under their original id. */
  ruleId?: string;
}

/** `report(reason, place)`: the one way a rule speaks, bound to the rule's id like unified-lint-rule's `file.message`. */
export type Report = (reason: string, place: Span | Point | undefined, options?: ReportOptions) => void;

/** Passes on a message another phase made (a run failure from `--replay`) exactly as it is. */
export type Relay = (message: Diagnostic) => void;

/**
 * A check is a plain object so that adding one means adding a file and a line in a registry, nothing else.
 * `check` receives the shared context plus its own `report`.
 */
export interface Rule<Context, Result = void> {
  readonly id: string;
  readonly description: string;
  /** Default severity of what the rule reports; `report` may override per finding. */
  readonly severity?: Severity;
  check(context: Context & { report: Report; relay: Relay }): Result;
}

export type SyncRule<Context> = Rule<Context, void>;
export type AsyncRule<Context> = Rule<Context, void | Promise<void>>;

function reporterFor(rule: { id: string; severity?: Severity }, file: string, sink: Diagnostic[]): Report {
  return (reason, place, options = {}) => {
    sink.push(
      diagnostic(reason, {
        file,
        place,
        ruleId: options.ruleId ?? rule.id,
        severity: options.severity ?? rule.severity ?? 'error',
        source: 'runbook-checks',
        actual: options.actual,
        expected: options.expected,
      }),
    );
  };
}

/** A rule's own bug must not hide every other finding: it becomes one diagnostic, the way Playwright's multiplexer does. */
function crashed(rule: { id: string }, file: string, error: unknown): Diagnostic {
  const reason = error instanceof Error ? error.message : String(error);
  return diagnostic(`Unexpected crash in check \`${rule.id}\`: ${reason}`, { file, ruleId: rule.id, source: 'runbook-checks' });
}

export function runRulesSync<C>(rules: readonly SyncRule<C>[], context: C, file: string): Diagnostic[] {
  const sink: Diagnostic[] = [];
  for (const rule of rules) {
    try {
      rule.check({ ...context, report: reporterFor(rule, file, sink), relay: (message) => sink.push(message) });
    } catch (error) {
      sink.push(crashed(rule, file, error));
    }
  }
  return sortDiagnostics(sink);
}

export async function runRules<C>(rules: readonly AsyncRule<C>[], context: C, file: string): Promise<Diagnostic[]> {
  const sink: Diagnostic[] = [];
  await Promise.all(
    rules.map(async (rule) => {
      try {
        await rule.check({ ...context, report: reporterFor(rule, file, sink), relay: (message) => sink.push(message) });
      } catch (error) {
        sink.push(crashed(rule, file, error));
      }
    }),
  );
  return sortDiagnostics(sink);
}

/** Document order, so output reads top to bottom and tests can compare it as text. */
export function sortDiagnostics(messages: Diagnostic[]): Diagnostic[] {
  return messages.sort((a, b) => {
    const pa = startOf(a);
    const pb = startOf(b);
    return pa.line - pb.line || pa.column - pb.column || String(a.ruleId).localeCompare(String(b.ruleId));
  });
}
