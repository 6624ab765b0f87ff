import { blockSyntaxDiagnostics } from '../../../runner/parse/index.ts';
import { stepMutation } from '../mutating.ts';
import type { LintRule } from '../types.ts';

/** A block that does not parse on its own would be refused by `run`: lint says so first, at the user's line. */
export const blockSyntax: LintRule = {
  id: 'block-syntax',
  description: 'Every code block parses on its own (unbalanced braces never reach another block)',
  check({ runbook, relay }) {
    for (const message of blockSyntaxDiagnostics(runbook)) relay(message);
  },
};

/**
 * A retry runs the step again on top of whatever its failed attempt did. For a step with an effect that is only
 * safe when its rollback undoes the attempt in between (the engine does that); with none, the effect may happen twice.
 */
export const retriesWithEffect: LintRule = {
  id: 'retries-effect',
  description: '`retries` on a step with an effect needs a rollback to run between attempts',
  check({ runbook, report }) {
    for (const step of runbook.steps) {
      if (step.options.retries === 0 || step.rollback) continue;
      const why = stepMutation(step);
      if (!why) continue;
      report(
        `Unexpected \`retries\` on step \`${step.id}\`, which ${why} and has no rollback to undo a failed attempt, expected a \`rollback\` block or no retries`,
        step.block.attributeSpans['retries'],
      );
    }
  },
};
