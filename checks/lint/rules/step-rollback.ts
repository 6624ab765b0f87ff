import { fenceLineSpan } from '../../../runner/parse/index.ts';
import { stepMutation } from '../mutating.ts';
import type { LintRule } from '../types.ts';

/**
 * On failure the runner undoes completed steps in reverse; a mutating step without a rollback silently breaks that
 * chain. When nothing can be undone the author says so, with a reason, via `rollback=none reason="..."`.
 */
export const stepRollback: LintRule = {
  id: 'step-rollback',
  description: 'A mutating step has a rollback block, or says `rollback=none reason="..."`',
  severity: 'warning',
  check({ runbook, lines, report }) {
    for (const step of runbook.steps) {
      if (step.rollback && step.options.rollbackNone !== undefined) {
        report(
          `Unexpected \`rollback=none\` on step \`${step.id}\` that has a rollback block (line ${step.rollback.span.start.line}), expected one of them`,
          step.block.attributeSpans['rollback'],
          { severity: 'error' },
        );
        continue;
      }
      if (step.rollback || step.block.attributes['rollback'] !== undefined) continue;
      const why = stepMutation(step);
      if (!why) continue;
      report(
        `Unexpected mutating step \`${step.id}\` (it ${why}) with no rollback, expected a \`ts rollback\` block or \`rollback=none reason="..."\``,
        fenceLineSpan(step.block.span, lines.text(step.block.span.start.line)),
      );
    }
  },
};
