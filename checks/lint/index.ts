import type { Diagnostic } from '../../common/diagnostics.ts';
import { LineIndex } from '../markdown.ts';
import { runRulesSync, type ParsedRunbook } from '../rule.ts';
import { lintRules } from './registry.ts';
import type { LintRule } from './types.ts';

export interface LintOptions {
  /** The rules to run; default: every registered rule. */
  rules?: readonly LintRule[];
}

/** Hygiene findings for a parsed runbook, in document order. Pure: reads nothing but its input. */
export function lintRunbook(parsed: ParsedRunbook, options: LintOptions = {}): Diagnostic[] {
  const context = { parsed, runbook: parsed.runbook, lines: new LineIndex(parsed.runbook.source) };
  return runRulesSync(options.rules ?? lintRules, context, parsed.runbook.file);
}

export { lintRules };
export type { LintContext, LintRule } from './types.ts';
