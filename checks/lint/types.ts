import type { Runbook } from '../../runner/model.ts';
import type { LineIndex } from '../markdown.ts';
import type { ParsedRunbook, SyncRule } from '../rule.ts';

export interface LintContext {
  parsed: ParsedRunbook;
  runbook: Runbook;
  lines: LineIndex;
}

/** A lint rule: `{ id, description, check(context) }`, synchronous, reporting through `context.report`. */
export type LintRule = SyncRule<LintContext>;
